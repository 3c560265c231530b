#pragma once

#include "caf/actor_system.hpp"
#include "caf/expected.hpp"
#include "caf/scoped_actor.hpp"

#include "p2pd/actors/pipe/pipe_spec.hpp"
#include "p2pd/messages/pipe.hpp"

namespace p2pd {

/// Spawns a pipe actor for `spec`. It opens on its first open request, whose
/// sender becomes its owner; see pipe_actor for the interface. The system
/// must have loaded the middleman (caf::io::middleman) with its default
/// (epoll) multiplexer.
pipe_actor spawn_pipe(caf::actor_system& sys, pipe_spec spec);

/// How long an open request may take: name resolution, then a connect to each
/// resolved address, plus a margin. The pipe answers within it.
caf::timespan open_timeout(const pipe_spec& spec);

/// Spawns a pipe for `spec` and opens it from `self`, which becomes its owner:
/// the pipe closes when `self` ends. Blocks `self` until the pipe is open or
/// has failed; for blocking code (workers, the runtime facade), not for
/// event-based actors.
caf::expected<pipe_info> open_pipe(caf::scoped_actor& self, pipe_spec spec);

/// Opens `pipe`, spawned but not yet opened, from `self` as open_pipe()
/// does, waiting at most `timeout` (open_timeout() of its spec): for pipes
/// that a network stack spawned (actors/stack/open_pipe_on.hpp).
caf::expected<pipe_info> open_pipe(caf::scoped_actor& self, const pipe_actor& pipe,
                                   caf::timespan timeout);

} // namespace p2pd
