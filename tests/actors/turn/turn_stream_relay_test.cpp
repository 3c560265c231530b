// The TCP relay (RFC 6062) against a real coturn started by the test: peers'
// connections to the relayed address, our connects through it, refusals,
// close. Peers outside p2pd are plain TCP sockets on loopback.

#include <netinet/in.h>

#include "actors/turn/turn_fixture.hpp"
#include "support/printers.hpp"
#include "support/values.hpp"

#include "p2pd/actors/turn/turn_stream_relay.hpp"

using namespace p2pd;
using namespace p2pd::test;
using namespace std::chrono_literals;

namespace {

class TurnStreamRelay : public turn_fixture {
protected:
  // A relay on our account; the test is its acceptor and hears its data
  // pipes' events.
  turn_stream_relay_spec relay_spec(caf::scoped_actor& self) const {
    turn_stream_relay_spec s;
    s.server.server = server->primary();
    s.server.transport = net::protocol::tcp;
    s.server.username = server->options().user;
    s.server.password = server->options().password;
    s.timing = loopback_stun_timing();
    s.data.conf.con_timeout = 3s;
    s.data.subscribers.push_back(subscriber{as_actor(self), events::all});
    s.acceptor = as_actor(self);
    return s;
  }

  caf::expected<endpoint> open(caf::scoped_actor& self, turn_stream_relay_spec s,
                               turn_stream_relay_actor& out) {
    out = spawn_turn_stream_relay(rt.system(), std::move(s));
    caf::expected<endpoint> got{make_error(errc::io_failed, "no answer")};
    self->request(out, 10s, caf::open_atom::value)
      .receive([&](endpoint& e) { got = e; }, [&](caf::error& e) { got = std::move(e); });
    return got;
  }

  caf::error permit(caf::scoped_actor& self, const turn_stream_relay_actor& r,
                    const endpoint& peer) {
    caf::error out;
    self->request(r, 5s, permit_atom::value, peer)
      .receive([](caf::ok_atom) {}, [&](caf::error& e) { out = std::move(e); });
    return out;
  }

  // The next message from `pipe`'s connection, skipping other events.
  std::optional<std::string> next_text(caf::scoped_actor& self, const pipe_actor& pipe,
                                       caf::timespan timeout = 5s) {
    std::optional<std::string> out;
    receive_until<pipe_msg>(self, timeout, [&](pipe_msg& m) {
      if (m.pipe != pipe)
        return false;
      out = to_string(m.data);
      return true;
    });
    return out;
  }

  turn_relay_stats stats(caf::scoped_actor& self, const turn_stream_relay_actor& r) {
    turn_relay_stats out;
    self->request(r, 5s, stats_atom::value)
      .receive([&](turn_relay_stats& s) { out = s; }, [](caf::error&) {});
    return out;
  }
};

} // namespace

TEST_F(TurnStreamRelay, APermittedPeersConnectionReachesTheOwnerAsAStream) {
  start_server();
  caf::scoped_actor self{rt.system()};
  turn_stream_relay_actor r;
  auto relayed = open(self, relay_spec(self), r);
  ASSERT_OK(relayed);
  EXPECT_EQ(relayed->ip.to_string(), "127.0.0.1");
  ASSERT_FALSE(permit(self, r, ep("127.0.0.1:0")));
  auto peer = raw_connect(*relayed);
  ASSERT_TRUE(static_cast<bool>(peer));
  // Sent before the relay bound the connection: the server keeps it, and
  // it must come as the stream's first bytes.
  ASSERT_TRUE(raw_write(peer.get(), "first from the peer"));
  auto s = next<turn_stream>(self, 5s);
  ASSERT_TRUE(s) << "the peer's connection did not reach the owner";
  EXPECT_EQ(s->peer, raw_local(peer.get()));
  EXPECT_EQ(s->info.remote, server->primary());
  EXPECT_EQ(next_text(self, s->pipe), "first from the peer");
  self->send(s->pipe, send_atom::value, to_bytes("and back"));
  EXPECT_EQ(raw_read(peer.get(), 8, 3000ms), "and back");
  EXPECT_EQ(stats(self, r).accepted, 1u);
}

TEST_F(TurnStreamRelay, AnUnpermittedPeerNeverReachesTheOwner) {
  start_server();
  caf::scoped_actor self{rt.system()};
  turn_stream_relay_actor r;
  auto relayed = open(self, relay_spec(self), r);
  ASSERT_OK(relayed);
  auto peer = raw_connect(*relayed); // the server may take it, but tells us nothing
  if (static_cast<bool>(peer))
    raw_write(peer.get(), "let me in");
  EXPECT_FALSE(next<turn_stream>(self, 1500ms));
  EXPECT_EQ(stats(self, r).accepted, 0u);
}

TEST_F(TurnStreamRelay, ConnectToAPortNobodyListensOnFailsWith447) {
  start_server();
  caf::scoped_actor self{rt.system()};
  turn_stream_relay_actor r;
  ASSERT_OK(open(self, relay_spec(self), r));
  endpoint nobody{net::ip_address::loopback(net::family::v4), free_port(net::protocol::tcp)};
  caf::error err;
  self->request(r, 10s, turn_connect_atom::value, nobody)
    .receive([](turn_stream&) {}, [&](caf::error& e) { err = std::move(e); });
  ASSERT_TRUE(err) << "a connect to a closed port succeeded";
  EXPECT_EQ(code_of(err), errc::connect_failed) << render(err);
  EXPECT_NE(render(err).find("447"), std::string::npos) << render(err);
}

TEST_F(TurnStreamRelay, ConnectGivesAStreamWithThePeersFirstBytes) {
  start_server();
  caf::scoped_actor self{rt.system()};
  turn_stream_relay_actor r;
  ASSERT_OK(open(self, relay_spec(self), r));
  endpoint listening;
  auto lfd = raw_listener(listening);
  ASSERT_TRUE(static_cast<bool>(lfd));
  auto req = self->request(r, 10s, turn_connect_atom::value, listening);
  // The server's connection to the peer comes before the relay binds it;
  // the peer speaks at once.
  auto conn = raw_accept(lfd.get(), 5000ms);
  ASSERT_TRUE(static_cast<bool>(conn)) << "the server did not connect to the peer";
  ASSERT_TRUE(raw_write(conn.get(), "peer speaks first"));
  std::optional<turn_stream> s;
  caf::error err;
  req.receive([&](turn_stream& x) { s = x; }, [&](caf::error& e) { err = std::move(e); });
  ASSERT_TRUE(s) << render(err);
  EXPECT_EQ(s->peer, listening);
  EXPECT_EQ(next_text(self, s->pipe), "peer speaks first");
  self->send(s->pipe, send_atom::value, to_bytes("hello peer"));
  EXPECT_EQ(raw_read(conn.get(), 10, 3000ms), "hello peer");
  EXPECT_EQ(stats(self, r).connected, 1u);
}

TEST_F(TurnStreamRelay, TwoAllocationsConnectedToEachOtherCarryBytesBothWays) {
  start_server();
  caf::scoped_actor self{rt.system()};
  turn_stream_relay_actor a;
  turn_stream_relay_actor b;
  ASSERT_OK(open(self, relay_spec(self), a));
  auto b_relayed = open(self, relay_spec(self), b);
  ASSERT_OK(b_relayed);
  ASSERT_FALSE(permit(self, b, ep("127.0.0.1:0")));
  std::optional<turn_stream> from_a;
  caf::error err;
  self->request(a, 10s, turn_connect_atom::value, *b_relayed)
    .receive([&](turn_stream& x) { from_a = x; }, [&](caf::error& e) { err = std::move(e); });
  ASSERT_TRUE(from_a) << render(err);
  auto at_b = next<turn_stream>(self, 5s);
  ASSERT_TRUE(at_b) << "B's allocation did not hand on A's connection";
  self->send(from_a->pipe, send_atom::value, to_bytes("a to b"));
  EXPECT_EQ(next_text(self, at_b->pipe), "a to b");
  self->send(at_b->pipe, send_atom::value, to_bytes("b to a"));
  EXPECT_EQ(next_text(self, from_a->pipe), "b to a");
}

TEST_F(TurnStreamRelay, WrongCredentialsAreRefused) {
  start_server();
  caf::scoped_actor self{rt.system()};
  auto s = relay_spec(self);
  s.server.password = "not the password";
  turn_stream_relay_actor r;
  auto got = open(self, std::move(s), r);
  ASSERT_FALSE(got);
  EXPECT_EQ(code_of(got.error()), errc::auth_refused) << render(got.error());
}

TEST_F(TurnStreamRelay, CloseDeletesTheAllocationAndFreesTheQuota) {
  coturn_options o;
  o.user_quota = 1;
  o.verbose = true; // its log says what lifetime each refresh set
  start_server(o);
  caf::scoped_actor self{rt.system()};
  turn_stream_relay_actor r;
  ASSERT_OK(open(self, relay_spec(self), r));
  bool closed = false;
  self->request(r, 5s, caf::close_atom::value)
    .receive([&](caf::ok_atom) { closed = true; }, [](caf::error&) {});
  ASSERT_TRUE(closed);
  EXPECT_NE(server->log().find("lifetime=0"), std::string::npos) << server->log();
  // coturn ends the deleted session on its next timer tick (about a
  // second); without the deletion the quota would stay taken for 600 s.
  caf::expected<endpoint> again{make_error(errc::io_failed, "not tried")};
  for (int i = 0; i < 30; ++i) {
    turn_stream_relay_actor r2;
    again = open(self, relay_spec(self), r2);
    if (again || code_of(again.error()) != errc::quota_exceeded)
      break;
    self->receive(caf::after(100ms) >> [] {});
  }
  ASSERT_OK(again) << server->log();
}
