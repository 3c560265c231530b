#pragma once

#include "caf/io/broker.hpp"

#include "p2pd/actors/pipe/detail/pipe_atoms.hpp"
#include "p2pd/actors/pipe/detail/pipe_state.hpp"

namespace p2pd::actors {

using pipe_broker_ptr = caf::io::stateful_broker<pipe_state>*;

/// Opens the pipe as its spec says: adopts, binds, or resolves and connects.
/// Ends in st.opened() or st.open_failed(), now or after messages.
void start_open(pipe_broker_ptr self);

/// Handles the outcome of a connect attempt.
void on_connect_result(pipe_broker_ptr self, mux::connect_result& r);

} // namespace p2pd::actors
