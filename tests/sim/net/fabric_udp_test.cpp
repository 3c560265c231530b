#include <algorithm>
#include <string>
#include <vector>

#include "world_fixture.hpp"

namespace p2pd::sim::test {
namespace {

// A server on the Internet (a STUN server's stand-in) and two peers, A on
// port 4000 and B on port 5000, in two sites (or, for hairpins, one), each
// with the mapping the server saw of it.
struct peers {
  world w;
  node* server = nullptr;
  node* a = nullptr;
  node* b = nullptr;
  int ss = 0, sa = 0, sb = 0;
  net::endpoint ea, eb;

  peers(const nat_profile& pa, const nat_profile& pb, bool one_site = false) {
    server = &w.public_host("198.51.100.10");
    ss = server->udp_socket(3478);
    // Both LANs use the same private addresses: each site has its own.
    auto s1 = w.site(pa, "203.0.113.1", "192.168.1.10");
    auto s2 = one_site ? s1 : w.site(pb, "203.0.113.2", "192.168.1.10");
    a = &w.inside(s1);
    b = &w.inside(s2);
    sa = a->udp_socket(4000);
    sb = b->udp_socket(5000);
    ea = observed(*a, sa);
    eb = observed(*b, sb);
  }

  net::endpoint observed(node& client, int sock) {
    client.send(sock, ep("198.51.100.10:3478"), "where am I");
    w.run(ms(500));
    auto got = server->drain(ss);
    EXPECT_EQ(got.size(), 1u);
    return got.empty() ? net::endpoint{} : got.back().from;
  }
};

nat_profile of(net::nat_type t, net::delta_type d = net::delta_type::equal) {
  return preset(t, d);
}

TEST(SimFabricUdp, FullConeSitesExchangeThroughAPublicServer) {
  peers p{of(net::nat_type::full_cone), of(net::nat_type::full_cone)};
  EXPECT_EQ(p.ea, ep("203.0.113.1:4000")); // equal allocation
  EXPECT_EQ(p.eb, ep("203.0.113.2:5000"));
  // The server tells A of B's mapping; full cone lets anyone in.
  p.server->send(p.ss, p.ea, p.eb.to_string());
  p.w.run(ms(500));
  auto told = p.a->drain(p.sa);
  ASSERT_EQ(told.size(), 1u);
  EXPECT_EQ(told[0].from, ep("198.51.100.10:3478"));
  EXPECT_EQ(text(told[0].payload), "203.0.113.2:5000");
  p.a->send(p.sa, p.eb, "hello b");
  p.w.run(ms(500));
  auto got = p.b->drain(p.sb);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].from, p.ea);
  EXPECT_EQ(got[0].to, ep("192.168.1.10:5000"));
  EXPECT_EQ(text(got[0].payload), "hello b");
}

TEST(SimFabricUdp, HolePunchBetweenPortRestrictedSitesWorksWhenBothSend) {
  peers p{of(net::nat_type::port_restricted), of(net::nat_type::port_restricted)};
  // Before the punch, the filter keeps a stranger out.
  const auto dropped_before = p.w.net.stats().nat_dropped;
  p.a->send(p.sa, p.eb, "too early");
  p.w.run(ms(500));
  EXPECT_TRUE(p.b->drain(p.sb).empty());
  EXPECT_EQ(p.w.net.stats().nat_dropped, dropped_before + 1);
  // Both send at once: each packet finds the hole its peer's opened.
  p.a->send(p.sa, p.eb, "punch from a");
  p.b->send(p.sb, p.ea, "punch from b");
  p.w.run(ms(500));
  auto at_a = p.a->drain(p.sa);
  auto at_b = p.b->drain(p.sb);
  ASSERT_EQ(at_a.size(), 1u);
  ASSERT_EQ(at_b.size(), 1u);
  EXPECT_EQ(text(at_a[0].payload), "punch from b");
  EXPECT_EQ(at_a[0].from, p.eb);
  EXPECT_EQ(text(at_b[0].payload), "punch from a");
  EXPECT_EQ(at_b[0].from, p.ea);
}

TEST(SimFabricUdp, AHoleThePeerOpensWhileOursIsInFlightCounts) {
  peers p{of(net::nat_type::port_restricted), of(net::nat_type::port_restricted)};
  // A's datagram reaches B's NAT 20 ms after it is sent (the core's
  // latency); B opens its hole 15 ms in, before it arrives.
  p.a->send(p.sa, p.eb, "in flight");
  p.w.run(ms(15));
  p.b->send(p.sb, p.ea, "opening");
  p.w.run(ms(500));
  auto at_b = p.b->drain(p.sb);
  ASSERT_EQ(at_b.size(), 1u);
  EXPECT_EQ(text(at_b[0].payload), "in flight");
  EXPECT_EQ(p.a->drain(p.sa).size(), 1u);
}

TEST(SimFabricUdp, AHoleOpenedAfterTheArrivalIsTooLate) {
  peers p{of(net::nat_type::port_restricted), of(net::nat_type::port_restricted)};
  p.a->send(p.sa, p.eb, "in flight");
  p.w.run(ms(25)); // arrived at 20 ms, dropped
  p.b->send(p.sb, p.ea, "opening");
  p.w.run(ms(500));
  EXPECT_TRUE(p.b->drain(p.sb).empty());
  EXPECT_EQ(p.a->drain(p.sa).size(), 1u); // B's got in through A's hole
}

TEST(SimFabricUdp, HolePunchBetweenSymmetricRandomSitesFails) {
  peers p{of(net::nat_type::symmetric, net::delta_type::random),
          of(net::nat_type::symmetric, net::delta_type::random)};
  const auto dropped_before = p.w.net.stats().nat_dropped;
  for (int round = 0; round < 3; ++round) {
    p.a->send(p.sa, p.eb, "punch from a");
    p.b->send(p.sb, p.ea, "punch from b");
    p.w.run(ms(500));
  }
  // Each send to the peer left through a new mapping: the observed ones
  // were for the server only.
  EXPECT_TRUE(p.a->drain(p.sa).empty());
  EXPECT_TRUE(p.b->drain(p.sb).empty());
  EXPECT_EQ(p.w.net.stats().nat_dropped, dropped_before + 6);
}

TEST(SimFabricUdp, ArrivalIsTheSumOfTheLinkLatencies) {
  world w{1, link_config{ms(20), {}, 0.0}};
  auto& server = w.public_host("198.51.100.10", link_config{ms(7), {}, 0.0});
  const int ss = server.udp_socket(3478);
  auto s1 = w.site(of(net::nat_type::full_cone), "203.0.113.1", "192.168.1.10",
                   link_config{ms(5), {}, 0.0});
  auto& a = w.inside(s1, link_config{ms(3), {}, 0.0});
  auto& c = w.inside(s1, link_config{ms(2), {}, 0.0});
  const int sa = a.udp_socket(4000);
  const int sc = c.udp_socket(4001);
  sim_time arrived{-1};
  server.udp->on_receive(ss, [&](udp_datagram) { arrived = w.q.now(); });
  const auto sent = w.q.now();
  a.send(sa, ep("198.51.100.10:3478"), "timed");
  w.run(ms(1000));
  EXPECT_EQ(arrived - sent, ms(3 + 5 + 20 + 7)); // access, uplink, core, server access
  // Within the LAN only the two access links count.
  sim_time lan_arrived{-1};
  c.udp->on_receive(sc, [&](udp_datagram) { lan_arrived = w.q.now(); });
  const auto lan_sent = w.q.now();
  a.send(sa, ep("192.168.1.11:4001"), "next door");
  w.run(ms(1000));
  EXPECT_EQ(lan_arrived - lan_sent, ms(3 + 2));
}

// Which of `n` datagrams crossed a lossy core, for a seed.
std::vector<bool> arrivals(uint64_t seed, int n) {
  world w{seed, link_config{ms(20), {}, 0.3}};
  auto& x = w.public_host("198.51.100.1");
  auto& y = w.public_host("198.51.100.2");
  const int sx = x.udp_socket(1000);
  const int sy = y.udp_socket(2000);
  for (int i = 0; i < n; ++i)
    x.send(sx, ep("198.51.100.2:2000"), std::to_string(i));
  w.run(ms(1000));
  std::vector<bool> got(static_cast<size_t>(n), false);
  for (auto& d : y.drain(sy))
    got[static_cast<size_t>(std::stoi(text(d.payload)))] = true;
  EXPECT_EQ(w.net.stats().lost + static_cast<uint64_t>(std::count(got.begin(), got.end(), true)),
            static_cast<uint64_t>(n));
  return got;
}

TEST(SimFabricUdp, LossFollowsTheSeed) {
  const auto first = arrivals(11, 1000);
  const auto again = arrivals(11, 1000);
  const auto other = arrivals(12, 1000);
  EXPECT_EQ(first, again);
  EXPECT_NE(first, other);
  const auto kept = std::count(first.begin(), first.end(), true);
  EXPECT_GT(kept, 640); // 700 expected at 30 % loss; 4 sigma is about 58
  EXPECT_LT(kept, 760);
}

TEST(SimFabricUdp, ADatagramToAClosedPortIsDroppedAndCounted) {
  world w;
  auto& x = w.public_host("198.51.100.1");
  auto& y = w.public_host("198.51.100.2");
  const int sx = x.udp_socket(1000);
  const int sy = y.udp_socket(2000);
  x.send(sx, ep("198.51.100.2:2001"), "nobody listens");
  w.run(ms(100));
  EXPECT_EQ(w.net.stats().no_socket, 1u);
  EXPECT_EQ(w.net.stats().delivered, 1u); // to the host; its stack dropped it
  EXPECT_TRUE(y.drain(sy).empty());
}

TEST(SimFabricUdp, ADatagramToAnAddressNobodyHasIsDroppedAndCounted) {
  world w;
  auto& x = w.public_host("198.51.100.1");
  const int sx = x.udp_socket(1000);
  x.send(sx, ep("198.51.100.99:2000"), "into the void");
  w.run(ms(100));
  EXPECT_EQ(w.net.stats().no_route, 1u);
  EXPECT_EQ(w.net.stats().delivered, 0u);
}

TEST(SimFabricUdp, BindingAPortInUseFails) {
  world w;
  auto& x = w.public_host("198.51.100.1");
  x.udp_socket(1000);
  auto again = x.udp->bind(ep("198.51.100.1:1000"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, net::errc::bind_failed);
  auto foreign = x.udp->bind(ep("198.51.100.2:1000"));
  ASSERT_FALSE(foreign);
  EXPECT_EQ(foreign.error().code, net::errc::bind_failed);
  // Ephemeral ports come from Linux's range.
  const int e = x.udp_socket(0);
  auto local = x.udp->local_endpoint(e);
  ASSERT_TRUE(local);
  EXPECT_GE(local->port, ephemeral_min);
  EXPECT_LE(local->port, ephemeral_max);
}

TEST(SimFabricUdp, HairpinDeliversWithTheSendersExternalMapping) {
  auto hairpin = of(net::nat_type::full_cone);
  hairpin.hairpin = hairpin_mode::external_source;
  peers p{hairpin, hairpin, true};
  p.b->send(p.sb, p.ea, "via the box");
  p.w.run(ms(100));
  auto got = p.a->drain(p.sa);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].from, p.eb);
  EXPECT_EQ(text(got[0].payload), "via the box");
}

TEST(SimFabricUdp, WithoutHairpinTheBoxDropsIt) {
  peers p{of(net::nat_type::full_cone), of(net::nat_type::full_cone), true};
  const auto dropped = p.w.net.stats().nat_dropped;
  p.b->send(p.sb, p.ea, "via the box");
  p.w.run(ms(100));
  EXPECT_TRUE(p.a->drain(p.sa).empty());
  EXPECT_EQ(p.w.net.stats().nat_dropped, dropped + 1);
}

TEST(SimFabricUdp, IPv6FirewallLetsRepliesInAndStrangersNot) {
  world w;
  auto server_h = w.net.add_public_host({{ip("2001:db8:ffff::10")}, {}});
  ASSERT_TRUE(server_h);
  auto& server = w.add(*server_h);
  const int ss = server.udp_socket(3478, net::family::v6);
  site_config cfg;
  cfg.nat = of(net::nat_type::port_restricted);
  cfg.external = ip("203.0.113.1");
  cfg.lan_base = ip("192.168.1.10");
  cfg.v6_base = ip("2001:db8:1::10");
  auto s = w.net.add_site(cfg);
  ASSERT_TRUE(s);
  auto& a = w.inside(*s);
  const int sa = a.udp_socket(4000, net::family::v6);
  server.send(ss, ep("[2001:db8:1::10]:4000"), "unsolicited");
  w.run(ms(100));
  EXPECT_TRUE(a.drain(sa).empty());
  a.send(sa, ep("[2001:db8:ffff::10]:3478"), "out");
  w.run(ms(100));
  auto at_server = server.drain(ss);
  ASSERT_EQ(at_server.size(), 1u);
  EXPECT_EQ(at_server[0].from, ep("[2001:db8:1::10]:4000")); // no translation
  server.send(ss, at_server[0].from, "reply");
  w.run(ms(100));
  auto got = a.drain(sa);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(text(got[0].payload), "reply");
}

} // namespace
} // namespace p2pd::sim::test
