#pragma once

#include "caf/message_handler.hpp"

#include "p2pd/actors/pipe/detail/pipe_state.hpp"

namespace p2pd::actors {

/// Sets up the core `ps` (its spec, queues, subscribers, down and exit
/// handlers on ps->self) and returns the handlers of the pipe_actor
/// interface and the core's own timeouts. The hosting actor sets
/// ps->transport first and adds its transport's handlers (or_else).
caf::message_handler pipe_core_behavior(pipe_state* ps, pipe_spec spec);

} // namespace p2pd::actors
