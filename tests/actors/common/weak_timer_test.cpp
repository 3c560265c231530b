#include "p2pd/actors/common/weak_timer.hpp"

#include <gtest/gtest.h>

#include "caf/actor_cast.hpp"
#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/scoped_actor.hpp"
#include "caf/send.hpp"

#include "p2pd/api/system_config.hpp"

using namespace p2pd;
using namespace p2pd::actors;
using namespace std::chrono_literals;

namespace {

using ping_atom = caf::atom_constant<caf::atom("p2tping")>;

caf::behavior idle(caf::event_based_actor*, int) {
  return {[](ping_atom) {}};
}

caf::weak_actor_ptr weak_of(const caf::actor& a) {
  return caf::actor_cast<caf::weak_actor_ptr>(a);
}

} // namespace

TEST(WeakTimer, FiresOnce) {
  config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  auto t = start_weak_timer(sys, weak_of(caf::actor{self}), 1ms,
                            caf::make_message(ping_atom::value));
  self->monitor(t);
  int pings = 0;
  bool timer_ended = false;
  for (int i = 0; i < 2; ++i)
    self->receive([&](ping_atom) { ++pings; }, [&](caf::down_msg&) { timer_ended = true; },
                  caf::after(10s) >> [] {});
  EXPECT_EQ(pings, 1);
  EXPECT_TRUE(timer_ended);
}

TEST(WeakTimer, DoesNotKeepItsTargetAlive) {
  config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  auto target = sys.spawn(idle, 0);
  auto t = start_weak_timer(sys, weak_of(target), std::chrono::hours(1),
                            caf::make_message(ping_atom::value));
  self->monitor(target);
  target = nullptr; // the timer's reference is the only one left, and weak
  bool down = false;
  self->receive([&](caf::down_msg&) { down = true; }, caf::after(10s) >> [] {});
  EXPECT_TRUE(down);
  caf::anon_send_exit(t, caf::exit_reason::user_shutdown); // or the system waits an hour
}

TEST(WeakTicker, SendsEveryIntervalUntilStopped) {
  config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  auto t = start_weak_ticker(sys, weak_of(caf::actor{self}), 1ms,
                             caf::make_message(ping_atom::value));
  int pings = 0;
  for (int i = 0; i < 3; ++i)
    self->receive([&](ping_atom) { ++pings; }, caf::after(10s) >> [] {});
  EXPECT_EQ(pings, 3);
  self->monitor(t);
  caf::anon_send_exit(t, caf::exit_reason::user_shutdown);
  bool stopped = false;
  while (!stopped)
    self->receive([](ping_atom) {}, [&](caf::down_msg&) { stopped = true; },
                  caf::after(10s) >> [&] { stopped = true; ADD_FAILURE() << "still ticking"; });
}

TEST(WeakTicker, EndsOnceItsTargetIsGone) {
  config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  auto target = sys.spawn(idle, 0);
  auto t = start_weak_ticker(sys, weak_of(target), 1ms, caf::make_message(ping_atom::value));
  self->monitor(t);
  target = nullptr;
  bool ended = false;
  self->receive([&](caf::down_msg&) { ended = true; }, caf::after(10s) >> [] {});
  EXPECT_TRUE(ended);
}
