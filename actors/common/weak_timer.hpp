#pragma once

#include "caf/actor.hpp"
#include "caf/actor_system.hpp"
#include "caf/message.hpp"
#include "caf/timespan.hpp"
#include "caf/weak_intrusive_ptr.hpp"

namespace p2pd::actors {

/// Sends `msg` to `dest` after `delay`, holding `dest` only weakly meanwhile.
/// CAF 0.17's delayed_send keeps a strong reference to its receiver until the
/// timeout fires: a channel that keeps retrying a dead broker would stay
/// alive after everyone dropped it, and ~actor_system would wait for it
/// forever. Returns the timer: an exit sent to it cancels it.
caf::actor start_weak_timer(caf::actor_system& sys, caf::weak_actor_ptr dest,
                            caf::timespan delay, caf::message msg);

} // namespace p2pd::actors
