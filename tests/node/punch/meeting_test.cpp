// When the two sides of a punch start (node/punch/meeting.hpp).
#include "p2pd/node/punch/meeting.hpp"

#include <gtest/gtest.h>

using namespace p2pd::node;

TEST(Meeting, TheInitiatorWaitsHalfTheRoundTripAndTheMargin) {
  auto m = plan_meeting(1'000'000, std::nullopt, millis{80}, millis{20});
  EXPECT_EQ(m.wait, millis{60});
  EXPECT_EQ(m.start_unix_ms, 1'000'060);
  EXPECT_FALSE(m.synced);
}

TEST(Meeting, ASyncedInitiatorStatesTheStartOnTheSharedClock) {
  auto m = plan_meeting(1'000'000, int64_t{-250}, millis{80}, millis{20});
  EXPECT_TRUE(m.synced);
  EXPECT_EQ(m.start_unix_ms, 1'000'000 - 250 + 60);
  EXPECT_EQ(m.wait, millis{60});
}

TEST(Meeting, AnUnsyncedResponderWaitsTheMarginOnly) {
  // Its clock is an hour off: the stated time means nothing to it.
  auto w = responder_wait(1'000'060, false, 4'600'000, std::nullopt, millis{20});
  ASSERT_TRUE(w);
  EXPECT_EQ(*w, millis{20});
}

TEST(Meeting, ASyncedResponderAimsAtTheSharedTime) {
  // Initiator: its clock 250 ms ahead of true time, start at true 1'000'000.
  // Responder: its clock 100 ms behind true time, the sync arrives at true
  // 999'970 (a quick one-way path): it waits the 30 ms left.
  auto w = responder_wait(1'000'000, true, 999'870, int64_t{100}, millis{20});
  ASSERT_TRUE(w);
  EXPECT_EQ(*w, millis{30});
}

TEST(Meeting, ASyncedResponderWithoutItsOwnClockWaitsTheMargin) {
  auto w = responder_wait(1'000'000, true, 999'000, std::nullopt, millis{20});
  ASSERT_TRUE(w);
  EXPECT_EQ(*w, millis{20});
}

TEST(Meeting, AMeetingInThePastStartsAtOnce) {
  auto w = responder_wait(1'000'000, true, 1'000'500, int64_t{0}, millis{20});
  ASSERT_TRUE(w);
  EXPECT_EQ(*w, millis{0});
}

TEST(Meeting, AMeetingTooFarAheadIsRefused) {
  auto w = responder_wait(1'000'000 + max_meeting_ahead.count() + 1, true, 1'000'000,
                          int64_t{0}, millis{20});
  EXPECT_FALSE(w);
}
