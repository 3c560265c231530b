#pragma once

#include "caf/actor_system.hpp"

#include "p2pd/actors/daemon/daemon_spec.hpp"
#include "p2pd/messages/daemon.hpp"

namespace p2pd {

/// Spawns a daemon; the actor that sends it `listen` need not own it, but
/// whoever should learn of its failure must monitor or link it.
daemon_actor spawn_daemon(caf::actor_system& sys, daemon_spec spec);

} // namespace p2pd
