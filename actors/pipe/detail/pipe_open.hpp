#pragma once

#include "p2pd/actors/pipe/detail/pipe_atoms.hpp"
#include "p2pd/actors/pipe/detail/pipe_state.hpp"

namespace p2pd::actors {

/// Opens the pipe as its spec says: adopts, binds, or resolves and connects.
/// Ends in st.opened() or st.open_failed(), now or after transport events.
void start_open(pipe_state& st);

} // namespace p2pd::actors
