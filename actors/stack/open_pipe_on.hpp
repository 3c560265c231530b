#pragma once

#include "caf/expected.hpp"
#include "caf/scoped_actor.hpp"

#include "p2pd/actors/pipe/pipe_spec.hpp"
#include "p2pd/actors/stack/net_stack.hpp"
#include "p2pd/messages/pipe.hpp"

namespace p2pd {

/// open_pipe() on a stack: spawns the pipe with `stack.spawn_pipe` and opens
/// it from `self`, which becomes its owner (the pipe closes when `self`
/// ends). Blocks `self` until the pipe is open or has failed, within
/// open_timeout(spec): for code outside actors (tools, tests) and blocking
/// jobs, never for an event-based actor (the STUN probers open theirs with
/// a request, actors/stun/detail/probe_steps.hpp).
caf::expected<pipe_info> open_pipe_on(caf::scoped_actor& self, const net_stack& stack,
                                      pipe_spec spec);

} // namespace p2pd
