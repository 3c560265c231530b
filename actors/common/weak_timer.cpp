#include "p2pd/actors/common/weak_timer.hpp"

#include "caf/actor_cast.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/send.hpp"

namespace p2pd::actors {

namespace {

using fire_atom = caf::atom_constant<caf::atom("p2fire")>;

// Fires once, or every `delay` while `repeat`; ends when `dest` is gone.
caf::behavior weak_timer(caf::event_based_actor* self, caf::weak_actor_ptr dest,
                         caf::timespan delay, caf::message msg, bool repeat) {
  self->delayed_send(self, delay, fire_atom::value);
  return {
    [self, dest, delay, msg, repeat](fire_atom) {
      if (auto hdl = dest.lock()) {
        // The strong reference lives for this send only.
        caf::anon_send(caf::actor_cast<caf::actor>(std::move(hdl)), msg);
        if (repeat) {
          self->delayed_send(self, delay, fire_atom::value);
          return;
        }
      }
      self->quit();
    },
  };
}

} // namespace

caf::actor start_weak_timer(caf::actor_system& sys, caf::weak_actor_ptr dest,
                            caf::timespan delay, caf::message msg) {
  return sys.spawn(weak_timer, std::move(dest), delay, std::move(msg), false);
}

caf::actor start_weak_ticker(caf::actor_system& sys, caf::weak_actor_ptr dest,
                             caf::timespan interval, caf::message msg) {
  return sys.spawn(weak_timer, std::move(dest), interval, std::move(msg), true);
}

} // namespace p2pd::actors
