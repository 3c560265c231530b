// The epoch rules of NAT-PMP (RFC 6886 §3.6) and PCP (RFC 6887 §8.5): when
// a client concludes that the gateway lost its mappings and renews them all.
#include <gtest/gtest.h>

#include "p2pd/net/portmap/natpmp.hpp"
#include "p2pd/net/portmap/pcp.hpp"

using namespace p2pd::net;

TEST(NatpmpEpoch, EpochKeepingPaceWithTheClientIsNoRestart) {
  EXPECT_FALSE(natpmp_restarted(1000, 1080, 80));
}

TEST(NatpmpEpoch, EpochGoingBackwardsIsARestart) {
  EXPECT_TRUE(natpmp_restarted(1000, 5, 80));
}

TEST(NatpmpEpoch, GatewayClockSevenEighthsAsFastLessTwoSecondsIsNoRestart) {
  // Expected at least 1000 + 80 * 7/8 = 1070; 2 s less is still fine.
  EXPECT_FALSE(natpmp_restarted(1000, 1068, 80));
}

TEST(NatpmpEpoch, EpochMoreThanTwoSecondsBelowTheEstimateIsARestart) {
  EXPECT_TRUE(natpmp_restarted(1000, 1067, 80));
}

TEST(NatpmpEpoch, SameEpochAtOnceIsNoRestart) {
  EXPECT_FALSE(natpmp_restarted(1000, 1000, 0));
}

TEST(PcpEpoch, EpochKeepingPaceWithTheClientIsValid) {
  EXPECT_FALSE(pcp_lost_state(1000, 1100, 100));
}

TEST(PcpEpoch, EpochBackByOneSecondIsReorderingNotLostState) {
  EXPECT_FALSE(pcp_lost_state(1000, 999, 0));
}

TEST(PcpEpoch, EpochBackByTwoSecondsIsLostState) {
  EXPECT_TRUE(pcp_lost_state(1000, 998, 0));
}

TEST(PcpEpoch, ServerClockFarBehindTheClientsIsLostState) {
  // 90 + 2 < 100 - 100/16
  EXPECT_TRUE(pcp_lost_state(1000, 1090, 100));
}

TEST(PcpEpoch, ServerClockFarAheadOfTheClientsIsLostState) {
  // 100 + 2 < 110 - 110/16
  EXPECT_TRUE(pcp_lost_state(1000, 1110, 100));
}

TEST(PcpEpoch, ServerClockSlowerWithinTwoSecondsAndASixteenthIsValid) {
  // 95 + 2 >= 100 - 100/16
  EXPECT_FALSE(pcp_lost_state(1000, 1095, 100));
}

TEST(PcpEpoch, ServerClockFasterWithinTwoSecondsAndASixteenthIsValid) {
  // 100 + 2 >= 105 - 105/16
  EXPECT_FALSE(pcp_lost_state(1000, 1105, 100));
}
