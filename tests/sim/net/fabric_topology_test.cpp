#include <string>

#include "world_fixture.hpp"

namespace p2pd::sim::test {
namespace {

TEST(SimFabricTopology, AnAddressCanBelongToOneHostOnly) {
  world w;
  w.public_host("198.51.100.10");
  auto again = w.net.add_public_host({{ip("198.51.100.10")}, {}});
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, net::errc::invalid_argument);
  EXPECT_NE(again.error().what.find("198.51.100.10"), std::string::npos);
  auto none = w.net.add_public_host({{}, {}});
  ASSERT_FALSE(none);
  site_config cfg;
  cfg.nat = preset(net::nat_type::full_cone, net::delta_type::equal);
  cfg.external = ip("198.51.100.10"); // the public host's
  cfg.lan_base = ip("192.168.1.10");
  auto site = w.net.add_site(cfg);
  ASSERT_FALSE(site);
  EXPECT_EQ(site.error().code, net::errc::invalid_argument);
}

TEST(SimFabricTopology, ASiteWithAnInvalidProfileOrFamilyIsRefused) {
  world w;
  site_config cfg;
  cfg.nat = preset(net::nat_type::full_cone, net::delta_type::equal);
  cfg.nat.ports.min = 2000;
  cfg.nat.ports.max = 1000; // an empty range
  cfg.external = ip("203.0.113.1");
  cfg.lan_base = ip("192.168.1.10");
  auto bad_profile = w.net.add_site(cfg);
  ASSERT_FALSE(bad_profile);
  cfg.nat = preset(net::nat_type::full_cone, net::delta_type::equal);
  cfg.lan_base = ip("2001:db8::1");
  auto bad_family = w.net.add_site(cfg);
  ASSERT_FALSE(bad_family);
  EXPECT_EQ(bad_family.error().code, net::errc::invalid_argument);
  auto no_site = w.net.add_host(7);
  ASSERT_FALSE(no_site);
  EXPECT_EQ(no_site.error().code, net::errc::invalid_argument);
}

TEST(SimFabricTopology, ASendFromAnAddressNotTheHostsIsRefused) {
  world w;
  auto& x = w.public_host("198.51.100.1");
  w.public_host("198.51.100.2");
  auto err = w.net.send(x.id, frame{packet::udp(ep("198.51.100.2:1"), ep("198.51.100.1:2")), {}});
  EXPECT_EQ(err.code, net::errc::invalid_argument);
  EXPECT_EQ(w.net.stats().sent, 0u);
  auto no_host = w.net.send(99, frame{packet::udp(ep("198.51.100.2:1"), ep("198.51.100.1:2")), {}});
  EXPECT_EQ(no_host.code, net::errc::invalid_argument);
}

TEST(SimFabricTopology, SitesWithoutTranslationRouteTheirLanAddresses) {
  world w;
  auto& server = w.public_host("198.51.100.10");
  const int ss = server.udp_socket(3478);
  auto s = w.site(preset(net::nat_type::udp_firewall, net::delta_type::equal), "203.0.113.1",
                  "203.0.113.10");
  auto& a = w.inside(s);
  const int sa = a.udp_socket(4000);
  a.send(sa, ep("198.51.100.10:3478"), "out");
  w.run(ms(100));
  auto got = server.drain(ss);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].from, ep("203.0.113.10:4000")); // untranslated
  server.send(ss, got[0].from, "back");
  w.run(ms(100));
  EXPECT_EQ(a.drain(sa).size(), 1u);
}

} // namespace
} // namespace p2pd::sim::test
