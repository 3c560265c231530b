#include "p2pd/net/crypto/replay_guard.hpp"

#include <cstdint>
#include <limits>

#include <algorithm>
#include <vector>

#include <gtest/gtest.h>

#include "support/printers.hpp"

using namespace p2pd::net;

namespace {

using verdict = replay_verdict;

constexpr int64_t t0 = 1'700'000'000'000; // ms since the epoch, a plausible "now"

node_id sender(uint8_t n) {
  node_id id;
  id.bytes[0] = n;
  return id;
}

message_id msg(uint32_t n) {
  message_id id{};
  id[0] = static_cast<uint8_t>(n);
  id[1] = static_cast<uint8_t>(n >> 8);
  id[2] = static_cast<uint8_t>(n >> 16);
  id[3] = static_cast<uint8_t>(n >> 24);
  return id;
}

replay_config small(size_t per_sender) {
  replay_config cfg;
  cfg.per_sender = per_sender;
  return cfg;
}

} // namespace

TEST(ReplayGuard, AcceptsAFreshMessage) {
  replay_guard g;
  EXPECT_EQ(g.check(sender(1), msg(1), t0, 10'000, t0), verdict::accepted);
  EXPECT_EQ(g.size(), 1u);
}

TEST(ReplayGuard, RefusesTheSameIdFromTheSameSenderAgain) {
  replay_guard g;
  ASSERT_EQ(g.check(sender(1), msg(1), t0, 10'000, t0), verdict::accepted);
  EXPECT_EQ(g.check(sender(1), msg(1), t0, 10'000, t0 + 5), verdict::replayed);
  EXPECT_EQ(g.check(sender(1), msg(1), t0, 10'000, t0 + 10'000), verdict::replayed);
}

TEST(ReplayGuard, AcceptsTheSameIdFromAnotherSender) {
  replay_guard g;
  ASSERT_EQ(g.check(sender(1), msg(1), t0, 10'000, t0), verdict::accepted);
  EXPECT_EQ(g.check(sender(2), msg(1), t0, 10'000, t0), verdict::accepted);
  EXPECT_EQ(g.check(sender(1), msg(2), t0, 10'000, t0), verdict::accepted);
}

TEST(ReplayGuard, RefusesAMessageWhoseTtlHasPassed) {
  replay_guard g;
  EXPECT_EQ(g.check(sender(1), msg(1), t0, 10'000, t0 + 10'001), verdict::expired);
  EXPECT_EQ(g.size(), 0u);
}

TEST(ReplayGuard, AcceptsAMessageInTheLastMillisecondOfItsTtl) {
  replay_guard g;
  EXPECT_EQ(g.check(sender(1), msg(1), t0, 10'000, t0 + 10'000), verdict::accepted);
  EXPECT_EQ(g.check(sender(1), msg(1), t0, 10'000, t0 + 10'000), verdict::replayed);
}

TEST(ReplayGuard, ZeroTtlIsValidOnlyAtItsTimestamp) {
  replay_guard g;
  EXPECT_EQ(g.check(sender(1), msg(1), t0, 0, t0), verdict::accepted);
  EXPECT_EQ(g.check(sender(1), msg(2), t0, 0, t0 + 1), verdict::expired);
}

TEST(ReplayGuard, RefusesAMessageFromBeyondTheAllowedSkew) {
  replay_guard g;
  EXPECT_EQ(g.check(sender(1), msg(1), t0 + 30'001, 10'000, t0), verdict::from_future);
  EXPECT_EQ(g.size(), 0u);
}

TEST(ReplayGuard, AcceptsAMessageWithinTheAllowedSkew) {
  replay_guard g;
  EXPECT_EQ(g.check(sender(1), msg(1), t0 + 30'000, 10'000, t0), verdict::accepted);
}

TEST(ReplayGuard, SkewIsConfigurable) {
  replay_config cfg;
  cfg.max_skew_ms = 0;
  replay_guard g{cfg};
  EXPECT_EQ(g.check(sender(1), msg(1), t0 + 1, 10'000, t0), verdict::from_future);
  EXPECT_EQ(g.check(sender(1), msg(2), t0, 10'000, t0), verdict::accepted);
}

TEST(ReplayGuard, CapsTheTtlAtTheConfiguredMaximum) {
  replay_config cfg;
  cfg.max_ttl_ms = 60'000;
  replay_guard g{cfg};
  // Asks for an hour, gets a minute.
  EXPECT_EQ(g.check(sender(1), msg(1), t0, 3'600'000, t0 + 60'001), verdict::expired);
  EXPECT_EQ(g.check(sender(1), msg(2), t0, 3'600'000, t0 + 60'000), verdict::accepted);
}

TEST(ReplayGuard, DefaultLimitsMatchWhatNodesSend) {
  replay_guard g;
  EXPECT_EQ(g.config().max_skew_ms, 30'000u);
  EXPECT_EQ(g.config().max_ttl_ms, 60'000u);
  EXPECT_EQ(g.config().per_sender, 4096u);
  EXPECT_EQ(g.config().max_entries, 65536u);
  EXPECT_EQ(g.config().max_senders, 1024u);
  EXPECT_EQ(g.check(sender(1), msg(1), t0, 0xffff'ffffu, t0 + 60'001), verdict::expired);
}

TEST(ReplayGuard, ForgetsEntriesOnceTheyExpireAndStillRefusesTheirCopies) {
  replay_guard g;
  ASSERT_EQ(g.check(sender(1), msg(1), t0, 1'000, t0), verdict::accepted);
  ASSERT_EQ(g.check(sender(1), msg(2), t0, 5'000, t0), verdict::accepted);
  EXPECT_EQ(g.size(), 2u);
  EXPECT_EQ(g.check(sender(1), msg(3), t0 + 2'000, 5'000, t0 + 2'000), verdict::accepted);
  EXPECT_EQ(g.size(), 2u) << "the first entry expired at t0 + 1000";
  EXPECT_EQ(g.check(sender(1), msg(1), t0, 1'000, t0 + 2'000), verdict::expired);
}

TEST(ReplayGuard, FullCacheDropsTheEntryThatExpiresFirst) {
  replay_guard g{small(3)};
  ASSERT_EQ(g.check(sender(1), msg(1), t0, 50'000, t0), verdict::accepted);
  ASSERT_EQ(g.check(sender(1), msg(2), t0, 10'000, t0), verdict::accepted); // expires first
  ASSERT_EQ(g.check(sender(1), msg(3), t0, 30'000, t0), verdict::accepted);
  ASSERT_EQ(g.check(sender(1), msg(4), t0, 40'000, t0), verdict::accepted);
  EXPECT_EQ(g.size(), 3u);
  EXPECT_EQ(g.counters().evicted, 1u);
  EXPECT_EQ(g.floor(sender(1)), t0 + 10'000);
  // The survivors are still known as such.
  EXPECT_EQ(g.check(sender(1), msg(1), t0, 50'000, t0), verdict::replayed);
  EXPECT_EQ(g.check(sender(1), msg(3), t0, 30'000, t0), verdict::replayed);
  EXPECT_EQ(g.check(sender(1), msg(4), t0, 40'000, t0), verdict::replayed);
}

TEST(ReplayGuard, EvictedIdCannotBeReplayed) {
  replay_guard g{small(1)};
  ASSERT_EQ(g.check(sender(1), msg(1), t0, 10'000, t0), verdict::accepted);
  ASSERT_EQ(g.check(sender(1), msg(2), t0, 20'000, t0), verdict::accepted); // pushes msg 1 out
  EXPECT_EQ(g.check(sender(1), msg(1), t0, 10'000, t0 + 1), verdict::too_old);
}

TEST(ReplayGuard, FloorRefusesMessagesExpiringNoLaterThanTheEvictedEntry) {
  replay_guard g{small(1)};
  ASSERT_EQ(g.check(sender(1), msg(1), t0, 10'000, t0), verdict::accepted);
  ASSERT_EQ(g.check(sender(1), msg(2), t0, 20'000, t0), verdict::accepted);
  ASSERT_EQ(g.floor(sender(1)), t0 + 10'000);
  // Expires exactly at the floor, and before it: refused, never seen or not.
  EXPECT_EQ(g.check(sender(1), msg(9), t0, 10'000, t0), verdict::too_old);
  EXPECT_EQ(g.check(sender(1), msg(9), t0 + 5'000, 1'000, t0), verdict::too_old);
  // One millisecond later is beyond the floor.
  EXPECT_EQ(g.check(sender(1), msg(9), t0, 10'001, t0), verdict::accepted);
}

TEST(ReplayGuard, OneSendersFloorDoesNotApplyToAnother) {
  replay_guard g{small(1)};
  ASSERT_EQ(g.check(sender(1), msg(1), t0, 10'000, t0), verdict::accepted);
  ASSERT_EQ(g.check(sender(1), msg(2), t0, 20'000, t0), verdict::accepted);
  ASSERT_EQ(g.floor(sender(1)), t0 + 10'000);
  EXPECT_EQ(g.check(sender(2), msg(9), t0, 1'000, t0), verdict::accepted);
}

TEST(ReplayGuard, NewMessageThatWouldExpireFirstIsAcceptedButItsCopyIsNot) {
  replay_guard g{small(2)};
  ASSERT_EQ(g.check(sender(1), msg(1), t0, 50'000, t0), verdict::accepted);
  ASSERT_EQ(g.check(sender(1), msg(2), t0, 60'000, t0), verdict::accepted);
  // The cache is full and this one expires before both: it is the one dropped.
  EXPECT_EQ(g.check(sender(1), msg(3), t0, 10'000, t0), verdict::accepted);
  EXPECT_EQ(g.floor(sender(1)), t0 + 10'000);
  EXPECT_EQ(g.size(), 2u);
  EXPECT_EQ(g.check(sender(1), msg(3), t0, 10'000, t0), verdict::too_old);
  EXPECT_EQ(g.check(sender(1), msg(1), t0, 50'000, t0), verdict::replayed);
}

TEST(ReplayGuard, EntriesAtTheNewFloorAreDroppedWithTheEvictedOne) {
  replay_guard g{small(3)};
  ASSERT_EQ(g.check(sender(1), msg(1), t0, 10'000, t0), verdict::accepted);
  ASSERT_EQ(g.check(sender(1), msg(5), t0, 10'000, t0), verdict::accepted); // same expiry
  ASSERT_EQ(g.check(sender(1), msg(2), t0, 20'000, t0), verdict::accepted);
  ASSERT_EQ(g.check(sender(1), msg(3), t0, 30'000, t0), verdict::accepted);
  // Both entries expiring at t0 + 10000 went: the floor covers them both.
  EXPECT_EQ(g.size(), 2u);
  EXPECT_EQ(g.counters().evicted, 2u);
  EXPECT_EQ(g.check(sender(1), msg(1), t0, 10'000, t0), verdict::too_old);
  EXPECT_EQ(g.check(sender(1), msg(5), t0, 10'000, t0), verdict::too_old);
}

TEST(ReplayGuard, SizeNeverExceedsTheCapacityUnderAFlood) {
  replay_guard g{small(100)};
  uint64_t accepted = 0;
  for (uint32_t i = 0; i < 10'000; ++i) {
    // Expiries rise with i, so every message is fresh and beyond the floor.
    auto v = g.check(sender(1), msg(i), t0 + i, 60'000, t0);
    accepted += v == verdict::accepted;
    ASSERT_LE(g.size(), 100u) << "after message " << i;
  }
  EXPECT_EQ(accepted, 10'000u);
  EXPECT_EQ(g.size(), 100u);
  EXPECT_EQ(g.counters().evicted, 9'900u);
  // Every id pushed out is still refused.
  for (uint32_t i = 0; i < 10'000; ++i) {
    auto v = g.check(sender(1), msg(i), t0 + i, 60'000, t0);
    EXPECT_NE(v, verdict::accepted) << "message " << i;
  }
}

TEST(ReplayGuard, PerSenderCapacityIsAtLeastOne) {
  replay_guard g{small(0)};
  EXPECT_EQ(g.config().per_sender, 1u);
  EXPECT_EQ(g.check(sender(1), msg(1), t0, 10'000, t0), verdict::accepted);
  EXPECT_EQ(g.check(sender(1), msg(1), t0, 10'000, t0), verdict::replayed);
}

// The black-out of issue 9: one identity floods envelopes stamped at the edge
// of the skew with the largest ttl; a peer's short-lived messages still pass.
TEST(ReplayGuard, OneSenderFloodingCannotBlackOutAnother) {
  replay_guard g;
  for (uint32_t i = 0; i < 100'000; ++i)
    g.check(sender(9), msg(i), t0 + 30'000, 0xffff'ffffu, t0);
  EXPECT_LE(g.size(), g.config().per_sender);
  for (uint32_t i = 0; i < 100; ++i)
    EXPECT_EQ(g.check(sender(1), msg(i), t0 + i, 5'000, t0 + i), verdict::accepted) << i;
}

TEST(ReplayGuard, TableOfSendersStaysBounded) {
  replay_config cfg;
  cfg.max_senders = 8;
  replay_guard g{cfg};
  // Each later than the last, so no stranger falls under the floor.
  for (uint8_t i = 0; i < 100; ++i)
    ASSERT_EQ(g.check(sender(i), msg(1), t0 + i, 10'000, t0), verdict::accepted);
  EXPECT_EQ(g.senders(), 8u);
  EXPECT_EQ(g.counters().senders_evicted, 92u);
}

TEST(ReplayGuard, ForgottenSenderCannotReplay) {
  replay_config cfg;
  cfg.max_senders = 2;
  replay_guard g{cfg};
  ASSERT_EQ(g.check(sender(1), msg(1), t0, 10'000, t0), verdict::accepted);
  ASSERT_EQ(g.check(sender(2), msg(1), t0, 1'000, t0), verdict::accepted);
  ASSERT_EQ(g.check(sender(3), msg(1), t0, 20'000, t0), verdict::accepted); // sender 1 goes
  EXPECT_EQ(g.strangers_floor(), t0 + 10'000);
  EXPECT_EQ(g.check(sender(1), msg(1), t0, 10'000, t0 + 1), verdict::too_old);
  // A sender whose message outlives the floor is welcome.
  EXPECT_EQ(g.check(sender(4), msg(1), t0 + 1, 10'000, t0 + 1), verdict::accepted);
}

TEST(ReplayGuard, MintedIdentitiesCannotPushOutAKnownPeer) {
  replay_config cfg;
  cfg.max_senders = 8;
  replay_guard g{cfg};
  g.mark_known(sender(200));
  ASSERT_EQ(g.check(sender(200), msg(1), t0, 10'000, t0), verdict::accepted);
  for (uint32_t i = 0; i < 1000; ++i) {
    node_id minted;
    minted.bytes[1] = static_cast<uint8_t>(i);
    minted.bytes[2] = static_cast<uint8_t>(i >> 8);
    g.check(minted, msg(1), t0 + 30'000, 60'000, t0);
  }
  EXPECT_EQ(g.senders(), 8u);
  EXPECT_EQ(g.check(sender(200), msg(1), t0, 10'000, t0), verdict::replayed);
  EXPECT_EQ(g.check(sender(200), msg(2), t0, 1'000, t0), verdict::accepted);
}

TEST(ReplayGuard, RefusesWhatWasStampedBeforeTheStart) {
  replay_config cfg;
  cfg.not_before_ms = t0;
  replay_guard g{cfg};
  EXPECT_EQ(g.check(sender(1), msg(1), t0 - 1, 60'000, t0), verdict::too_old);
  EXPECT_EQ(g.check(sender(1), msg(2), t0, 60'000, t0), verdict::accepted);
}

TEST(ReplayGuard, ClockSteppingBackDoesNotReopenForgottenIds) {
  replay_guard g;
  ASSERT_EQ(g.check(sender(1), msg(1), t0, 10'000, t0), verdict::accepted);
  // Much later: the entry expired and is forgotten.
  ASSERT_EQ(g.check(sender(1), msg(2), t0 + 20'000, 10'000, t0 + 20'000), verdict::accepted);
  ASSERT_EQ(g.size(), 1u);
  // The clock steps back to where message 1 would be valid again.
  EXPECT_EQ(g.check(sender(1), msg(1), t0, 10'000, t0 + 1), verdict::too_old);
}

TEST(ReplayGuard, ExtremeTimesDoNotOverflow) {
  constexpr auto max = std::numeric_limits<int64_t>::max();
  constexpr auto min = std::numeric_limits<int64_t>::min();
  replay_guard g;
  EXPECT_EQ(g.check(sender(1), msg(1), max, 300'000, t0), verdict::from_future);
  EXPECT_EQ(g.check(sender(1), msg(2), min, 300'000, t0), verdict::expired);
  EXPECT_EQ(g.check(sender(1), msg(3), max, 300'000, max), verdict::accepted);
  EXPECT_EQ(g.check(sender(1), msg(3), max, 300'000, max), verdict::replayed);
  EXPECT_EQ(g.check(sender(1), msg(4), max - 1, 1, max), verdict::accepted);
}

TEST(ReplayGuard, CountsEachVerdict) {
  replay_guard g{small(1)};
  g.check(sender(1), msg(1), t0, 10'000, t0);          // accepted
  g.check(sender(1), msg(1), t0, 10'000, t0);          // replayed
  g.check(sender(1), msg(2), t0, 10'000, t0 + 20'000); // expired
  g.check(sender(1), msg(3), t0 + 60'000, 1'000, t0);  // from the future
  g.check(sender(1), msg(4), t0, 20'000, t0);          // accepted, evicts msg 1
  g.check(sender(1), msg(1), t0, 10'000, t0);          // too old
  g.check(sender(1), msg(5), t0, 5'000, t0);           // too old
  const auto& c = g.counters();
  EXPECT_EQ(c.accepted, 2u);
  EXPECT_EQ(c.replayed, 1u);
  EXPECT_EQ(c.expired, 1u);
  EXPECT_EQ(c.from_future, 1u);
  EXPECT_EQ(c.too_old, 2u);
  EXPECT_EQ(c.evicted, 1u);
}

TEST(ReplayGuard, VerdictsHaveNames) {
  EXPECT_STREQ(to_string(verdict::accepted), "accepted");
  EXPECT_STREQ(to_string(verdict::replayed), "replayed");
  EXPECT_STREQ(to_string(verdict::expired), "expired");
  EXPECT_STREQ(to_string(verdict::from_future), "from_future");
  EXPECT_STREQ(to_string(verdict::too_old), "too_old");
}

// bench_signal found it: 256 messages in flight through two brokers arrive
// out of order, and a per-sender cache of 128 made the late ones too_old.
TEST(ReplayGuard, AGenuineBurstArrivingOutOfOrderIsAccepted) {
  replay_guard g;
  std::vector<uint32_t> order;
  for (uint32_t i = 0; i < 1000; ++i)
    order.push_back(i);
  // Each block of 500 arrives backwards: the first sent comes last.
  std::reverse(order.begin(), order.begin() + 500);
  std::reverse(order.begin() + 500, order.end());
  for (auto i : order)
    EXPECT_EQ(g.check(sender(1), msg(i), t0 + i, 30'000, t0 + 1'000), verdict::accepted) << i;
  EXPECT_EQ(g.counters().evicted, 0u);
}

TEST(ReplayGuard, OverTheSharedBudgetTheLargestCacheGivesUp) {
  replay_config cfg;
  cfg.max_entries = 100;
  replay_guard g{cfg};
  for (uint32_t i = 0; i < 1000; ++i) // a flooder under its own cap
    g.check(sender(9), msg(i), t0 + 30'000, 60'000, t0);
  EXPECT_LE(g.size(), 100u);
  // A peer's 50 messages, out of order, all pass and stay remembered.
  for (uint32_t i = 50; i-- > 0;)
    EXPECT_EQ(g.check(sender(1), msg(i), t0 + i, 5'000, t0 + 50), verdict::accepted) << i;
  EXPECT_LE(g.size(), 100u);
  for (uint32_t i = 0; i < 50; ++i)
    EXPECT_EQ(g.check(sender(1), msg(i), t0 + i, 5'000, t0 + 50), verdict::replayed) << i;
  EXPECT_GT(g.floor(sender(9)), g.floor(sender(1)));
}
