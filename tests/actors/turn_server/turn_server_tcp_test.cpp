// TCP allocations (RFC 6062) on our TURN server: the project's TCP relay
// client (turn_stream_relay) through it both ways, refused connects,
// ConnectionBind refusals, and peers' connections left unbound. Peers are
// plain TCP sockets on loopback.

#include <netinet/in.h>
#include <poll.h>

#include "actors/turn_server/turn_server_fixture.hpp"
#include "support/printers.hpp"

#include "p2pd/actors/turn/turn_stream_relay.hpp"
#include "p2pd/net/turn/turn_tcp.hpp"

using namespace p2pd;
using namespace p2pd::test;
using namespace std::chrono_literals;

namespace {

bool tcp_write(int fd, const std::vector<uint8_t>& b) {
  return raw_write(fd, std::string(b.begin(), b.end()));
}

// One STUN message from a stream within 2 s.
std::optional<net::stun_message> tcp_read_stun(int fd) {
  auto head = raw_read(fd, 20, 2000ms);
  if (head.size() != 20)
    return std::nullopt;
  size_t len = (uint8_t(head[2]) << 8) | uint8_t(head[3]);
  auto body = raw_read(fd, len, 2000ms);
  if (body.size() != len)
    return std::nullopt;
  auto all = head + body;
  auto m = net::decode_stun(reinterpret_cast<const uint8_t*>(all.data()), all.size());
  if (!m)
    return std::nullopt;
  return std::move(*m);
}

class TurnServerTcp : public turn_server_fixture {
protected:
  turn_stream_relay_spec relay_spec() {
    turn_stream_relay_spec s;
    s.server = turn_server{addr, net::protocol::tcp, user, password};
    s.timing = loopback_stun_timing();
    s.local = net::ip_address::loopback(net::family::v4);
    s.data.conf.con_timeout = 3s;
    s.data.subscribers.push_back(subscriber{as_actor(self), events::all});
    s.acceptor = as_actor(self);
    return s;
  }

  caf::expected<endpoint> open_relay(turn_stream_relay_actor& out) {
    out = spawn_turn_stream_relay(rt.system(), relay_spec());
    caf::expected<endpoint> got{make_error(errc::io_failed, "no answer")};
    self->request(out, 10s, caf::open_atom::value)
      .receive([&](endpoint& e) { got = e; }, [&](caf::error& e) { got = std::move(e); });
    return got;
  }

  caf::error permit(const turn_stream_relay_actor& r, const endpoint& peer) {
    caf::error out;
    self->request(r, 5s, permit_atom::value, peer)
      .receive([](caf::ok_atom) {}, [&](caf::error& e) { out = std::move(e); });
    return out;
  }

  caf::expected<turn_stream> connect(const turn_stream_relay_actor& r, const endpoint& peer) {
    caf::expected<turn_stream> got{make_error(errc::io_failed, "no answer")};
    self->request(r, 10s, turn_connect_atom::value, peer)
      .receive([&](turn_stream& s) { got = std::move(s); },
               [&](caf::error& e) { got = std::move(e); });
    return got;
  }

  std::optional<std::string> next_text(const pipe_actor& pipe, caf::timespan timeout = 5s) {
    std::optional<std::string> out;
    receive_until<pipe_msg>(self, timeout, [&](pipe_msg& m) {
      if (m.pipe != pipe)
        return false;
      out = to_string(m.data);
      return true;
    });
    return out;
  }

  // A raw TCP TURN control connection's credentials: an unsigned request
  // gets 401 with the realm and nonce.
  std::optional<net::turn_auth> raw_auth(int fd) {
    net::turn_allocate_params p;
    auto first = net::build_turn_allocate(net::stun_txid::random(), p, nullptr, "test");
    if (!first || !tcp_write(fd, *first))
      return std::nullopt;
    auto r = tcp_read_stun(fd);
    if (!r || !r->realm() || !r->nonce())
      return std::nullopt;
    auto key = net::stun_key::long_term(user, *r->realm(), password);
    if (!key)
      return std::nullopt;
    return net::turn_auth{user, *r->realm(), *r->nonce(), *key};
  }

  // A raw TCP allocation on control connection `c` with a permission for
  // 127.0.0.1: its relayed address.
  std::optional<endpoint> raw_tcp_allocation(int c, net::turn_auth& auth) {
    net::turn_allocate_params p;
    p.relay_transport = net::protocol::tcp;
    auto alloc = net::build_turn_allocate(net::stun_txid::random(), p, &auth, "test");
    if (!alloc || !tcp_write(c, *alloc))
      return std::nullopt;
    auto a = tcp_read_stun(c);
    if (!a || a->cls() != net::stun_class::success) {
      ADD_FAILURE() << "TCP Allocate refused: " << error_of(a);
      return std::nullopt;
    }
    auto relayed = a->addresses(net::stun_attr::xor_relayed_address);
    auto perm = net::build_turn_permission(net::stun_txid::random(), {ep("127.0.0.1:1")}, &auth);
    if (relayed.size() != 1 || !perm || !tcp_write(c, *perm))
      return std::nullopt;
    auto pr = tcp_read_stun(c);
    if (!pr || pr->cls() != net::stun_class::success) {
      ADD_FAILURE() << "CreatePermission refused: " << error_of(pr);
      return std::nullopt;
    }
    return relayed.front();
  }
};

} // namespace

TEST_F(TurnServerTcp, APeersConnectionToTheRelayedAddressReachesTheStreamRelayBothWays) {
  start();
  turn_stream_relay_actor r;
  auto relayed = open_relay(r);
  ASSERT_OK(relayed);
  ASSERT_FALSE(permit(r, ep("127.0.0.1:0")));
  auto peer = raw_connect(*relayed);
  ASSERT_TRUE(static_cast<bool>(peer));
  auto s = next<turn_stream>(self, 5s);
  ASSERT_TRUE(s) << "the peer's connection did not reach the owner";
  EXPECT_EQ(s->peer, raw_local(peer.get()));
  ASSERT_TRUE(raw_write(peer.get(), "first from the peer"));
  EXPECT_EQ(next_text(s->pipe), "first from the peer");
  self->send(s->pipe, send_atom::value, to_bytes("and back"));
  EXPECT_EQ(raw_read(peer.get(), 8, 3000ms), "and back");
  ASSERT_TRUE(raw_write(peer.get(), "again"));
  EXPECT_EQ(next_text(s->pipe), "again");
  auto st = stats_when([](auto& x) { return x.tcp_bound == 1; });
  EXPECT_EQ(st.tcp_attempts, 1u);
  EXPECT_EQ(st.tcp_bound, 1u);
  EXPECT_EQ(st.tcp_connections, 1u);
}

TEST_F(TurnServerTcp, AConnectThroughTheRelayReachesAListeningPeerBothWays) {
  start();
  endpoint at;
  auto lst = raw_listener(at);
  ASSERT_TRUE(static_cast<bool>(lst));
  turn_stream_relay_actor r;
  ASSERT_OK(open_relay(r));
  ASSERT_FALSE(permit(r, at));
  auto s = connect(r, at);
  ASSERT_OK(s);
  auto peer = raw_accept(lst.get(), 3000ms);
  ASSERT_TRUE(static_cast<bool>(peer));
  self->send(s->pipe, send_atom::value, to_bytes("to the peer"));
  EXPECT_EQ(raw_read(peer.get(), 11, 3000ms), "to the peer");
  ASSERT_TRUE(raw_write(peer.get(), "from the peer"));
  EXPECT_EQ(next_text(s->pipe), "from the peer");
  // A second connect to the same peer: 446.
  auto again = connect(r, at);
  ASSERT_FALSE(again);
  EXPECT_EQ(code_of(again.error()), errc::connection_exists);
  EXPECT_EQ(stats().tcp_connected, 1u);
}

TEST_F(TurnServerTcp, AConnectToARefusedPortFailsWith447) {
  start();
  endpoint at;
  {
    auto lst = raw_listener(at); // bound, then closed: nothing listens there
  }
  turn_stream_relay_actor r;
  ASSERT_OK(open_relay(r));
  ASSERT_FALSE(permit(r, at));
  auto s = connect(r, at);
  ASSERT_FALSE(s);
  EXPECT_EQ(code_of(s.error()), errc::connect_failed) << render(s.error());
  EXPECT_EQ(stats().tcp_connect_failed, 1u);
}

TEST_F(TurnServerTcp, AConnectionBindWithAnUnknownIdGets400) {
  start();
  auto c = raw_connect(addr);
  ASSERT_TRUE(static_cast<bool>(c));
  auto auth = raw_auth(c.get());
  ASSERT_TRUE(auth);
  auto bind = net::build_turn_connection_bind(net::stun_txid::random(), 12345, *auth);
  ASSERT_OK(bind);
  ASSERT_TRUE(tcp_write(c.get(), *bind));
  EXPECT_EQ(error_of(tcp_read_stun(c.get())), 400);
}

TEST_F(TurnServerTcp, AUdpAllocationAsksTcpOverUdpAndGets442) {
  start();
  raw_turn_client c{addr};
  net::turn_allocate_params p;
  p.relay_transport = net::protocol::tcp;
  auto first = net::build_turn_allocate(net::stun_txid::random(), p, nullptr, "test");
  ASSERT_OK(first);
  auto r = c.ask(*first);
  ASSERT_TRUE(r && r->realm() && r->nonce());
  auto key = net::stun_key::long_term(user, *r->realm(), password);
  ASSERT_OK(key);
  net::turn_auth auth{user, *r->realm(), *r->nonce(), *key};
  auto second = net::build_turn_allocate(net::stun_txid::random(), p, &auth, "test");
  ASSERT_OK(second);
  EXPECT_EQ(error_of(c.ask(*second)), 442);
}

TEST_F(TurnServerTcp, APeersConnectionLeftUnboundIsClosedAfterTheBindTimeout) {
  auto spec = base_spec();
  spec.tcp_bind_timeout = 300ms;
  spec.sweep_interval = 50ms;
  start(spec);
  auto c = raw_connect(addr);
  ASSERT_TRUE(static_cast<bool>(c));
  auto auth = raw_auth(c.get());
  ASSERT_TRUE(auth);
  auto relayed = raw_tcp_allocation(c.get(), *auth);
  ASSERT_TRUE(relayed);
  auto peer = raw_connect(*relayed);
  ASSERT_TRUE(static_cast<bool>(peer));
  auto attempt = tcp_read_stun(c.get());
  ASSERT_TRUE(attempt);
  EXPECT_EQ(attempt->method(), net::stun_method::connection_attempt);
  EXPECT_TRUE(net::turn_connection_id(*attempt));
  // Never bound: the server closes the peer's connection.
  EXPECT_TRUE(raw_wait_closed(peer.get(), 3000ms));
  auto st = stats_when([](auto& x) { return x.tcp_unbound_expired == 1; });
  EXPECT_EQ(st.tcp_unbound_expired, 1u);
  EXPECT_EQ(st.tcp_connections, 0u);
}

TEST_F(TurnServerTcp, APeersBytesBeforeTheBindComeFirstOnTheBoundDataConnection) {
  start();
  auto c = raw_connect(addr);
  ASSERT_TRUE(static_cast<bool>(c));
  auto auth = raw_auth(c.get());
  ASSERT_TRUE(auth);
  auto relayed = raw_tcp_allocation(c.get(), *auth);
  ASSERT_TRUE(relayed);
  auto peer = raw_connect(*relayed);
  ASSERT_TRUE(static_cast<bool>(peer));
  ASSERT_TRUE(raw_write(peer.get(), "early"));
  auto attempt = tcp_read_stun(c.get());
  ASSERT_TRUE(attempt);
  auto cid = net::turn_connection_id(*attempt);
  ASSERT_TRUE(cid);
  // Wait until the server holds the early bytes, then bind.
  stats_when([](auto& x) { return x.tcp_attempts == 1; });
  self->receive(caf::after(std::chrono::milliseconds{100}) >> [] {});
  auto data = raw_connect(addr);
  ASSERT_TRUE(static_cast<bool>(data));
  auto bind = net::build_turn_connection_bind(net::stun_txid::random(), *cid, *auth);
  ASSERT_OK(bind);
  ASSERT_TRUE(tcp_write(data.get(), *bind));
  auto ok = tcp_read_stun(data.get());
  ASSERT_TRUE(ok && ok->cls() == net::stun_class::success) << error_of(ok);
  EXPECT_EQ(raw_read(data.get(), 5, 3000ms), "early");
  // Raw both ways now: bytes that are no TURN message pass as they are.
  ASSERT_TRUE(raw_write(data.get(), std::string("\x40\x01\xff\xffhi", 6)));
  EXPECT_EQ(raw_read(peer.get(), 6, 3000ms), std::string("\x40\x01\xff\xffhi", 6));
  // A second bind of the same id: 400.
  auto data2 = raw_connect(addr);
  ASSERT_TRUE(static_cast<bool>(data2));
  auto bind2 = net::build_turn_connection_bind(net::stun_txid::random(), *cid, *auth);
  ASSERT_OK(bind2);
  ASSERT_TRUE(tcp_write(data2.get(), *bind2));
  EXPECT_EQ(error_of(tcp_read_stun(data2.get())), 400);
  // The peer leaves: its data connection closes.
  peer = net::unique_fd{};
  EXPECT_TRUE(raw_wait_closed(data.get(), 3000ms));
}
