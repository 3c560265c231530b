#pragma once

#include <cstdint>

#include "caf/actor_system.hpp"
#include "caf/expected.hpp"
#include "caf/meta/type_name.hpp"

#include "p2pd/node/node_messages.hpp"
#include "p2pd/rest/rest_spec.hpp"

namespace p2pd::rest {

/// What a REST server did; every refusal and drop has a counter. Ask the
/// server with stats_atom.
struct rest_stats {
  uint64_t connections = 0;          ///< HTTP connections accepted
  uint64_t connections_refused = 0;  ///< beyond max_connections: 503 and closed
  uint64_t requests = 0;             ///< requests parsed whole
  uint64_t malformed = 0;            ///< refused by the parser (4xx, 5xx), connection closed
  uint64_t timed_out = 0;            ///< not whole within request_deadline: 408, closed
  uint64_t unauthorized = 0;         ///< 401: no or a wrong token
  uint64_t forbidden = 0;            ///< 403: a foreign Origin or Host
  uint64_t messages_dropped = 0;     ///< pushed out of a full receive buffer
  uint64_t messages_unclaimed = 0;   ///< from a peer the server does not track
  uint32_t open_connections = 0;     ///< HTTP connections now
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, rest_stats& x) {
  return f(caf::meta::type_name("p2pd::rest_stats"), x.connections, x.connections_refused,
           x.requests, x.malformed, x.timed_out, x.unauthorized, x.forbidden,
           x.messages_dropped, x.messages_unclaimed, x.open_connections);
}

/// Starts the REST API of `node` (design-notes "REST API"): loads or
/// creates the token, spawns the server actor and a daemon whose TCP
/// listeners (loopback only) feed it, subscribes it to the node, and
/// returns once it listens. Blocking: for main() and other code outside
/// actors. The server ends when sent an exit, when asked caf::close_atom
/// (answered once its listeners are closed), or when the node ends.
///
/// Errors: a bind address that is not loopback (errc::invalid_argument);
/// the token file's (errc::bad_key_file, errc::io_failed); the daemon's (a
/// port in use: errc::bind_failed, errc::port_locked).
caf::expected<rest_server_info> start_rest_server(caf::actor_system& sys, const node_actor& node,
                                                  const rest_spec& spec);

} // namespace p2pd::rest
