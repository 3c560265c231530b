#pragma once

#include "caf/behavior.hpp"
#include "caf/io/broker.hpp"

#include "p2pd/actors/pipe/detail/pipe_state.hpp"

namespace p2pd::actors {

/// The behaviour of a pipe (see pipe_actor for its interface): one broker
/// owns the pipe's sockets on CAF's multiplexer thread.
caf::behavior pipe_broker(caf::io::stateful_broker<pipe_state>* self, pipe_spec spec);

} // namespace p2pd::actors
