#include "p2pd/actors/common/lifecycle.hpp"

#include <gtest/gtest.h>

#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/scoped_actor.hpp"
#include "caf/send.hpp"
#include "caf/stateful_actor.hpp"

#include "p2pd/api/system_config.hpp"

using namespace p2pd;
using namespace p2pd::actors;
using namespace std::chrono_literals;

namespace {

using done_atom = caf::atom_constant<caf::atom("p2tdone")>;
using starts_atom = caf::atom_constant<caf::atom("p2tstarts")>;

struct closer_state {
  lifecycle life;
  int closes_started = 0;
};

// Closes when told `done`, as an actor whose close waits for others would.
caf::behavior closer(caf::stateful_actor<closer_state>* self, int) {
  return {
    [self](caf::close_atom) -> caf::result<caf::ok_atom> {
      auto& st = self->state;
      auto rp = st.life.wait_close(self);
      if (!st.life.begin_close())
        return rp;
      ++st.closes_started;
      return rp;
    },
    [self](starts_atom) { return self->state.closes_started; },
    [self](done_atom) {
      self->state.life.closed();
      self->quit();
    },
  };
}

} // namespace

TEST(Lifecycle, StartsOpenAndBeginsACloseOnce) {
  lifecycle life;
  EXPECT_EQ(life.phase(), life_phase::open);
  EXPECT_FALSE(life.closing());
  EXPECT_TRUE(life.begin_close());
  EXPECT_TRUE(life.closing());
  EXPECT_FALSE(life.begin_close());
  life.closed();
  EXPECT_EQ(life.phase(), life_phase::closed);
  EXPECT_TRUE(life.closing());
  EXPECT_FALSE(life.begin_close());
}

TEST(Lifecycle, EveryCloseRequestIsAnsweredOnceClosedAndOnlyThen) {
  config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  auto a = sys.spawn(closer, 0);
  auto first = self->request(a, 10s, caf::close_atom::value);
  auto second = self->request(a, 10s, caf::close_atom::value);
  int starts = -1;
  self->request(a, 10s, starts_atom::value)
    .receive([&](int n) { starts = n; }, [&](caf::error& err) { FAIL() << sys.render(err); });
  EXPECT_EQ(starts, 1); // the second request joined the first close
  caf::anon_send(a, done_atom::value);
  int answered = 0;
  for (auto* h : {&first, &second})
    h->receive([&](caf::ok_atom) { ++answered; },
               [&](caf::error& err) { ADD_FAILURE() << sys.render(err); });
  EXPECT_EQ(answered, 2);
}
