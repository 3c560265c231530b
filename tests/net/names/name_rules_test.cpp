// The name service's record, rules, rate limiter and client pick (net/names).
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "p2pd/net/names/name_pick.hpp"
#include "p2pd/net/names/name_rules.hpp"
#include "p2pd/net/names/rate_limiter.hpp"

#include "support/expect.hpp"

using namespace p2pd;
using namespace p2pd::net::names;

namespace {

constexpr int64_t now = 1'700'000'000;

class NameRules : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    alice_ = new net::identity{std::move(*net::identity::generate())};
    bob_ = new net::identity{std::move(*net::identity::generate())};
  }
  static void TearDownTestSuite() {
    delete alice_;
    delete bob_;
  }

  static name_record rec(const net::identity& who, uint64_t version, std::string name = "alice.p2p",
                         bool deleted = false) {
    return make_record(who, std::move(name), {uint8_t('v'), uint8_t('0' + version % 10)}, version, now, 3600,
                       deleted);
  }

  static net::identity* alice_;
  static net::identity* bob_;
  rules_config cfg;
};

net::identity* NameRules::alice_ = nullptr;
net::identity* NameRules::bob_ = nullptr;

} // namespace

TEST_F(NameRules, NamesTakeLowercaseLabelsUpToTheLimits) {
  EXPECT_OK(check_name("alice.p2p"));
  EXPECT_OK(check_name("a-1.b2"));
  EXPECT_OK(check_name(std::string(63, 'a')));
  std::string longest;
  for (int i = 0; i < 4; ++i)
    longest += std::string(i == 3 ? 61 : 63, 'x') + (i == 3 ? "" : ".");
  ASSERT_EQ(longest.size(), 253u);
  EXPECT_OK(check_name(longest));
}

TEST_F(NameRules, NamesOutsideTheCharsetOrLimitsAreRefusedWithWhy) {
  for (std::string bad : std::vector<std::string>{"", "Alice.p2p", "al ice", "a..b", ".a", "a.", "-a", "a-", "a_b",
                          std::string(64, 'a'), std::string(254, 'a'), std::string("a\0b", 3),
                          "\xc3\xa9t\xc3\xa9"}) {
    auto err = check_name(bad);
    EXPECT_EQ(err.code, net::errc::invalid_argument) << "'" << bad << "'";
    EXPECT_FALSE(err.what.empty());
  }
}

TEST_F(NameRules, ASignedRecordVerifiesAndAnyChangeBreaksIt) {
  auto r = rec(*alice_, 1);
  EXPECT_TRUE(verify_record(r));
  auto changed = r;
  changed.value.push_back('x');
  EXPECT_FALSE(verify_record(changed));
  changed = r;
  changed.version = 2;
  EXPECT_FALSE(verify_record(changed));
  changed = r;
  changed.deleted = true;
  EXPECT_FALSE(verify_record(changed));
  changed = r;
  changed.expiry += 1;
  EXPECT_FALSE(verify_record(changed));
}

TEST_F(NameRules, ARecordClaimingAnotherOwnerIsForged) {
  auto r = rec(*alice_, 1);
  r.owner = bob_->pub().sign; // Alice's signature, Bob's name on it
  EXPECT_EQ(check_record(r, now, cfg).code, status::forged);
}

TEST_F(NameRules, TheSignatureIsDomainSeparated) {
  // The same bytes signed for another purpose do not make a record.
  auto r = rec(*alice_, 1);
  auto msg = signed_bytes(r);
  r.sig = alice_->sign(net::sign_purpose::peer_address, net::byte_view{msg});
  EXPECT_FALSE(verify_record(r));
}

TEST_F(NameRules, OversizedValuesBadExpiriesAndStaleTimesAreRefused) {
  auto big = make_record(*alice_, "alice.p2p", std::vector<uint8_t>(max_value + 1, 1), 1, now,
                         3600);
  EXPECT_EQ(check_record(big, now, cfg).code, status::invalid);
  auto short_lived = make_record(*alice_, "alice.p2p", {}, 1, now, min_expiry_s - 1);
  EXPECT_EQ(check_record(short_lived, now, cfg).code, status::invalid);
  auto v0 = make_record(*alice_, "alice.p2p", {}, 0, now, 3600);
  EXPECT_EQ(check_record(v0, now, cfg).code, status::invalid);
  auto old = make_record(*alice_, "alice.p2p", {}, 1, now - cfg.max_skew_s - 1, 3600);
  EXPECT_EQ(check_record(old, now, cfg).code, status::stale_time);
  EXPECT_TRUE(check_record(rec(*alice_, 1), now, cfg).ok());
}

TEST_F(NameRules, FirstComeFirstServed) {
  auto held = rec(*alice_, 1);
  EXPECT_TRUE(decide_put(std::nullopt, held, 0, now, cfg).ok());
  EXPECT_EQ(decide_put(held, rec(*bob_, 9), 0, now, cfg).code, status::taken);
}

TEST_F(NameRules, OnlyAGrowingVersionUpdates) {
  auto held = rec(*alice_, 5);
  EXPECT_TRUE(decide_put(held, rec(*alice_, 6), 0, now, cfg).ok());
  EXPECT_EQ(decide_put(held, rec(*alice_, 5), 0, now, cfg).code, status::stale_version);
  EXPECT_EQ(decide_put(held, rec(*alice_, 4), 0, now, cfg).code, status::stale_version);
}

TEST_F(NameRules, OnlyTheOwnerDeletesAndAReplayAfterADeletionIsRefused) {
  auto held = rec(*alice_, 5);
  EXPECT_EQ(decide_put(held, rec(*bob_, 6, "alice.p2p", true), 0, now, cfg).code, status::taken);
  auto tomb = rec(*alice_, 6, "alice.p2p", true);
  EXPECT_TRUE(decide_put(held, tomb, 0, now, cfg).ok());
  // The tombstone binds: Alice's old record replayed is stale...
  EXPECT_EQ(decide_put(tomb, held, 0, now, cfg).code, status::stale_version);
  // ...but the name is free for anyone else.
  EXPECT_TRUE(decide_put(tomb, rec(*bob_, 1), 0, now, cfg).ok());
  EXPECT_EQ(decide_put(tomb, rec(*alice_, 7, "alice.p2p", true), 0, now, cfg).code,
            status::not_found);
}

TEST_F(NameRules, AnExpiredNameIsFree) {
  auto held = rec(*alice_, 5);
  auto later = held.expires_at();
  EXPECT_FALSE(binds(held, later, cfg));
  EXPECT_FALSE(is_live(held, later));
  auto bobs = make_record(*bob_, "alice.p2p", {}, 1, later, 3600);
  EXPECT_TRUE(decide_put(held, bobs, 0, later, cfg).ok());
}

TEST_F(NameRules, AKeyHoldsAtMostItsCapOfNames) {
  cfg.max_names_per_key = 2;
  EXPECT_EQ(decide_put(std::nullopt, rec(*alice_, 1), 2, now, cfg).code, status::too_many_names);
  EXPECT_TRUE(decide_put(std::nullopt, rec(*alice_, 1), 1, now, cfg).ok());
  // Updating a name it holds is not a new one.
  EXPECT_TRUE(decide_put(rec(*alice_, 1), rec(*alice_, 2), 2, now, cfg).ok());
}

TEST(RateLimiter, ABurstThenTheRate) {
  rate_limiter lim{2.0, 3.0};
  for (int i = 0; i < 3; ++i)
    EXPECT_TRUE(lim.allow("1.2.3.4", 1000));
  EXPECT_FALSE(lim.allow("1.2.3.4", 1000));
  EXPECT_TRUE(lim.allow("5.6.7.8", 1000)); // another key has its own bucket
  EXPECT_FALSE(lim.allow("1.2.3.4", 1400)); // 0.8 tokens
  EXPECT_TRUE(lim.allow("1.2.3.4", 1500));  // 1 token
  EXPECT_FALSE(lim.allow("1.2.3.4", 1500));
  EXPECT_FALSE(lim.allow("1.2.3.4", 500)); // a clock going back refills nothing
}

TEST(RateLimiter, ManyKeysCostBoundedMemory) {
  rate_limiter lim{1.0, 1.0, 8};
  for (int i = 0; i < 100; ++i)
    EXPECT_TRUE(lim.allow("k" + std::to_string(i), i));
  EXPECT_EQ(lim.size(), 8u);
}

TEST_F(NameRules, ThePickKeepsTheNewestRecordWhoseSignatureChecks) {
  auto v1 = rec(*alice_, 1);
  auto v2 = rec(*alice_, 2);
  auto forged = rec(*alice_, 9);
  forged.value = {'e', 'v', 'i', 'l'}; // a lying server's edit: the signature no longer checks
  auto other_name = rec(*alice_, 10, "bob.p2p");
  auto got = pick_newest("alice.p2p", {v1, forged, v2, other_name}, now);
  ASSERT_TRUE(got.record);
  EXPECT_EQ(*got.record, v2);
  EXPECT_EQ(got.forged, 1u);
  EXPECT_EQ(got.foreign, 1u);
  EXPECT_FALSE(pick_newest("alice.p2p", {forged}, now).record);
  EXPECT_FALSE(pick_newest("alice.p2p", {v2}, v2.expires_at()).record);
}

TEST_F(NameRules, APinnedOwnerLeavesOutAnotherKeysValidRecord) {
  auto alices = rec(*alice_, 1);
  auto bobs = rec(*bob_, 7); // valid, newer, but not the holder's
  EXPECT_EQ(*pick_newest("alice.p2p", {alices, bobs}, now).record, bobs);
  auto pinned = pick_newest("alice.p2p", {alices, bobs}, now, alice_->pub().sign);
  ASSERT_TRUE(pinned.record);
  EXPECT_EQ(*pinned.record, alices);
  EXPECT_EQ(pinned.foreign, 1u);
}

TEST_F(NameRules, ATombstoneBindsForTheSkewAndAtLeastUntilItsOwnExpiry) {
  auto tomb = rec(*alice_, 6, "alice.p2p", true); // expiry 3600 s
  EXPECT_EQ(tombstone_until(tomb, cfg), tomb.expires_at());
  EXPECT_TRUE(binds(tomb, tomb.expires_at(), cfg));
  EXPECT_FALSE(binds(tomb, tomb.expires_at() + 1, cfg));
  auto brief = make_record(*alice_, "alice.p2p", {}, 6, now, min_expiry_s, true);
  EXPECT_EQ(tombstone_until(brief, cfg), now + cfg.max_skew_s);
  // Within it the owner's older records are stale, a newer one registers.
  auto later = now + cfg.max_skew_s + 10;
  EXPECT_EQ(decide_put(tomb, rec(*alice_, 5), 0, later, cfg).code, status::stale_version);
  EXPECT_TRUE(decide_put(tomb, rec(*alice_, 7), 0, later, cfg).ok());
}

TEST_F(NameRules, ATombstoneHidesItsOwnersOlderRecordsFromServersThatMissedIt) {
  auto v1 = rec(*alice_, 1);
  auto tomb = rec(*alice_, 2, "alice.p2p", true);
  auto got = pick_newest("alice.p2p", {v1, tomb, v1}, now);
  EXPECT_FALSE(got.record);
  ASSERT_TRUE(got.deleted);
  EXPECT_EQ(*got.deleted, tomb);
  EXPECT_EQ(got.overridden, 2u);
  // An older tombstone hides nothing newer, whatever the order.
  auto v3 = rec(*alice_, 3);
  got = pick_newest("alice.p2p", {tomb, v3, v1}, now);
  ASSERT_TRUE(got.record);
  EXPECT_EQ(*got.record, v3);
  EXPECT_FALSE(got.deleted);
  EXPECT_EQ(got.overridden, 1u);
}

TEST_F(NameRules, ATombstoneHidesNoOtherKeysRecordAndAForgedOneHidesNothing) {
  auto bobs = rec(*bob_, 1);
  auto alices_tomb = rec(*alice_, 9, "alice.p2p", true);
  auto got = pick_newest("alice.p2p", {alices_tomb, bobs}, now);
  ASSERT_TRUE(got.record);
  EXPECT_EQ(*got.record, bobs);
  EXPECT_EQ(got.overridden, 0u);
  // Bob's signature over a tombstone claiming Alice's key.
  auto v1 = rec(*alice_, 1);
  auto forged = rec(*bob_, 50, "alice.p2p", true);
  forged.owner = alice_->pub().sign;
  got = pick_newest("alice.p2p", {forged, v1}, now);
  EXPECT_EQ(got.forged, 1u);
  ASSERT_TRUE(got.record);
  EXPECT_EQ(*got.record, v1);
  EXPECT_FALSE(pick_newest("alice.p2p", {forged}, now).deleted);
}

TEST(NameHex, RoundTripsAndRefusesNonHex) {
  std::vector<uint8_t> b{0, 1, 0xab, 0xff};
  auto hex = to_hex(b.data(), b.size());
  EXPECT_EQ(hex, "0001abff");
  auto back = from_hex(hex);
  ASSERT_OK(back);
  EXPECT_EQ(*back, b);
  EXPECT_ERRC(from_hex("abc"), net::errc::malformed);
  EXPECT_ERRC(from_hex("zz"), net::errc::malformed);
}
