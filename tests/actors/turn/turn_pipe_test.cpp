// The TURN pipe against a real coturn started by the test: allocation,
// data both ways through the relay, refusals, restart, close.

#include "actors/turn/turn_fixture.hpp"
#include "support/printers.hpp"
#include "support/values.hpp"

using namespace p2pd;
using namespace p2pd::test;
using namespace std::chrono_literals;

namespace {

class TurnPipe : public turn_fixture {
protected:
  // A peer outside p2pd: a plain UDP socket on loopback.
  net::unique_fd peer = raw_udp(ep("127.0.0.1:0"));
  endpoint peer_ep() const { return raw_local(peer.get()); }

  // We send `text` to the peer through the relay; it must arrive from the
  // relayed address.
  void expect_relayed_to_peer(caf::scoped_actor& self, const turn_pipe_actor& p,
                              const endpoint& relayed, const std::string& text) {
    self->send(p, send_atom::value, to_bytes(text), peer_ep());
    auto got = raw_recv_from(peer.get(), 3000ms);
    ASSERT_TRUE(got) << "nothing reached the peer through the relay";
    EXPECT_EQ(got->data, text);
    EXPECT_EQ(got->from, relayed);
  }

  // The peer sends `text` to the relayed address; it must come to us from
  // the peer.
  void expect_peer_to_us(caf::scoped_actor& self, const endpoint& relayed,
                         const std::string& text) {
    ASSERT_TRUE(raw_send_to(peer.get(), relayed, text));
    auto m = next_msg(self, 3s);
    ASSERT_TRUE(m) << "nothing came through the relay from the peer";
    EXPECT_EQ(to_string(m->data), text);
    EXPECT_EQ(m->from, peer_ep());
  }
};

} // namespace

TEST_F(TurnPipe, AllocatesARelayedAddressOnTheServer) {
  start_server();
  caf::scoped_actor self{rt.system()};
  auto info = open(self, spec());
  ASSERT_OK(info);
  EXPECT_EQ(info->proto, udp);
  EXPECT_TRUE(info->server);
  EXPECT_EQ(info->local.ip.to_string(), "127.0.0.1");
  EXPECT_NE(info->local.port, 0);
  EXPECT_EQ(info->remote, server->primary());
}

TEST_F(TurnPipe, DataGoesBothWaysBetweenUsAndAPeerThroughTheRelay) {
  start_server();
  caf::scoped_actor self{rt.system()};
  turn_pipe_actor p;
  auto info = open(self, spec(), &p);
  ASSERT_OK(info);
  expect_relayed_to_peer(self, p, info->local, "hello peer");
  expect_peer_to_us(self, info->local, "hello relay user");
  expect_relayed_to_peer(self, p, info->local, "second, as ChannelData");
  auto st = stats(self, p);
  EXPECT_EQ(st.tx_msgs, 2u);
  EXPECT_EQ(st.rx_msgs, 1u);
}

TEST_F(TurnPipe, OverTcpToTheServerTheRelayStillCarriesDatagrams) {
  start_server();
  caf::scoped_actor self{rt.system()};
  turn_pipe_actor p;
  auto info = open(self, spec(net::protocol::tcp), &p);
  ASSERT_OK(info);
  expect_relayed_to_peer(self, p, info->local, "over a stream to the server");
  expect_peer_to_us(self, info->local, "and back");
}

TEST_F(TurnPipe, AWrongPasswordIsRefusedWithAuthRefused) {
  start_server();
  caf::scoped_actor self{rt.system()};
  auto s = spec();
  s.server.password = "not-it";
  auto info = open(self, s);
  ASSERT_FALSE(info);
  EXPECT_ERRC(info.error(), errc::auth_refused);
  EXPECT_NE(render(info.error()).find("401"), std::string::npos) << render(info.error());
}

TEST_F(TurnPipe, AnUnknownUserIsRefusedWithAuthRefused) {
  start_server();
  caf::scoped_actor self{rt.system()};
  auto s = spec();
  s.server.username = "mallory";
  auto info = open(self, s);
  ASSERT_FALSE(info);
  EXPECT_ERRC(info.error(), errc::auth_refused);
}

TEST_F(TurnPipe, AnAllocationPastTheUsersQuotaIsQuotaExceeded) {
  coturn_options o;
  o.user_quota = 1;
  start_server(o);
  caf::scoped_actor self{rt.system()};
  ASSERT_OK(open(self, spec()));
  auto second = open(self, spec());
  ASSERT_FALSE(second);
  EXPECT_ERRC(second.error(), errc::quota_exceeded);
}

TEST_F(TurnPipe, CloseDeletesTheAllocationAndFreesTheQuota) {
  coturn_options o;
  o.user_quota = 1;
  o.verbose = true; // its log says what lifetime each refresh set
  start_server(o);
  caf::scoped_actor self{rt.system()};
  turn_pipe_actor p;
  ASSERT_OK(open(self, spec(), &p));
  bool closed = false;
  self->request(p, 5s, caf::close_atom::value)
    .receive([&](caf::ok_atom) { closed = true; }, [](caf::error&) {});
  ASSERT_TRUE(closed);
  EXPECT_NE(server->log().find("refreshed, realm=<p2pd.test>, username=<alice>, lifetime=0"),
            std::string::npos)
    << server->log();
  // coturn ends the deleted session on its next timer tick (about a
  // second); without the deletion the quota would stay taken for the
  // allocation's 600 s.
  caf::expected<pipe_info> again{make_error(errc::io_failed, "not tried")};
  for (int i = 0; i < 30; ++i) {
    again = open(self, spec());
    if (again || code_of(again.error()) != errc::quota_exceeded)
      break;
    self->receive(caf::after(100ms) >> [] {});
  }
  ASSERT_OK(again) << server->log();
}

TEST_F(TurnPipe, AServerThatNeverAnswersFailsWithRecvTimeoutAndTheSendCount) {
  auto mute = raw_udp(ep("127.0.0.1:0")); // bound, never answers
  caf::scoped_actor self{rt.system()};
  turn_pipe_spec s;
  s.server.server = raw_local(mute.get());
  s.server.username = "alice";
  s.server.password = "wonderland";
  s.timing = loopback_stun_timing();
  auto info = open(self, s);
  ASSERT_FALSE(info);
  EXPECT_ERRC(info.error(), errc::recv_timeout);
  EXPECT_NE(render(info.error()).find("3 sends"), std::string::npos) << render(info.error());
}

TEST_F(TurnPipe, AnIpv6RelayIsAllocatedOnRequest) {
  coturn_options o;
  o.ipv6 = true;
  start_server(o);
  caf::scoped_actor self{rt.system()};
  auto s = spec();
  s.server.server = server->primary_v6();
  s.relay_family = net::family::v6;
  turn_pipe_actor p;
  auto info = open(self, s, &p);
  ASSERT_OK(info);
  EXPECT_EQ(info->local.ip.to_string(), "::1");
  auto peer6 = raw_udp(ep("[::1]:0"));
  self->send(p, send_atom::value, to_bytes("v6"), raw_local(peer6.get()));
  auto got = raw_recv_from(peer6.get(), 3000ms);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->from, info->local);
}

TEST_F(TurnPipe, AStaleNonceIsRenewedAndTheAllocationKept) {
  coturn_options o;
  o.stale_nonce_s = 1;    // every refresh finds its nonce stale
  o.max_lifetime_s = 2;   // refreshed each second
  start_server(o);
  caf::scoped_actor self{rt.system()};
  turn_pipe_actor p;
  auto info = open(self, spec(), &p);
  ASSERT_OK(info);
  // Three lifetimes: without the refreshes (and their 438 retries) the
  // allocation would be gone.
  auto lost = next_status(self, turn_status::kind::lost, 5s);
  EXPECT_FALSE(lost) << render(lost->reason);
  expect_relayed_to_peer(self, p, info->local, "still here");
}

TEST_F(TurnPipe, AServerRestartIsNoticedAndTheAllocationMadeAgain) {
  coturn_options o;
  o.max_lifetime_s = 2; // refreshed each second: a restart shows at once
  start_server(o);
  caf::scoped_actor self{rt.system()};
  turn_pipe_actor p;
  auto info = open(self, spec(), &p);
  ASSERT_OK(info);
  expect_relayed_to_peer(self, p, info->local, "before");
  std::string why;
  ASSERT_TRUE(server->restart(why)) << why;
  auto lost = next_status(self, turn_status::kind::lost, 5s);
  ASSERT_TRUE(lost) << "the restart went unnoticed";
  EXPECT_ERRC(lost->reason, errc::allocation_lost);
  auto again = next_status(self, turn_status::kind::allocated, 10s);
  ASSERT_TRUE(again) << "no new allocation after the restart";
  expect_relayed_to_peer(self, p, again->relayed, "after");
}

TEST_F(TurnPipe, SendBeforeTheAllocationAndWithoutAPeerIsRefused) {
  start_server();
  caf::scoped_actor self{rt.system()};
  auto p = spawn_turn_pipe(rt.system(), spec());
  bool refused = false;
  self->request(p, 5s, send_atom::value, to_bytes("early"), peer_ep())
    .receive([] {}, [&](caf::error& e) {
      refused = true;
      EXPECT_ERRC(e, errc::pipe_closed);
    });
  EXPECT_TRUE(refused);
  ASSERT_OK(open(self, spec()));
}

TEST_F(TurnPipe, ASendWithoutAPeerIsRefusedWithUnknownPeer) {
  start_server();
  caf::scoped_actor self{rt.system()};
  turn_pipe_actor p;
  ASSERT_OK(open(self, spec(), &p));
  bool refused = false;
  self->request(p, 5s, send_atom::value, to_bytes("to whom?"))
    .receive([] {}, [&](caf::error& e) {
      refused = true;
      EXPECT_ERRC(e, errc::unknown_peer);
    });
  EXPECT_TRUE(refused);
}

TEST_F(TurnPipe, APermittedPeerReachesUsBeforeWeSendToIt) {
  start_server();
  caf::scoped_actor self{rt.system()};
  turn_pipe_actor p;
  auto info = open(self, spec(), &p);
  ASSERT_OK(info);
  bool ok = false;
  self->request(p, 5s, permit_atom::value, peer_ep())
    .receive([&](caf::ok_atom) { ok = true; }, [](caf::error&) {});
  ASSERT_TRUE(ok);
  // The permission is asked for now; the first datagram may beat it.
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(raw_send_to(peer.get(), info->local, "knock"));
    if (auto m = next_msg(self, 100ms)) {
      EXPECT_EQ(to_string(m->data), "knock");
      EXPECT_EQ(m->from, peer_ep());
      return;
    }
  }
  FAIL() << "a permitted peer never got through";
}

TEST_F(TurnPipe, AnUnpermittedPeerIsDroppedByTheServer) {
  start_server();
  caf::scoped_actor self{rt.system()};
  auto info = open(self, spec());
  ASSERT_OK(info);
  ASSERT_TRUE(raw_send_to(peer.get(), info->local, "let me in"));
  EXPECT_FALSE(next_msg(self, 300ms));
}
