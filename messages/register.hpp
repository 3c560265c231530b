#pragma once

#include "caf/actor_system_config.hpp"

namespace p2pd {

/// Registers p2pd's message types and its error category with `cfg`; call it
/// before the actor_system is constructed. Local messaging works without it;
/// serialization and readable errors need it.
void register_types(caf::actor_system_config& cfg);

} // namespace p2pd
