#include "p2pd/net/punch/replay_window.hpp"

#include <cstdint>
#include <random>
#include <set>

#include <gtest/gtest.h>

using namespace p2pd::net;

TEST(ReplayWindow, AFirstCounterOfZeroIsFreshOnce) {
  replay_window w;
  EXPECT_FALSE(w.any());
  EXPECT_TRUE(w.fresh(0));
  w.accept(0);
  EXPECT_TRUE(w.any());
  EXPECT_FALSE(w.fresh(0));
  EXPECT_TRUE(w.fresh(1));
}

// Against a plain set of everything accepted: a counter is fresh exactly
// when it is above the top, or within the window and not in the set.
TEST(ReplayWindow, AgreesWithASetOverRandomArrivals) {
  replay_window w;
  std::set<uint64_t> seen;
  std::mt19937_64 rng{42};
  uint64_t top = 0;
  bool any = false;
  for (int i = 0; i < 200000; ++i) {
    // Mostly near the top, sometimes far behind, sometimes a jump ahead.
    uint64_t base = top + 64;
    uint64_t c = base > 2000 ? base - rng() % 2000 : rng() % 2000;
    if (rng() % 1000 == 0)
      c = top + rng() % 5000;
    bool expected = !any || c > top
                    || (top - c < replay_window_size && seen.count(c) == 0);
    ASSERT_EQ(w.fresh(c), expected) << "counter " << c << " top " << top;
    if (expected) {
      w.accept(c);
      seen.insert(c);
      if (!any || c > top)
        top = c;
      any = true;
    }
    ASSERT_EQ(w.highest(), top);
  }
}

TEST(ReplayWindow, TheTopCanReachTheLastCounter) {
  replay_window w;
  uint64_t max = UINT64_MAX;
  w.accept(max - 1000);
  w.accept(max);
  EXPECT_FALSE(w.fresh(max));
  EXPECT_FALSE(w.fresh(max - 1000));
  EXPECT_TRUE(w.fresh(max - 1));
  EXPECT_FALSE(w.fresh(max - replay_window_size));
}
