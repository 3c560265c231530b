// The bound on what a pipe's handler hands to an actor (actors/common/
// bounded_inbox.hpp): full means dropped and counted, taken means room again,
// and a gone receiver leaves no slot taken.
#include "p2pd/actors/common/bounded_inbox.hpp"

#include <gtest/gtest.h>

#include "support/actors.hpp"

#include "p2pd/api/runtime.hpp"

using namespace p2pd;
using namespace p2pd::test;

namespace {

using bounded_test_atom = caf::atom_constant<caf::atom("p2tbndtst")>;

TEST(BoundedInbox, RefusesPastItsLimitAndCountsWhatItRefused) {
  bounded_inbox in{2};
  EXPECT_TRUE(in.enter());
  EXPECT_TRUE(in.enter());
  EXPECT_FALSE(in.enter());
  EXPECT_FALSE(in.enter());
  EXPECT_EQ(in.queued.load(), 2u);
  EXPECT_EQ(in.dropped.load(), 2u);
  in.leave();
  EXPECT_TRUE(in.enter());
  EXPECT_EQ(in.dropped.load(), 2u);
}

TEST(BoundedInbox, TellBoundedSendsWhileThereIsRoomAndNotToAGoneActor) {
  runtime rt;
  caf::scoped_actor self{rt.system()};
  bounded_inbox in{1};
  auto to = caf::actor_cast<caf::weak_actor_ptr>(self.ptr());
  tell_bounded(to, in, bounded_test_atom::value, 1);
  tell_bounded(to, in, bounded_test_atom::value, 2); // no room: dropped
  int got = 0;
  self->receive([&](bounded_test_atom, int x) { got = x; }, caf::after(2s) >> [] {});
  EXPECT_EQ(got, 1);
  EXPECT_EQ(in.dropped.load(), 1u);
  in.leave(); // the receiver took it
  caf::weak_actor_ptr gone;
  {
    caf::scoped_actor other{rt.system()};
    gone = caf::actor_cast<caf::weak_actor_ptr>(other.ptr());
  }
  tell_bounded(gone, in, bounded_test_atom::value, 3);
  EXPECT_EQ(in.queued.load(), 0u); // its slot given back
}

} // namespace
