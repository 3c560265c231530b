#include <cerrno>
#include <string>

#include "world_fixture.hpp"

namespace p2pd::sim::test {
namespace {

// The node saw exactly one failed connect, with this code and errno.
void expect_one_failure(const node& n, net::errc code, int sys_errno) {
  auto failed = n.of(tcp_event::failed);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].code, code);
  EXPECT_EQ(failed[0].sys_errno, sys_errno);
}

// A and B, each behind a port-restricted NAT with equal allocation (the
// mapping keeps the local port): 203.0.113.1 and 203.0.113.2.
struct two_sites {
  world w;
  node& a = w.inside(w.site(preset(net::nat_type::port_restricted, net::delta_type::equal),
                            "203.0.113.1", "192.168.1.10"));
  node& b = w.inside(w.site(preset(net::nat_type::port_restricted, net::delta_type::equal),
                            "203.0.113.2", "192.168.2.10"));
};

TEST(SimFabricTcp, ConnectAcceptDataAndFinToAPublicHost) {
  world w;
  auto& server = w.public_host("198.51.100.10");
  auto s1 = w.site(preset(net::nat_type::port_restricted, net::delta_type::equal), "203.0.113.1", "192.168.1.10");
  auto& c = w.inside(s1);
  auto l = server.tcp->listen(ep("0.0.0.0:80"));
  ASSERT_TRUE(l);
  auto sock = c.tcp->connect(ep("0.0.0.0:0"), ep("198.51.100.10:80"));
  ASSERT_TRUE(sock);
  EXPECT_EQ(c.tcp->state(*sock), tcp_state::syn_sent);
  w.run(ms(100)); // one round trip: 40 ms
  ASSERT_EQ(c.of(tcp_event::connected).size(), 1u);
  auto accepted = server.of(tcp_event::accepted);
  ASSERT_EQ(accepted.size(), 1u);
  EXPECT_EQ(accepted[0].listener, *l);
  EXPECT_EQ(accepted[0].remote.ip, ip("203.0.113.1")); // seen through the NAT
  const int conn = accepted[0].sock;
  EXPECT_FALSE(c.tcp->send(*sock, bytes("GET /")));
  EXPECT_FALSE(server.tcp->send(conn, bytes("200 OK")));
  w.run(ms(100));
  auto at_server = server.of(tcp_event::data);
  auto at_client = c.of(tcp_event::data);
  ASSERT_EQ(at_server.size(), 1u);
  ASSERT_EQ(at_client.size(), 1u);
  EXPECT_EQ(text(at_server[0].bytes), "GET /");
  EXPECT_EQ(text(at_client[0].bytes), "200 OK");
  // Orderly close from the client: EOF at the server, which closes too.
  EXPECT_FALSE(c.tcp->close(*sock));
  w.run(ms(100));
  ASSERT_EQ(server.of(tcp_event::eof).size(), 1u);
  EXPECT_EQ(server.tcp->send(conn, bytes("more")).code, net::errc::none); // half-closed: may still send
  EXPECT_FALSE(server.tcp->close(conn));
  w.run(ms(100));
  ASSERT_EQ(c.of(tcp_event::data).size(), 2u);
  ASSERT_EQ(c.of(tcp_event::eof).size(), 1u);
  EXPECT_EQ(c.tcp->socket_count(), 0u);
  EXPECT_EQ(server.tcp->socket_count(), 1u); // the listener
  EXPECT_EQ(w.net.stats().nat_dropped, 0u);
}

TEST(SimFabricTcp, ASocketsOwnHandlerTakesItsEventsAndTheHostsTheRest) {
  world w;
  auto& server = w.public_host("198.51.100.10");
  auto& c = w.public_host("198.51.100.20");
  auto l = server.tcp->listen(ep("0.0.0.0:80"));
  ASSERT_TRUE(l);
  std::vector<tcp_event> at_listener;
  server.tcp->on_event(*l, [&](tcp_event e) { at_listener.push_back(std::move(e)); });
  auto sock = c.tcp->connect(ep("0.0.0.0:0"), ep("198.51.100.10:80"));
  ASSERT_TRUE(sock);
  std::vector<tcp_event> at_conn;
  c.tcp->on_event(*sock, [&](tcp_event e) { at_conn.push_back(std::move(e)); });
  w.run(ms(100));
  ASSERT_EQ(at_listener.size(), 1u);
  EXPECT_EQ(at_listener[0].kind, tcp_event::accepted);
  EXPECT_TRUE(server.events.empty());
  ASSERT_EQ(at_conn.size(), 1u);
  EXPECT_EQ(at_conn[0].kind, tcp_event::connected);
  EXPECT_TRUE(c.events.empty());
  // The accepted connection has no handler of its own: the host's.
  EXPECT_FALSE(c.tcp->send(*sock, bytes("hi")));
  w.run(ms(100));
  ASSERT_EQ(server.of(tcp_event::data).size(), 1u);
  EXPECT_TRUE(c.tcp->abort(*sock).code == net::errc::none);
  w.run(ms(100));
  EXPECT_EQ(server.of(tcp_event::reset).size(), 1u);
  EXPECT_EQ(at_conn.size(), 1u); // aborted: no more events for it
}

TEST(SimFabricTcp, APassiveOpenWithoutAnAckIsRetriedThenDroppedUnseen) {
  world w;
  auto& server = w.public_host("198.51.100.10");
  auto& c = w.public_host("198.51.100.20");
  ASSERT_TRUE(server.tcp->listen(ep("0.0.0.0:80")));
  ASSERT_TRUE(c.tcp->connect(ep("0.0.0.0:0"), ep("198.51.100.10:80")));
  w.run(ms(10)); // the SYN is on its way
  c.tcp.reset(); // the client's stack goes: its SYN-ACKs find no one
  w.run(ms(62000)); // SYN-ACKs at 20 ms and 1, 3, 7, 15, 31 s later
  EXPECT_EQ(server.tcp->socket_count(), 2u); // the listener and the half-open
  EXPECT_EQ(w.net.stats().no_stack, 6u);
  w.run(ms(2000)); // the last wait (32 s) is over
  EXPECT_EQ(server.tcp->socket_count(), 1u);
  EXPECT_TRUE(server.events.empty());
}

TEST(SimFabricTcp, ConnectToAPortNobodyListensOnIsRefused) {
  world w;
  auto& server = w.public_host("198.51.100.10");
  auto& c = w.public_host("198.51.100.20");
  auto sock = c.tcp->connect(ep("0.0.0.0:0"), ep("198.51.100.10:81"));
  ASSERT_TRUE(sock);
  w.run(ms(100));
  expect_one_failure(c, net::errc::connect_refused, ECONNREFUSED);
  EXPECT_EQ(c.tcp->socket_count(), 0u);
  EXPECT_TRUE(server.events.empty());
}

TEST(SimFabricTcp, SynIsRetransmittedThenTimesOutThroughANatThatDropsIt) {
  host_tcp::config tcp;
  tcp.syn_retries = 3;
  world w{1, link_config{ms(20), {}, 0.0}, 0, tcp};
  auto& c = w.public_host("198.51.100.20");
  auto s1 = w.site(preset(net::nat_type::port_restricted, net::delta_type::equal), "203.0.113.1", "192.168.1.10");
  auto& inner = w.inside(s1);
  ASSERT_TRUE(inner.tcp->listen(ep("0.0.0.0:5000"))); // unreachable behind the filter
  auto sock = c.tcp->connect(ep("0.0.0.0:0"), ep("203.0.113.1:5000"));
  ASSERT_TRUE(sock);
  w.run(ms(14900)); // 1 + 2 + 4 + 8 s
  EXPECT_TRUE(c.events.empty());
  EXPECT_EQ(w.net.stats().nat_dropped, 4u); // the SYN and 3 retransmissions
  w.run(ms(200));
  expect_one_failure(c, net::errc::connect_timeout, ETIMEDOUT);
  EXPECT_TRUE(inner.events.empty());
}

TEST(SimFabricTcp, SimultaneousOpenThroughTwoPortRestrictedNats) {
  two_sites t;
  auto& w = t.w;
  auto& a = t.a;
  auto& b = t.b;
  // The punch pattern: each listens and connects from the same port, to the
  // other's mapping (equal allocation: the same port outside).
  ASSERT_TRUE(a.tcp->listen(ep("0.0.0.0:4000")));
  ASSERT_TRUE(b.tcp->listen(ep("0.0.0.0:5000")));
  auto sa = a.tcp->connect(ep("0.0.0.0:4000"), ep("203.0.113.2:5000"));
  auto sb = b.tcp->connect(ep("0.0.0.0:5000"), ep("203.0.113.1:4000"));
  ASSERT_TRUE(sa);
  ASSERT_TRUE(sb);
  w.run(ms(200));
  ASSERT_EQ(a.of(tcp_event::connected).size(), 1u);
  ASSERT_EQ(b.of(tcp_event::connected).size(), 1u);
  EXPECT_TRUE(a.of(tcp_event::accepted).empty()); // the 4-tuple matched before the listener
  EXPECT_TRUE(b.of(tcp_event::accepted).empty());
  EXPECT_EQ(a.tcp->state(*sa), tcp_state::established);
  EXPECT_FALSE(a.tcp->send(*sa, bytes("over the punch")));
  w.run(ms(200));
  auto got = b.of(tcp_event::data);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].sock, *sb);
  EXPECT_EQ(text(got[0].bytes), "over the punch");
}

TEST(SimFabricTcp, SimultaneousOpenSucceedsWhenTheFirstSynIsDroppedByThePeersNat) {
  two_sites t;
  auto& w = t.w;
  auto& a = t.a;
  auto& b = t.b;
  // A's SYN reaches B's NAT at 20 ms, before B's own SYN opened the hole:
  // dropped. B's SYN finds A's hole (A's SYN left at 0), A answers from
  // SYN_SENT with a SYN-ACK, and both are established.
  auto sa = a.tcp->connect(ep("0.0.0.0:4000"), ep("203.0.113.2:5000"));
  ASSERT_TRUE(sa);
  w.run(ms(300));
  EXPECT_EQ(w.net.stats().nat_dropped, 1u);
  auto sb = b.tcp->connect(ep("0.0.0.0:5000"), ep("203.0.113.1:4000"));
  ASSERT_TRUE(sb);
  w.run(ms(200)); // before A's first retransmission at 1 s
  ASSERT_EQ(a.of(tcp_event::connected).size(), 1u);
  ASSERT_EQ(b.of(tcp_event::connected).size(), 1u);
  EXPECT_EQ(w.net.stats().nat_dropped, 1u);
  w.run(ms(2000)); // the stale SYN timer changes nothing
  EXPECT_EQ(a.tcp->state(*sa), tcp_state::established);
  EXPECT_EQ(a.events.size(), 1u);
}

TEST(SimFabricTcp, ANatWhoseProfileSaysRstRefusesAnUnsolicitedSyn) {
  world w;
  auto& c = w.public_host("198.51.100.20");
  auto p = preset(net::nat_type::port_restricted, net::delta_type::equal);
  p.unsolicited_syn = syn_reply::rst;
  auto s1 = w.site(p, "203.0.113.1", "192.168.1.10");
  auto& inner = w.inside(s1);
  auto sock = c.tcp->connect(ep("0.0.0.0:0"), ep("203.0.113.1:5000"));
  ASSERT_TRUE(sock);
  w.run(ms(100));
  expect_one_failure(c, net::errc::connect_refused, ECONNREFUSED);
  EXPECT_EQ(w.net.stats().nat_resets, 1u);
  EXPECT_TRUE(inner.events.empty());
}

TEST(SimFabricTcp, AbortSendsRstAndThePeerSeesAReset) {
  world w;
  auto& server = w.public_host("198.51.100.10");
  auto& c = w.public_host("198.51.100.20");
  ASSERT_TRUE(server.tcp->listen(ep("0.0.0.0:80")));
  auto sock = c.tcp->connect(ep("0.0.0.0:0"), ep("198.51.100.10:80"));
  ASSERT_TRUE(sock);
  w.run(ms(100));
  ASSERT_EQ(server.of(tcp_event::accepted).size(), 1u);
  EXPECT_FALSE(c.tcp->abort(*sock));
  w.run(ms(100));
  auto reset = server.of(tcp_event::reset);
  ASSERT_EQ(reset.size(), 1u);
  EXPECT_EQ(reset[0].code, net::errc::connection_reset);
  EXPECT_EQ(reset[0].sys_errno, ECONNRESET);
  EXPECT_EQ(server.tcp->socket_count(), 1u); // the listener
}

TEST(SimFabricTcp, HairpinConnectReachesANeighbourThroughTheBox) {
  world w;
  auto p = preset(net::nat_type::full_cone, net::delta_type::equal);
  p.hairpin = hairpin_mode::external_source;
  auto s1 = w.site(p, "203.0.113.1", "192.168.1.10");
  auto& a = w.inside(s1);
  auto& b = w.inside(s1);
  auto& server = w.public_host("198.51.100.10");
  ASSERT_TRUE(server.tcp->listen(ep("0.0.0.0:80")));
  // A opens its mapping (equal: 203.0.113.1:4000) with a connection out.
  ASSERT_TRUE(a.tcp->listen(ep("0.0.0.0:4000")));
  ASSERT_TRUE(a.tcp->connect(ep("0.0.0.0:4000"), ep("198.51.100.10:80")));
  w.run(ms(100));
  auto sock = b.tcp->connect(ep("0.0.0.0:0"), ep("203.0.113.1:4000"));
  ASSERT_TRUE(sock);
  w.run(ms(100));
  ASSERT_EQ(b.of(tcp_event::connected).size(), 1u);
  auto accepted = a.of(tcp_event::accepted);
  ASSERT_EQ(accepted.size(), 1u);
  EXPECT_EQ(accepted[0].remote.ip, ip("203.0.113.1")); // the neighbour's mapping
}

TEST(SimFabricTcp, AConnectionThatExistsCannotBeOpenedTwiceAndListenersConflict) {
  world w;
  auto& server = w.public_host("198.51.100.10");
  auto& c = w.public_host("198.51.100.20");
  ASSERT_TRUE(server.tcp->listen(ep("0.0.0.0:80")));
  auto again = server.tcp->listen(ep("198.51.100.10:80"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, net::errc::bind_failed);
  ASSERT_TRUE(c.tcp->connect(ep("0.0.0.0:7000"), ep("198.51.100.10:80")));
  auto dup = c.tcp->connect(ep("198.51.100.20:7000"), ep("198.51.100.10:80"));
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, net::errc::bind_failed);
  // Another remote from the same port is fine (SO_REUSEPORT-like).
  EXPECT_TRUE(c.tcp->connect(ep("0.0.0.0:7000"), ep("198.51.100.10:81")));
  auto not_ours = c.tcp->connect(ep("198.51.100.10:7000"), ep("198.51.100.10:80"));
  ASSERT_FALSE(not_ours);
  EXPECT_EQ(not_ours.error().code, net::errc::bind_failed);
  EXPECT_EQ(c.tcp->send(12345, bytes("x")).code, net::errc::invalid_argument);
}

TEST(SimFabricTcp, SentTcpCountsTheSegmentsOfTheSentPacketsAndNoDatagram) {
  world w;
  auto& server = w.public_host("198.51.100.10");
  auto& c = w.public_host("198.51.100.20");
  ASSERT_TRUE(server.tcp->listen(ep("0.0.0.0:80")));
  auto sock = c.tcp->connect(ep("0.0.0.0:0"), ep("198.51.100.10:80"));
  ASSERT_TRUE(sock);
  c.send(c.udp_socket(), ep("198.51.100.10:53"), "query"); // no socket there: sent all the same
  w.run(ms(100));
  ASSERT_EQ(c.of(tcp_event::connected).size(), 1u);
  EXPECT_EQ(w.net.stats().sent, 4u);     // SYN, SYN-ACK, ACK and the datagram
  EXPECT_EQ(w.net.stats().sent_tcp, 3u);
}
} // namespace
} // namespace p2pd::sim::test
