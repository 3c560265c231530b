#pragma once

#include <cstddef>

#include "caf/actor_system_config.hpp"

#include "p2pd/actors/common/run_blocking.hpp"

namespace p2pd {

/// An actor_system_config with what p2pd needs: the middleman, p2pd's types,
/// and `threads` scheduler threads (CAF's default of 4 is too many on small
/// machines). A CAF application builds its actor system from it (or calls
/// register_types and register_node_types on its own config and loads the
/// middleman).
///
/// It is a blocking_config too: `executor` says where run_blocking runs
/// blocking work (a bounded thread pool; a simulation sets inline_executor()).
class config : public caf::actor_system_config, public blocking_config {
public:
  explicit config(size_t threads = 2);
};

} // namespace p2pd
