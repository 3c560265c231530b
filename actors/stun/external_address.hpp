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
/// Errors: fewer servers of the route's family than `min_agree`
/// (errc::invalid_argument); no NIC address with an agreed answer
/// (errc::recv_timeout, saying per NIC address what each server gave).
///
/// Blocks the calling thread until the prober actor that does the work
/// (spawn_external_prober(), actors/stun/external_prober.hpp) answers: for
/// code outside actors; an actor asks a prober itself.
caf::expected<net::route> discover_external(caf::actor_system& sys, const net::route& r,
                                            const external_spec& spec);

} // namespace p2pd
