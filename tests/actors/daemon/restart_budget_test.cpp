#include <gtest/gtest.h>

#include "p2pd/actors/daemon/restart_budget.hpp"

using namespace p2pd;
using namespace std::chrono_literals;

namespace {

restart_policy policy() {
  restart_policy p;
  p.intensity = 3;
  p.period = 1s;
  p.base_backoff = 10ms;
  p.max_backoff = 30ms;
  return p;
}

} // namespace

TEST(RestartBudget, BacksOffExponentiallyUpToTheMaximum) {
  actors::restart_budget b{policy()};
  caf::actor_clock::time_point t{};
  EXPECT_EQ(*b.on_failure(t), caf::timespan{10ms});
  EXPECT_EQ(*b.on_failure(t), caf::timespan{20ms});
  EXPECT_EQ(*b.on_failure(t), caf::timespan{30ms}); // 40 ms capped
}

TEST(RestartBudget, GivesUpPastTheIntensityWithinThePeriod) {
  actors::restart_budget b{policy()};
  caf::actor_clock::time_point t{};
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(b.on_failure(t + i * 100ms));
  EXPECT_FALSE(b.on_failure(t + 300ms));
}

TEST(RestartBudget, FailuresOutsideThePeriodAreForgotten) {
  actors::restart_budget b{policy()};
  caf::actor_clock::time_point t{};
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(b.on_failure(t));
  auto later = b.on_failure(t + 2s);
  ASSERT_TRUE(later);
  EXPECT_EQ(*later, caf::timespan{10ms}); // a fresh period backs off from the base
  EXPECT_EQ(b.total(), 4u);
}
