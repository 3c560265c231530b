#include "p2pd/net/turn/turn_session.hpp"

#include <gtest/gtest.h>

#include "net/turn/turn_server_script.hpp"
#include "support/expect.hpp"
#include "support/printers.hpp"
#include "support/values.hpp"

using namespace p2pd::net;
using namespace std::chrono_literals;
using p2pd::test::bytes_of;
using p2pd::test::ep;

namespace {

class TurnSession : public ::testing::Test {
protected:
  p2pd::test::turn_server_script server;
  turn_session s{p2pd::test::turn_server_script::config()};
  turn_time now = turn_time{} + 1h;

  using script = p2pd::test::turn_server_script;

  std::vector<turn_event::kind> event_kinds() {
    std::vector<turn_event::kind> out;
    for (auto& e : s.take_events())
      out.push_back(e.what);
    return out;
  }
};

} // namespace

TEST_F(TurnSession, StartSendsAnUnsignedAllocateForAUdpRelay) {
  s.start(now);
  auto req = script::sent_one(s);
  EXPECT_EQ(req.method(), stun_method::allocate);
  EXPECT_EQ(req.cls(), stun_class::request);
  EXPECT_FALSE(req.has_integrity());
  auto transport = req.find(stun_attr::requested_transport);
  ASSERT_NE(transport, nullptr);
  EXPECT_EQ(transport->value[0], 17);
  EXPECT_EQ(req.find(stun_attr::requested_address_family), nullptr);
}

TEST_F(TurnSession, A401IsAnsweredWithAnAllocateSignedWithTheRealmAndNonce) {
  s.start(now);
  script::feed(s, server.unauthorized(script::sent_one(s)), now);
  auto req = script::sent_one(s);
  EXPECT_EQ(req.method(), stun_method::allocate);
  EXPECT_EQ(req.username().value_or(""), "alice");
  EXPECT_EQ(req.realm().value_or(""), "p2pd.test");
  EXPECT_EQ(req.nonce().value_or(""), "nonce-1");
  // A server checks the signature over the bytes: decode what was sent.
  auto wire = decode_stun(*stun_builder::from(req).add_integrity(server.key).finish());
  ASSERT_OK(wire);
  EXPECT_TRUE(wire->integrity_ok(server.key));
}

TEST_F(TurnSession, AnAllocateSuccessGivesTheRelayedAndMappedAddressesAndLifetime) {
  server.allocate(s, now, 300);
  ASSERT_TRUE(s.allocation());
  EXPECT_EQ(s.allocation()->relayed, server.relayed);
  EXPECT_EQ(s.allocation()->mapped, server.mapped);
  EXPECT_EQ(s.allocation()->lifetime, 300s);
  EXPECT_EQ(s.counters().allocations, 1u);
}

TEST_F(TurnSession, A401ToTheSignedAllocateMeansTheCredentialsAreRefused) {
  s.start(now);
  script::feed(s, server.unauthorized(script::sent_one(s)), now);
  script::feed(s, server.unauthorized(script::sent_one(s)), now);
  EXPECT_EQ(s.state(), turn_state::failed);
  auto ev = s.take_events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].what, turn_event::kind::failed);
  EXPECT_ERRC(ev[0].err, errc::auth_refused);
  EXPECT_NE(ev[0].err.what.find("401"), std::string::npos) << ev[0].err.what;
  EXPECT_FALSE(s.next_tick());
}

TEST_F(TurnSession, AStaleNonceIsRetriedWithTheNewNonce) {
  s.start(now);
  script::feed(s, server.unauthorized(script::sent_one(s)), now);
  server.nonce = "nonce-2";
  script::feed(s, server.error(script::sent_one(s), 438, "Stale Nonce"), now);
  auto req = script::sent_one(s);
  EXPECT_EQ(req.nonce().value_or(""), "nonce-2");
  script::feed(s, server.success(req), now);
  EXPECT_EQ(s.state(), turn_state::allocated);
}

TEST_F(TurnSession, StaleNoncesWithoutEndGiveUpAfterThreeRetries) {
  s.start(now);
  script::feed(s, server.unauthorized(script::sent_one(s)), now);
  for (int i = 0; i < 4 && s.state() == turn_state::allocating; ++i) {
    server.nonce = "nonce-x" + std::to_string(i);
    script::feed(s, server.error(script::sent_one(s), 438, "Stale Nonce"), now);
  }
  EXPECT_EQ(s.state(), turn_state::failed);
}

TEST_F(TurnSession, ASuccessWithoutIntegrityToASignedRequestIsRefusedAsForged) {
  s.start(now);
  script::feed(s, server.unauthorized(script::sent_one(s)), now);
  auto req = script::sent_one(s);
  auto forged = server.success(req, 600, false);
  auto r = s.receive(forged.data(), forged.size(), now);
  EXPECT_ERRC(r.refused, errc::forged);
  server.key = *stun_key::long_term("alice", "p2pd.test", "not-the-password");
  forged = server.success(req, 600, true);
  r = s.receive(forged.data(), forged.size(), now);
  EXPECT_ERRC(r.refused, errc::forged);
  EXPECT_EQ(s.counters().forged, 2u);
  EXPECT_EQ(s.state(), turn_state::allocating); // still waiting for the real answer
}

TEST_F(TurnSession, AResponseToNoRequestOfOursIsCountedAndIgnored) {
  s.start(now);
  stun_message other{stun_class::request, stun_method::allocate, stun_txid::random()};
  auto r = server.unauthorized(other);
  auto got = s.receive(r.data(), r.size(), now);
  EXPECT_ERRC(got.refused, errc::not_for_us);
  EXPECT_EQ(s.counters().not_for_us, 1u);
}

TEST_F(TurnSession, AnUnansweredAllocateIsResentThenFailsWithTheCount) {
  s.start(now);
  script::sent_one(s);
  ASSERT_TRUE(s.next_tick());
  EXPECT_EQ(*s.next_tick(), now + 100ms);
  s.tick(now + 100ms);
  script::sent_one(s);
  EXPECT_EQ(*s.next_tick(), now + 300ms);
  s.tick(now + 300ms);
  script::sent_one(s);
  EXPECT_EQ(*s.next_tick(), now + 500ms); // the last wait: 2 x rto
  s.tick(now + 500ms);
  EXPECT_EQ(s.state(), turn_state::failed);
  auto ev = s.take_events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_ERRC(ev[0].err, errc::recv_timeout);
  EXPECT_NE(ev[0].err.what.find("3 sends"), std::string::npos) << ev[0].err.what;
  EXPECT_EQ(s.counters().retransmits, 2u);
}

TEST_F(TurnSession, QuotaRefusalIsQuotaExceeded) {
  s.start(now);
  script::feed(s, server.unauthorized(script::sent_one(s)), now);
  script::feed(s, server.error(script::sent_one(s), 486, "Allocation Quota Reached"), now);
  auto ev = s.take_events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_ERRC(ev[0].err, errc::quota_exceeded);
  EXPECT_NE(ev[0].err.what.find("486 Allocation Quota Reached"), std::string::npos);
}

TEST_F(TurnSession, ARelayOfAnotherFamilyThanAskedFailsAndIsGivenBack) {
  auto cfg = script::config();
  cfg.allocate.relay_family = family::v6;
  turn_session v6{cfg};
  v6.start(now);
  auto first = script::sent_one(v6);
  auto fam = first.find(stun_attr::requested_address_family);
  ASSERT_NE(fam, nullptr);
  EXPECT_EQ(fam->value[0], 0x02);
  script::feed(v6, server.unauthorized(first), now);
  script::feed(v6, server.success(script::sent_one(v6)), now); // relays IPv4
  EXPECT_EQ(v6.state(), turn_state::failed);
  auto ev = v6.take_events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_ERRC(ev[0].err, errc::family_unsupported);
  auto back = script::sent_one(v6);
  EXPECT_EQ(back.method(), stun_method::refresh);
}

TEST_F(TurnSession, RefreshGoesAMinuteBeforeTheLifetimeEnds) {
  server.allocate(s, now, 600);
  EXPECT_EQ(*s.next_tick(), now + 540s);
  s.tick(now + 540s);
  auto req = script::sent_one(s);
  EXPECT_EQ(req.method(), stun_method::refresh);
  EXPECT_TRUE(req.has_integrity());
  script::feed(s, server.success(req, 600), now + 540s);
  EXPECT_EQ(*s.next_tick(), now + 1080s);
}

TEST_F(TurnSession, AShortLifetimeIsRefreshedAtItsHalf) {
  server.allocate(s, now, 4);
  EXPECT_EQ(*s.next_tick(), now + 2s);
}

TEST_F(TurnSession, A437ToRefreshLosesTheAllocationAndAllocatesAgainWithItsChannels) {
  server.allocate(s, now, 600);
  auto peer = ep("198.51.100.9:7000");
  auto d = bytes_of("x");
  ASSERT_FALSE(s.send(peer, d.data(), d.size(), now));
  script::feed(s, server.success(script::sent_one(s)), now); // ChannelBind
  s.take_output();
  s.tick(now + 540s); // the Refresh, and the channel's refresh (due at 240 s)
  auto due = script::sent(s);
  ASSERT_EQ(due.size(), 2u);
  auto refresh = due[0].method() == stun_method::refresh ? due[0] : due[1];
  script::feed(s, server.error(refresh, 437, "Allocation Mismatch"), now + 540s);
  auto ev = s.take_events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].what, turn_event::kind::lost);
  EXPECT_ERRC(ev[0].err, errc::allocation_lost);
  EXPECT_EQ(s.state(), turn_state::allocating);
  EXPECT_FALSE(s.channel_of(peer));
  ASSERT_EQ(*s.next_tick(), now + 540s + 500ms); // realloc_backoff
  s.tick(now + 541s);
  auto again = script::sent_one(s);
  EXPECT_EQ(again.method(), stun_method::allocate);
  EXPECT_TRUE(again.has_integrity()); // the realm and nonce are known
  server.relayed = ep("198.51.100.7:50002");
  script::feed(s, server.success(again), now + 541s);
  EXPECT_EQ(event_kinds(), std::vector<turn_event::kind>{turn_event::kind::allocated});
  EXPECT_EQ(s.allocation()->relayed, server.relayed);
  auto rebind = script::sent_one(s);
  EXPECT_EQ(rebind.method(), stun_method::channel_bind);
  EXPECT_EQ(rebind.address(stun_attr::xor_peer_address), peer);
}

TEST_F(TurnSession, AnUnansweredRefreshLosesTheAllocation) {
  server.allocate(s, now, 600);
  auto t = now + 540s;
  s.tick(t);
  script::sent_one(s);
  for (int i = 0; i < 5 && s.state() == turn_state::allocated; ++i) {
    t = *s.next_tick();
    s.tick(t);
    s.take_output();
  }
  auto ev = s.take_events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].what, turn_event::kind::lost);
  EXPECT_NE(ev[0].err.what.find("did not answer Refresh"), std::string::npos) << ev[0].err.what;
}

TEST_F(TurnSession, SendBindsAChannelAndThenSendsTheWaitingDataAsChannelData) {
  server.allocate(s, now);
  auto peer = ep("198.51.100.9:7000");
  auto a = bytes_of("first");
  auto b = bytes_of("second");
  ASSERT_FALSE(s.send(peer, a.data(), a.size(), now));
  ASSERT_FALSE(s.send(peer, b.data(), b.size(), now));
  auto bind = script::sent_one(s); // one ChannelBind for both
  EXPECT_EQ(bind.method(), stun_method::channel_bind);
  auto ch = bind.find(stun_attr::channel_number);
  ASSERT_NE(ch, nullptr);
  EXPECT_EQ(ch->value[0], 0x40);
  script::feed(s, server.success(bind), now);
  auto out = s.take_output();
  ASSERT_EQ(out.size(), 2u);
  auto first = decode_channel_data(out[0].data(), out[0].size());
  ASSERT_OK(first);
  EXPECT_EQ(std::string(first->data, first->data + first->size), "first");
  EXPECT_EQ(s.channel_of(peer), first->channel);
}

TEST_F(TurnSession, DataWaitingForAChannelIsBoundedAndTheOverflowCounted) {
  server.allocate(s, now);
  auto peer = ep("198.51.100.9:7000");
  auto d = bytes_of("x");
  for (int i = 0; i < 20; ++i)
    ASSERT_FALSE(s.send(peer, d.data(), d.size(), now));
  EXPECT_EQ(s.counters().waiting_dropped, 4u); // max_waiting 16
}

TEST_F(TurnSession, ChannelDataIsGivenWithItsPeerAndUnknownChannelsAreCounted) {
  server.allocate(s, now);
  auto peer = ep("198.51.100.9:7000");
  auto d = bytes_of("x");
  s.send(peer, d.data(), d.size(), now);
  script::feed(s, server.success(script::sent_one(s)), now);
  s.take_output();
  auto in = bytes_of("from the peer");
  auto cd = *encode_channel_data(*s.channel_of(peer), in.data(), in.size(), false);
  auto r = s.receive(cd.data(), cd.size(), now);
  ASSERT_FALSE(r.refused);
  EXPECT_EQ(r.peer, peer);
  EXPECT_EQ(std::string(r.data(), r.data() + r.size), "from the peer");
  auto other = *encode_channel_data(0x4444, in.data(), in.size(), false);
  r = s.receive(other.data(), other.size(), now);
  EXPECT_ERRC(r.refused, errc::not_for_us);
  EXPECT_EQ(s.counters().unknown_channel, 1u);
}

TEST_F(TurnSession, ADataIndicationGivesThePeerAndItsData) {
  server.allocate(s, now);
  stun_builder b{stun_class::indication, stun_method::data, stun_txid::random()};
  b.add_xor_address(stun_attr::xor_peer_address, ep("198.51.100.9:7000"));
  b.add_raw(stun_attr::data, "hi");
  auto bytes = *b.finish();
  auto r = s.receive(bytes.data(), bytes.size(), now);
  ASSERT_FALSE(r.refused);
  EXPECT_EQ(r.peer, ep("198.51.100.9:7000"));
  EXPECT_EQ(std::string(r.data(), r.data() + r.size), "hi");
}

TEST_F(TurnSession, MalformedFramesAreRefusedAndCounted) {
  server.allocate(s, now);
  uint8_t junk[] = {0xFF, 1, 2, 3};
  EXPECT_ERRC(s.receive(junk, sizeof(junk), now).refused, errc::malformed);
  uint8_t short_stun[] = {0x01, 0x01, 0x00};
  EXPECT_ERRC(s.receive(short_stun, sizeof(short_stun), now).refused, errc::malformed);
  stun_builder b{stun_class::indication, stun_method::data, stun_txid::random()};
  b.add_raw(stun_attr::data, "no peer");
  auto no_peer = *b.finish();
  EXPECT_ERRC(s.receive(no_peer.data(), no_peer.size(), now).refused, errc::malformed);
  EXPECT_EQ(s.counters().malformed, 3u);
}

TEST_F(TurnSession, ARefusedPeerIsReportedAndItsWaitingDataDropped) {
  server.allocate(s, now);
  auto peer = ep("198.51.100.9:7000");
  auto d = bytes_of("x");
  s.send(peer, d.data(), d.size(), now);
  script::feed(s, server.error(script::sent_one(s), 403, "Forbidden", true), now);
  auto ev = s.take_events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].what, turn_event::kind::permission_failed);
  EXPECT_EQ(ev[0].peer, peer);
  EXPECT_EQ(s.counters().waiting_dropped, 1u);
  EXPECT_EQ(s.state(), turn_state::allocated);
}

TEST_F(TurnSession, PermitCreatesAPermissionAndRefreshesIt) {
  auto cfg = script::config();
  cfg.permission_refresh = 10s;
  turn_session p{cfg};
  server.allocate(p, now);
  ASSERT_FALSE(p.permit(ep("198.51.100.9:7000"), now));
  auto req = script::sent_one(p);
  EXPECT_EQ(req.method(), stun_method::create_permission);
  script::feed(p, server.success(req), now);
  EXPECT_EQ(*p.next_tick(), now + 10s);
  p.tick(now + 10s);
  EXPECT_EQ(script::sent_one(p).method(), stun_method::create_permission);
}

TEST_F(TurnSession, CloseDeletesTheAllocationWithLifetimeZero) {
  server.allocate(s, now);
  s.close(now);
  auto req = script::sent_one(s);
  EXPECT_EQ(req.method(), stun_method::refresh);
  auto lt = req.find(stun_attr::lifetime);
  ASSERT_NE(lt, nullptr);
  EXPECT_EQ(lt->value, (std::vector<uint8_t>{0, 0, 0, 0}));
  script::feed(s, server.success(req, 0), now);
  EXPECT_EQ(s.state(), turn_state::closed);
  EXPECT_EQ(event_kinds(), std::vector<turn_event::kind>{turn_event::kind::closed});
  auto d = bytes_of("x");
  EXPECT_ERRC(s.send(ep("198.51.100.9:7000"), d.data(), d.size(), now), errc::pipe_closed);
}

TEST_F(TurnSession, SendingToAPeerOfAnotherFamilyIsRefused) {
  server.allocate(s, now);
  auto d = bytes_of("x");
  EXPECT_ERRC(s.send(ep("[2001:db8::1]:7000"), d.data(), d.size(), now),
              errc::family_unsupported);
}
