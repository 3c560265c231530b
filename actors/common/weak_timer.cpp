#include "p2pd/actors/common/weak_timer.hpp"

#include "caf/actor_cast.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/send.hpp"

namespace p2pd::actors {

namespace {

using fire_atom = caf::atom_constant<caf::atom("p2fire")>;

caf::behavior weak_timer(caf::event_based_actor* self, caf::weak_actor_ptr dest,
                         caf::timespan delay, caf::message msg) {
  self->delayed_send(self, delay, fire_atom::value);
  return {
    [self, dest, msg](fire_atom) {
      if (auto hdl = dest.lock())
        caf::anon_send(caf::actor_cast<caf::actor>(std::move(hdl)), msg);
      self->quit();
    },
  };
}

} // namespace

caf::actor start_weak_timer(caf::actor_system& sys, caf::weak_actor_ptr dest,
                            caf::timespan delay, caf::message msg) {
  return sys.spawn(weak_timer, std::move(dest), delay, std::move(msg));
}

} // namespace p2pd::actors
