#pragma once

#include "caf/actor_system.hpp"

#include "p2pd/actors/pipe/pipe_spec.hpp"
#include "p2pd/messages/pipe.hpp"
#include "p2pd/sim/world/world.hpp"

namespace p2pd::actors {

/// Spawns a pipe for `spec` on host `host` of the simulated network `w`:
/// the pipe core in an event-based actor over the host's host_udp and
/// host_tcp, with the pipe_actor interface of spawn_pipe(). Names resolve
/// through `spec.resolver` only, called inline (a sim stack's name book:
/// sim::sim_stack sets it), never getaddrinfo; IP literals always. Like the
/// memory transport it adopts no fds; its sockets bind the host's own
/// addresses (or the any address).
pipe_actor spawn_sim_pipe(caf::actor_system& sys, sim::world_ptr w, sim::host_id host,
                          pipe_spec spec);

} // namespace p2pd::actors
