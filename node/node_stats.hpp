#pragma once

#include <cstdint>

#include "caf/meta/type_name.hpp"

namespace p2pd {

/// What a node did; every refusal has a counter.
struct node_stats {
  uint64_t connects = 0;             ///< connect requests answered with a connection
  uint64_t connects_failed = 0;
  uint64_t inbound = 0;              ///< peer connections accepted (hello checked)
  uint64_t refused_auth = 0;         ///< TLS failed: no or a wrong node certificate
  uint64_t refused_hello = 0;        ///< no, a malformed or an unexpected hello
  uint64_t refused_reverse = 0;      ///< a reverse hello for a connect nobody asked for
  uint64_t refused_requests = 0;     ///< reverse requests over the limit or malformed
  uint64_t refused_addresses = 0;    ///< peer addresses that did not parse or verify
  uint64_t messages_in = 0;
  uint64_t messages_out = 0;
  uint64_t bytes_in = 0;             ///< application bytes of messages_in
  uint64_t bytes_out = 0;            ///< application bytes of messages_out
  uint64_t idle_closed = 0;
  uint64_t child_restarts = 0;       ///< interface actors, signal node, daemon restarted
  uint64_t punches = 0;              ///< punches that ended in a connection (either side)
  uint64_t punches_failed = 0;       ///< punches that ended without one (either side)
  uint64_t refused_punch = 0;        ///< punch messages refused: malformed, unasked, over the limit
  uint32_t connections = 0;          ///< open now
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_stats& x) {
  return f(caf::meta::type_name("p2pd::node_stats"), x.connects, x.connects_failed, x.inbound,
           x.refused_auth, x.refused_hello, x.refused_reverse, x.refused_requests,
           x.refused_addresses, x.messages_in, x.messages_out, x.bytes_in, x.bytes_out,
           x.idle_closed, x.child_restarts, x.punches, x.punches_failed, x.refused_punch,
           x.connections);
}

} // namespace p2pd
