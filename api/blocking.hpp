#pragma once

#include "caf/actor_system.hpp"
#include "caf/expected.hpp"

#include "p2pd/actors/interface/interface_actor.hpp"
#include "p2pd/actors/ntp/ntp_clock.hpp"
#include "p2pd/actors/signal/node/signal_node.hpp"
#include "p2pd/actors/stun/external_address.hpp"
#include "p2pd/actors/stun/nat_probe.hpp"
#include "p2pd/actors/stun/stun_server.hpp"
#include "p2pd/api/runtime.hpp"

namespace p2pd {

// The blocking helpers for code outside actors: each spawns or asks actors
// and waits for the answer on the calling thread. Actors never call them
// (they request the same from the actor instead).

/// probe_nat() from code outside actors.
caf::expected<nat_report> probe_nat(runtime& rt, const nat_probe_spec& spec);

/// discover_external() from code outside actors.
caf::expected<net::route> discover_external(runtime& rt, const net::route& r,
                                            const external_spec& spec);

/// Opens a STUN server (plan_stun_server, then opens its pipes); its pipes
/// belong to `rt`. Ports 0 are replaced by free ones of the primary IP,
/// found with pipes on port 0 through `spec.stack` (no socket of its own);
/// free ports that turn out to be taken on the alternate IP are picked
/// again, up to 8 times.
caf::expected<stun_server> start_stun_server(runtime& rt, stun_server_spec spec);

/// An interface actor and its first complete snapshot.
struct loaded_interface {
  interface_actor hdl;
  interface_snapshot state;
};

/// The seed's `await Interface().start()`: spawns an interface actor and waits
/// for its first refresh. Blocks the calling thread (not for actors: they
/// request refresh from the actor instead). Errors: no such interface, a
/// spec that check() refuses.
caf::expected<loaded_interface> load_interface(caf::actor_system& sys, interface_spec spec);

/// spawn_signal_node, then waits until the node listens on one channel
/// (online 1). Blocks the calling thread (not for actors: they request
/// `online` instead). Errors: spawn_signal_node's, or every channel's
/// subscription error (a channel whose broker is down answers within its
/// ack timeout).
caf::expected<signal_node_actor> start_signal_node(caf::actor_system& sys,
                                                   signal_node_spec spec);

/// One measurement of the local clock against NTP servers: spawns an NTP
/// clock (actors/ntp/ntp_clock.hpp) that measures once, waits for its
/// estimate and ends it. Blocks the calling thread for at most about
/// spec.measurement_time() (actors request get from their own clock
/// instead). Errors: spec.check()'s, or the measurement's (no server gave a
/// usable answer, with each server's reason).
caf::expected<clock_offset> measure_clock(caf::actor_system& sys, ntp_clock_spec spec);

} // namespace p2pd
