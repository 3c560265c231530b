#pragma once

#include <cstddef>
#include <vector>

#include "caf/expected.hpp"

#include "caf/actor_system.hpp"

#include "p2pd/actors/stack/net_stack.hpp"
#include "p2pd/actors/stun/nat_probe.hpp"
#include "p2pd/actors/stun/stun_client.hpp"
#include "p2pd/actors/stun/stun_timing.hpp"
#include "p2pd/net/iface/route.hpp"

namespace p2pd {

/// How to learn a route's external addresses.
struct external_spec {
  /// STUN servers of the route's family; all are asked at once.
  std::vector<endpoint> servers;
  /// How many must name the same address for it to count.
  size_t min_agree = 2;
  /// STUN timing of each request (actors/stun/stun_timing.hpp says why).
  stun_timing timing = fast_stun_timing();
  /// The network the sockets are opened on (null: os_stack()).
  stack_ptr stack = os_stack();
};

/// Asks every server from a socket bound to each NIC address of `r` and
/// returns `r` with ext_ips filled: for each NIC address, the external
/// address `min_agree` servers agree on. Fails when no NIC address gets an
/// agreed answer, saying how many servers answered what.
///
/// Blocks the calling thread: a worker procedure, run through run_blocking
/// (never on an actor's thread) or from the facade (api/blocking.hpp).
caf::expected<net::route> discover_external(caf::actor_system& sys, const net::route& r,
                                            const external_spec& spec);

} // namespace p2pd
