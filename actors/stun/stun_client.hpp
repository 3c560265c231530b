#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "caf/actor_system.hpp"
#include "caf/replies_to.hpp"
#include "caf/timespan.hpp"
#include "caf/typed_actor.hpp"

#include "p2pd/actors/stun/stun_timing.hpp"
#include "p2pd/messages/pipe.hpp"
#include "p2pd/net/stun/stun_message.hpp"

namespace p2pd {

/// A binding request: to `server`, through `pipe` (so that the mapping it
/// creates is the pipe's), optionally asking the server to answer from its
/// other address and/or port.
struct stun_query {
  pipe_actor pipe;
  endpoint server;
  net::stun_change_request change;
  bool rfc3489 = false; ///< a classic request: 16-byte id, no cookie
};

/// What a server answered.
struct stun_binding {
  endpoint mapped;           ///< XOR-MAPPED-ADDRESS, else MAPPED-ADDRESS
  endpoint responder;        ///< the address the answer came from
  /// RESPONSE-ORIGIN (or SOURCE-ADDRESS); port 0 when the server sent none.
  endpoint response_origin;
  /// OTHER-ADDRESS (or CHANGED-ADDRESS); port 0 when the server sent none.
  endpoint other_address;
  caf::timespan rtt{};       ///< from the last send to the answer
  uint32_t sends = 0;
};

using stun_atom = caf::atom_constant<caf::atom("p2stun")>;

/// The STUN client: runs binding transactions over pipes. Answers with the
/// binding, or errc::recv_timeout (no answer after the retransmissions),
/// errc::invalid_argument (an error response, or one without an address).
using stun_client_actor =
  caf::typed_actor<caf::replies_to<stun_atom, stun_query>::with<stun_binding>>;

stun_client_actor spawn_stun_client(caf::actor_system& sys, stun_timing timing = {});

/// How long a stun_atom request may take with `timing`, plus a margin.
caf::timespan stun_deadline(const stun_timing& timing, net::protocol proto);

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stun_query& x) {
  return f(caf::meta::type_name("p2pd::stun_query"), x.pipe, x.server, x.change.change_ip,
           x.change.change_port, x.rfc3489);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stun_binding& x) {
  return f(caf::meta::type_name("p2pd::stun_binding"), x.mapped, x.responder,
           x.response_origin, x.other_address, x.rtt, x.sends);
}

} // namespace p2pd
