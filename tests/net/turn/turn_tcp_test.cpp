// RFC 6062 in the sans-IO TURN client: TCP allocations, Connect,
// ConnectionAttempt, and the ConnectionBind of a data connection, with the
// server's bytes played by the test.

#include "p2pd/net/turn/turn_tcp.hpp"

#include <gtest/gtest.h>

#include "net/turn/turn_server_script.hpp"
#include "p2pd/net/stun/detail/stun_detail.hpp"
#include "p2pd/net/turn/turn_session.hpp"
#include "support/expect.hpp"
#include "support/printers.hpp"
#include "support/values.hpp"

using namespace p2pd::net;
using namespace std::chrono_literals;
using p2pd::test::ep;

namespace {

using script = p2pd::test::turn_server_script;

class TurnTcp : public ::testing::Test {
protected:
  static turn_config tcp_config() {
    auto c = script::config();
    c.stream = true;
    c.allocate.relay_transport = protocol::tcp;
    c.stream_timeout = 3600s; // the tests' server answers when they say
    return c;
  }

  script server;
  turn_session s{tcp_config()};
  turn_time now = turn_time{} + 1h;
  endpoint peer = ep("198.51.100.20:8080");

  std::vector<uint8_t> with_connection_id(stun_class cls, uint16_t method, const stun_txid& id,
                                          uint32_t cid, bool sign = true) const {
    stun_builder b{cls, method, id};
    uint8_t v[4];
    stun_detail::put32(v, cid);
    b.add_raw(stun_attr::connection_id, v, 4);
    if (method == stun_method::connection_attempt)
      b.add_xor_address(stun_attr::xor_peer_address, peer);
    if (sign)
      b.add_integrity(server.key);
    return *b.finish();
  }

  // Connect to `peer`: the permission answered, the Connect sent and returned.
  stun_message connect_sent(uint64_t tag) {
    EXPECT_FALSE(s.connect(peer, tag, now));
    auto out = script::sent(s);
    EXPECT_EQ(out.size(), 2u);
    if (out.size() != 2)
      return {};
    EXPECT_EQ(out[0].method(), stun_method::create_permission);
    script::feed(s, server.success(out[0]), now);
    auto ev = s.take_events();
    EXPECT_EQ(ev.size(), 1u);
    if (!ev.empty()) {
      EXPECT_EQ(ev[0].what, turn_event::kind::permitted);
      EXPECT_EQ(ev[0].peer.ip, peer.ip);
    }
    return out[1];
  }
};

} // namespace

TEST_F(TurnTcp, TheAllocateAsksForATcpRelay) {
  s.start(now);
  auto req = script::sent_one(s);
  auto t = req.find(stun_attr::requested_transport);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->value[0], 6);
}

TEST_F(TurnTcp, ATcpAllocationOverDatagramsToTheServerFailsAtStart) {
  auto c = tcp_config();
  c.stream = false;
  turn_session udp{c};
  udp.start(now);
  EXPECT_EQ(udp.state(), turn_state::failed);
  auto ev = udp.take_events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].err.code, errc::invalid_argument);
}

TEST_F(TurnTcp, ConnectPermitsThePeerAndGivesTheServersConnectionId) {
  server.allocate(s, now);
  auto req = connect_sent(7);
  EXPECT_EQ(req.method(), stun_method::connect);
  EXPECT_EQ(req.address(stun_attr::xor_peer_address), peer);
  EXPECT_TRUE(req.integrity_ok(server.key));
  script::feed(s, with_connection_id(stun_class::success, stun_method::connect, req.txid(), 4242),
               now);
  auto ev = s.take_events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].what, turn_event::kind::connected);
  EXPECT_EQ(ev[0].connection_id, 4242u);
  EXPECT_EQ(ev[0].tag, 7u);
  EXPECT_EQ(ev[0].peer, peer);
}

TEST_F(TurnTcp, A447ToConnectIsConnectFailedForItsTag) {
  server.allocate(s, now);
  auto req = connect_sent(3);
  script::feed(s, server.error(req, 447, "Connection Timeout or Failure", true), now);
  auto ev = s.take_events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].what, turn_event::kind::connect_failed);
  EXPECT_EQ(ev[0].tag, 3u);
  EXPECT_EQ(ev[0].err.code, errc::connect_failed);
  EXPECT_NE(ev[0].err.what.find("447"), std::string::npos) << ev[0].err.what;
  EXPECT_EQ(s.state(), turn_state::allocated);
}

TEST_F(TurnTcp, A446ToConnectSaysTheConnectionExists) {
  server.allocate(s, now);
  auto req = connect_sent(1);
  script::feed(s, server.error(req, 446, "Connection Already Exists", true), now);
  auto ev = s.take_events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].err.code, errc::connection_exists);
}

TEST_F(TurnTcp, AConnectSuccessWithoutConnectionIdIsAFailure) {
  server.allocate(s, now);
  auto req = connect_sent(1);
  script::feed(s, server.success(req), now);
  auto ev = s.take_events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].what, turn_event::kind::connect_failed);
  EXPECT_EQ(ev[0].err.code, errc::malformed);
}

TEST_F(TurnTcp, ALostAllocationFailsTheConnectsUnderWay) {
  server.allocate(s, now);
  auto req = connect_sent(9);
  now += 600s; // the Refresh goes, and is refused: the allocation is gone
  s.tick(now);
  stun_message refresh;
  for (auto& m : script::sent(s)) // the permission's refresh goes too
    if (m.method() == stun_method::refresh)
      refresh = m;
  script::feed(s, server.error(refresh, 437, "Allocation Mismatch", true), now);
  auto ev = s.take_events();
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].what, turn_event::kind::lost);
  EXPECT_EQ(ev[1].what, turn_event::kind::connect_failed);
  EXPECT_EQ(ev[1].tag, 9u);
}

TEST_F(TurnTcp, ConnectOnAUdpAllocationIsRefused) {
  turn_session udp{script::config()};
  server.allocate(udp, now);
  EXPECT_EQ(udp.connect(peer, 1, now).code, errc::invalid_argument);
}

TEST_F(TurnTcp, ConnectBeforeTheAllocationIsRefused) {
  EXPECT_EQ(s.connect(peer, 1, now).code, errc::pipe_closed);
}

TEST_F(TurnTcp, SendOnATcpAllocationIsRefused) {
  server.allocate(s, now);
  uint8_t x = 1;
  EXPECT_EQ(s.send(peer, &x, 1, now).code, errc::invalid_argument);
}

TEST_F(TurnTcp, AConnectionAttemptGivesThePeerAndItsConnectionId) {
  server.allocate(s, now);
  auto bytes = with_connection_id(stun_class::indication, stun_method::connection_attempt,
                                  stun_txid::random(), 77, false);
  script::feed(s, bytes, now);
  auto ev = s.take_events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].what, turn_event::kind::connection_attempt);
  EXPECT_EQ(ev[0].connection_id, 77u);
  EXPECT_EQ(ev[0].peer, peer);
  EXPECT_EQ(s.counters().attempts, 1u);
}

TEST_F(TurnTcp, AConnectionAttemptWithoutConnectionIdIsMalformed) {
  server.allocate(s, now);
  stun_builder b{stun_class::indication, stun_method::connection_attempt, stun_txid::random()};
  b.add_xor_address(stun_attr::xor_peer_address, peer);
  auto bytes = *b.finish();
  auto r = s.receive(bytes.data(), bytes.size(), now);
  EXPECT_EQ(r.refused.code, errc::malformed);
  EXPECT_TRUE(s.take_events().empty());
  EXPECT_EQ(s.counters().malformed, 1u);
}

// -- ConnectionBind on a data connection --------------------------------------

class TurnConnectionBind : public TurnTcp {
protected:
  void SetUp() override {
    server.allocate(s, now);
    ASSERT_TRUE(s.auth());
    auto b = build_turn_connection_bind(id, 55, *s.auth());
    ASSERT_OK(b);
    request = *b;
  }
  stun_txid id = stun_txid::random();
  std::vector<uint8_t> request;
};

TEST_F(TurnConnectionBind, TheRequestCarriesTheConnectionIdAndTheSessionsCredentials) {
  auto m = decode_stun(request);
  ASSERT_OK(m);
  EXPECT_EQ(m->method(), stun_method::connection_bind);
  EXPECT_EQ(turn_connection_id(*m), 55u);
  EXPECT_EQ(m->realm(), server.realm);
  EXPECT_EQ(m->nonce(), server.nonce);
  EXPECT_TRUE(m->integrity_ok(server.key));
}

TEST_F(TurnConnectionBind, ASignedSuccessIsTakenAndThePeersBytesAfterItAreLeft) {
  auto ok = with_connection_id(stun_class::success, stun_method::connection_bind, id, 55);
  auto buf = ok;
  buf.insert(buf.end(), {'h', 'i'});
  auto n = check_turn_connection_bind(buf.data(), buf.size(), id, server.key, 55);
  ASSERT_OK(n);
  EXPECT_EQ(*n, ok.size());
}

TEST_F(TurnConnectionBind, APartAnswerWaitsForMore) {
  auto ok = with_connection_id(stun_class::success, stun_method::connection_bind, id, 55);
  auto n = check_turn_connection_bind(ok.data(), ok.size() - 1, id, server.key, 55);
  ASSERT_OK(n);
  EXPECT_EQ(*n, 0u);
}

TEST_F(TurnConnectionBind, AnUnsignedSuccessIsForged) {
  auto ok = with_connection_id(stun_class::success, stun_method::connection_bind, id, 55, false);
  auto n = check_turn_connection_bind(ok.data(), ok.size(), id, server.key, 55);
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().code, errc::forged);
}

TEST_F(TurnConnectionBind, ARefusalSaysItsCode) {
  auto req = decode_stun(request);
  ASSERT_OK(req);
  auto no = server.error(*req, 400, "Bad Request", true);
  auto n = check_turn_connection_bind(no.data(), no.size(), id, server.key, 55);
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().code, errc::server_refused);
  EXPECT_NE(n.error().what.find("400"), std::string::npos) << n.error().what;
}

TEST_F(TurnConnectionBind, AnAnswerToAnotherTransactionIsNotOurs) {
  auto other = with_connection_id(stun_class::success, stun_method::connection_bind,
                                  stun_txid::random(), 55);
  auto n = check_turn_connection_bind(other.data(), other.size(), id, server.key, 55);
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().code, errc::not_for_us);
}

TEST_F(TurnConnectionBind, BytesThatAreNotStunAreMalformed) {
  std::vector<uint8_t> junk(24, 0xFF);
  auto n = check_turn_connection_bind(junk.data(), junk.size(), id, server.key, 55);
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().code, errc::malformed);
}
