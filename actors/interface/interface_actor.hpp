#pragma once

#include "caf/actor_system.hpp"
#include "caf/expected.hpp"

#include "p2pd/actors/interface/interface_spec.hpp"
#include "p2pd/messages/interface.hpp"

namespace p2pd {

/// Spawns an interface actor (see interface_actor) for `spec`. It reads its
/// NIC at once and starts the first refresh; `get` answers from the start,
/// `refresh` when a refresh has ended. When the NIC cannot be found or the
/// spec is refused (interface_spec::check()) it quits with that error
/// (monitors see it; load_interface() reports it).
///
/// With a refresh_interval it refreshes by itself; the timer does not keep it
/// alive: it ends like any actor when the last handle to it is gone.
interface_actor spawn_interface(caf::actor_system& sys, interface_spec spec);

} // namespace p2pd
