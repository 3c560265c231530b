// The client side: a lookup through several servers keeps the newest
// record whose signature checks, whatever a lying server sends.
#include "actors/names/name_server_fixture.hpp"
#include "support/sockets.hpp"

using namespace p2pd;
using namespace p2pd::test;
using net::names::status;
namespace wn = p2pd::wire::names;

namespace {

class NameClient : public NameServerTest {
protected:
  /// A second server on a database of its own: one that can miss what the
  /// first stored. Call it as ASSERT_NO_FATAL_FAILURE(start_other()), then
  /// return if IsSkipped() (no PostgreSQL here).
  void start_other() {
    P2PD_FRESH_STORE_URL(other_url, GetParam(), other_dir);
    auto s = start_server(other_url);
    ASSERT_OK(s);
    other = std::move(*s);
    other_udp = addr_of(other, net::protocol::udp);
  }

  temp_dir other_dir;
  std::string other_url;
  name_server_handle other;
  name_server_addr other_udp;
};

} // namespace

TEST_P(NameClient, ALookupThroughTwoServersRefusesTheLiarsForgery) {
  auto truth = rec(alice, "alice.p2p", 3);
  ASSERT_EQ(put(truth), status::ok);
  // The liar serves Alice's record with its value changed and a higher
  // version: the signature no longer checks.
  auto edited = truth;
  edited.value = {'m', 'a', 'l', 'l', 'o', 'r', 'y'};
  edited.version = 99;
  auto liar = start_liar(rt, edited);
  ASSERT_OK(liar);
  auto got = lookup_name(rt, {{net::protocol::udp, liar->local()}, udp()}, "alice.p2p",
                         std::chrono::seconds{5}, names_t0);
  ASSERT_OK(got);
  EXPECT_EQ(got->answered, 2u);
  EXPECT_EQ(got->forged, 1u);
  ASSERT_TRUE(got->record);
  EXPECT_EQ(*got->record, truth);
}

TEST_P(NameClient, ARecordSignedByAnotherKeyPosingAsTheOwnerIsRefused) {
  auto truth = rec(alice, "alice.p2p", 1);
  ASSERT_EQ(put(truth), status::ok);
  auto mallory = std::move(*net::identity::generate());
  auto posing = rec(mallory, "alice.p2p", 50);
  posing.owner = alice.pub().sign;
  auto liar = start_liar(rt, posing);
  ASSERT_OK(liar);
  auto got = lookup_name(rt, {udp(), {net::protocol::udp, liar->local()}}, "alice.p2p",
                         std::chrono::seconds{5}, names_t0);
  ASSERT_OK(got);
  EXPECT_EQ(got->forged, 1u);
  ASSERT_TRUE(got->record);
  EXPECT_EQ(*got->record, truth);
}

TEST_P(NameClient, APinnedOwnerRefusesAnotherKeysValidRecordForTheName) {
  auto truth = rec(alice, "alice.p2p", 1);
  ASSERT_EQ(put(truth), status::ok);
  // Mallory holds the name on a server of his own: his record is valid.
  auto mallory = std::move(*net::identity::generate());
  auto liar = start_liar(rt, rec(mallory, "alice.p2p", 50));
  ASSERT_OK(liar);
  std::vector<name_server_addr> both{udp(), {net::protocol::udp, liar->local()}};
  auto unpinned = lookup_name(rt, both, "alice.p2p", std::chrono::seconds{5}, names_t0);
  ASSERT_OK(unpinned);
  ASSERT_TRUE(unpinned->record);
  EXPECT_EQ(unpinned->record->owner, mallory.pub().sign); // what pinning is for
  auto pinned = lookup_name(rt, both, "alice.p2p", std::chrono::seconds{5}, names_t0,
                            alice.pub().sign);
  ASSERT_OK(pinned);
  ASSERT_TRUE(pinned->record);
  EXPECT_EQ(*pinned->record, truth);
}

TEST_P(NameClient, TheNewestValidVersionWinsAcrossServers) {
  // The other server missed the update.
  ASSERT_NO_FATAL_FAILURE(start_other());
  if (IsSkipped())
    return;
  auto stale_udp = other_udp;
  auto v1 = rec(alice, "alice.p2p", 1);
  ASSERT_EQ(put(v1), status::ok);
  ASSERT_EQ(put(v1, &stale_udp), status::ok);
  auto v2 = rec(alice, "alice.p2p", 2);
  ASSERT_EQ(put(v2), status::ok);
  auto got = lookup_name(rt, {stale_udp, tcp()}, "alice.p2p", std::chrono::seconds{5},
                         names_t0);
  ASSERT_OK(got);
  EXPECT_EQ(got->forged, 0u);
  ASSERT_TRUE(got->record);
  EXPECT_EQ(*got->record, v2);
}

TEST_P(NameClient, AServerThatMissedTheDeletionCannotBringTheNameBack) {
  // The other server missed the deletion.
  ASSERT_NO_FATAL_FAILURE(start_other());
  if (IsSkipped())
    return;
  auto stale_udp = other_udp;
  auto v1 = rec(alice, "alice.p2p", 1);
  ASSERT_EQ(put(v1), status::ok);
  ASSERT_EQ(put(v1, &stale_udp), status::ok);
  auto tomb = rec(alice, "alice.p2p", 2, true);
  ASSERT_EQ(put(tomb), status::ok);
  // Either order of the servers; and long after max_skew_s, while v1 lives.
  for (auto at : {names_t0, names_t0 + rules.max_skew_s + 60}) {
    clock->store(at * 1000);
    for (auto servers : {std::vector<name_server_addr>{stale_udp, tcp()},
                         std::vector<name_server_addr>{udp(), stale_udp}}) {
      auto got = lookup_name(rt, servers, "alice.p2p", std::chrono::seconds{5}, at);
      ASSERT_OK(got);
      EXPECT_EQ(got->answered, 2u);
      EXPECT_FALSE(got->record) << "the deleted name came back at " << at;
      ASSERT_TRUE(got->deleted);
      EXPECT_EQ(*got->deleted, tomb);
      EXPECT_EQ(got->overridden, 1u);
      EXPECT_EQ(got->agreed, 1u);
      EXPECT_EQ(got->disagreed, 1u);
    }
  }
}

TEST_P(NameClient, ANameItsOwnerRegistersAgainAfterDeletingIsFound) {
  // The other server missed the deletion and the registration after it.
  ASSERT_NO_FATAL_FAILURE(start_other());
  if (IsSkipped())
    return;
  auto stale_udp = other_udp;
  auto v1 = rec(alice, "alice.p2p", 1);
  ASSERT_EQ(put(v1, &stale_udp), status::ok);
  ASSERT_EQ(put(v1), status::ok);
  ASSERT_EQ(put(rec(alice, "alice.p2p", 2, true)), status::ok);
  auto v3 = rec(alice, "alice.p2p", 3);
  ASSERT_EQ(put(v3), status::ok);
  auto got = lookup_name(rt, {stale_udp, udp()}, "alice.p2p", std::chrono::seconds{5}, names_t0);
  ASSERT_OK(got);
  ASSERT_TRUE(got->record);
  EXPECT_EQ(*got->record, v3);
  EXPECT_FALSE(got->deleted);
}

TEST_P(NameClient, ALiarsForgedTombstoneHidesNothing) {
  auto truth = rec(alice, "alice.p2p", 1);
  ASSERT_EQ(put(truth), status::ok);
  auto mallory = std::move(*net::identity::generate());
  auto forged = rec(mallory, "alice.p2p", 50, true);
  forged.owner = alice.pub().sign; // Mallory's signature, Alice's key
  auto liar = start_liar(rt, forged);
  ASSERT_OK(liar);
  auto got = lookup_name(rt, {{net::protocol::udp, liar->local()}, udp()}, "alice.p2p",
                         std::chrono::seconds{5}, names_t0);
  ASSERT_OK(got);
  EXPECT_EQ(got->forged, 1u);
  EXPECT_FALSE(got->deleted);
  ASSERT_TRUE(got->record);
  EXPECT_EQ(*got->record, truth);
}

TEST_P(NameClient, APublishReachesEveryServerAndSaysWhichRefused) {
  ASSERT_NO_FATAL_FAILURE(start_other());
  if (IsSkipped())
    return;
  // Bob got the name first on the other server.
  ASSERT_EQ(put(rec(bob, "alice.p2p", 1), &other_udp), status::ok);
  auto mine = rec(alice, "alice.p2p", 1);
  auto got = publish_name(rt, {udp(), other_udp}, mine, std::chrono::seconds{5});
  EXPECT_EQ(got.stored, 1u);
  ASSERT_EQ(got.replies.size(), 2u);
  ASSERT_OK(got.replies[1].answer);
  EXPECT_EQ(got.replies[1].answer->code, status::taken);
  // Deleted everywhere it was stored.
  auto gone = publish_name(rt, {udp()}, rec(alice, "alice.p2p", 2, true), std::chrono::seconds{5});
  EXPECT_EQ(gone.stored, 1u);
  EXPECT_EQ(lookup("alice.p2p").code, status::not_found);
}

TEST_P(NameClient, ALookupWithoutAnswersFindsNothing) {
  // A UDP port nobody serves: the lookup waits its timeout, then says so.
  auto lo = *net::ip_address::parse("127.0.0.1");
  auto got = lookup_name(rt, {{net::protocol::udp, endpoint{lo, free_port(net::protocol::udp)}}},
                         "alice.p2p", std::chrono::milliseconds{300}, names_t0);
  ASSERT_OK(got);
  EXPECT_EQ(got->answered, 0u);
  EXPECT_FALSE(got->record);
  EXPECT_FALSE(got->replies.front().answer);
  EXPECT_ERRC(lookup_name(rt, {udp()}, "Bad Name", std::chrono::seconds{1}),
              errc::invalid_argument);
}

INSTANTIATE_TEST_SUITE_P(Backends, NameClient, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });
