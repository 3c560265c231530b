#pragma once

#include "caf/actor.hpp"
#include "caf/actor_system.hpp"
#include "caf/message.hpp"
#include "caf/timespan.hpp"
#include "caf/weak_intrusive_ptr.hpp"

namespace p2pd::actors {

// CAF 0.17's delayed_send keeps a strong reference to its receiver until the
// timeout fires, so a self-addressed timer keeps an actor alive. That is
// harmless for a bounded wait that is due anyway (a pipe's receive timeout, a
// daemon's restart backoff, a channel's ack expiry: each says so where it is
// armed), but not for a timer that re-arms without end (a periodic refresh, a
// channel retrying a dead broker): the actor would outlive everyone who
// dropped it, and ~actor_system would wait for it forever. Such timers are
// small actors that hold their target weakly.

/// Sends `msg` to `dest` after `delay`, holding `dest` only weakly meanwhile
/// (sent without a sender). Returns the timer: an exit sent to it cancels it.
caf::actor start_weak_timer(caf::actor_system& sys, caf::weak_actor_ptr dest,
                            caf::timespan delay, caf::message msg);

/// Sends `msg` to `dest` every `interval` (the first after one interval),
/// holding `dest` only weakly; it ends by itself once `dest` is gone. Returns
/// the ticker: an exit sent to it stops it (so should `dest` when it ends,
/// or the system waits for the next tick to shut down).
caf::actor start_weak_ticker(caf::actor_system& sys, caf::weak_actor_ptr dest,
                             caf::timespan interval, caf::message msg);

} // namespace p2pd::actors
