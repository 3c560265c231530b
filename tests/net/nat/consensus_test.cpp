#include <gtest/gtest.h>

#include "p2pd/net/nat/consensus.hpp"

#include "support/values.hpp"

using namespace p2pd::net;
using p2pd::test::ip;

TEST(Consensus, FirstAddressToReachMinAgreeWins) {
  auto got = agreed_address({ip("1.1.1.1"), ip("2.2.2.2"), ip("2.2.2.2"), ip("1.1.1.1")}, 2);
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, ip("2.2.2.2"));
}

TEST(Consensus, NothingWhenNoAddressGetsEnoughVotes) {
  EXPECT_FALSE(agreed_address({ip("1.1.1.1"), ip("2.2.2.2"), ip("3.3.3.3")}, 2));
  EXPECT_FALSE(agreed_address({}, 1));
}

TEST(Consensus, ALoneAnswerCountsWhenOneIsEnough) {
  EXPECT_EQ(agreed_address({ip("::1")}, 1), ip("::1"));
  EXPECT_EQ(agreed_address({ip("::1")}, 0), ip("::1")); // 0 means 1
}
