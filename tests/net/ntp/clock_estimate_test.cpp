// The estimator: least delay per server, outliers by MAD, weighted mean.
#include <gtest/gtest.h>

#include "net/ntp/ntp_units.hpp"
#include "support/expect.hpp"

#include "p2pd/net/ntp/clock_estimate.hpp"

using namespace p2pd::net;
using namespace p2pd::test::ntp_units;

namespace {

ntp_sample sample(int64_t offset, int64_t delay, int64_t root = 0) {
  ntp_sample x;
  x.offset_ns = offset;
  x.delay_ns = delay;
  x.root_distance_ns = root;
  return x;
}

} // namespace

TEST(ClockEstimate, NoSamplesIsAnError) {
  EXPECT_ERRC(estimate_clock({}), errc::invalid_argument);
  EXPECT_ERRC(estimate_clock({{}, {}}), errc::invalid_argument);
}

TEST(ClockEstimate, OneServerTakesItsSampleWithTheLeastDelay) {
  auto e = estimate_clock({{sample(260 * ms, 40 * ms), sample(251 * ms, 2 * ms),
                            sample(240 * ms, 30 * ms)}});
  ASSERT_OK(e);
  EXPECT_EQ(e->offset_ns, 251 * ms);
  EXPECT_EQ(e->delay_ns, 2 * ms);
  EXPECT_EQ(e->error_ns, 1 * ms);
  EXPECT_EQ(e->used, std::vector<size_t>{0});
  EXPECT_TRUE(e->outliers.empty());
}

TEST(ClockEstimate, ServerFarFromTheOthersIsDroppedAsAnOutlier) {
  auto e = estimate_clock({{sample(250 * ms, 2 * ms)},
                           {sample(250 * ms + 300 * us, 2 * ms)},
                           {sample(750 * ms, 2 * ms)}, // a falseticker
                           {sample(250 * ms - 200 * us, 2 * ms)}});
  ASSERT_OK(e);
  EXPECT_EQ(e->outliers, std::vector<size_t>{2});
  EXPECT_EQ(e->used, (std::vector<size_t>{0, 1, 3}));
  // Equal errors: the plain mean, 250.033 ms; the bound rests on server 0.
  EXPECT_NEAR(e->offset_ns, 250 * ms + 33'333, 1);
  EXPECT_NEAR(e->error_ns, 33'333 + 1 * ms, 1);
}

TEST(ClockEstimate, ServerWithinItsOwnErrorIsNoOutlier) {
  // Three servers agree to the microsecond; a far one (40 ms delay) is
  // 5 ms off, well within its 20 ms bound.
  auto e = estimate_clock({{sample(100 * ms, 1 * ms)},
                           {sample(100 * ms + 1 * us, 1 * ms)},
                           {sample(100 * ms - 1 * us, 1 * ms)},
                           {sample(105 * ms, 40 * ms)}});
  ASSERT_OK(e);
  EXPECT_TRUE(e->outliers.empty());
  EXPECT_EQ(e->used.size(), 4u);
  // Its weight is 1/1600 of the others' (40 times the error): it moves the
  // estimate by 5 ms / 3.000625 / 1600 = 1.04 us.
  EXPECT_NEAR(e->offset_ns, 100 * ms + 1'041, 2);
}

TEST(ClockEstimate, TwoServersCannotOutvoteEachOther) {
  auto e = estimate_clock({{sample(0, 2 * ms)}, {sample(500 * ms, 2 * ms)}});
  ASSERT_OK(e);
  EXPECT_TRUE(e->outliers.empty());
  EXPECT_EQ(e->offset_ns, 250 * ms);
  // The bound says how little is known: 250 ms from the best sample, plus its 1 ms.
  EXPECT_EQ(e->error_ns, 251 * ms);
}

TEST(ClockEstimate, SamplesAreWeightedByTheirError) {
  // Errors 1 ms and 2 ms: weights 1 and 1/4; (0 * 1 + 3 ms / 4) / 1.25.
  auto e = estimate_clock({{sample(0, 2 * ms)}, {sample(3 * ms, 4 * ms)}});
  ASSERT_OK(e);
  EXPECT_EQ(e->offset_ns, 600 * us);
  EXPECT_EQ(e->error_ns, 600 * us + 1 * ms);
  EXPECT_EQ(e->delay_ns, 2 * ms);
}

TEST(ClockEstimate, RootDistanceCountsInTheError) {
  // Same delay, but server 1 is far from its own source: server 0 carries
  // the estimate.
  auto e = estimate_clock({{sample(10 * ms, 2 * ms, 0)}, {sample(10 * ms, 2 * ms, 99 * ms)}});
  ASSERT_OK(e);
  EXPECT_EQ(e->offset_ns, 10 * ms);
  EXPECT_EQ(e->error_ns, 1 * ms);
}

TEST(ClockEstimate, ServersWithoutSamplesAreSkipped) {
  auto e = estimate_clock({{}, {sample(-7 * ms, 2 * ms)}, {}});
  ASSERT_OK(e);
  EXPECT_EQ(e->used, std::vector<size_t>{1});
  EXPECT_EQ(e->offset_ns, -7 * ms);
}
