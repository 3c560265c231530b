#include "p2pd/net/iface/route.hpp"

#include <unordered_set>

#include <gtest/gtest.h>

#include "support/netns.hpp"
#include "support/printers.hpp"
#include "support/values.hpp"

using namespace p2pd::net;
using p2pd::test::addr;
using p2pd::test::child_checks;
using p2pd::test::ip;
using p2pd::test::run_in_new_netns;
using p2pd::test::sh;

namespace {

interface_info eth0_info(std::vector<interface_addr> addrs) {
  interface_info i;
  i.name = "eth0";
  i.index = 3;
  i.flags.up = true;
  i.addrs = std::move(addrs);
  return i;
}

std::vector<ip_range> singles(std::initializer_list<const char*> xs) {
  std::vector<ip_range> out;
  for (auto x : xs)
    out.push_back(ip_range::single(ip(x)));
  return out;
}

} // namespace

TEST(route, private_addresses_share_one_route) {
  auto routes = routes_for(eth0_info({addr("192.168.1.5", 24), addr("10.0.0.7", 8),
                                 addr("100.64.1.1", 10)}),
                           family::v4);
  ASSERT_EQ(routes.size(), 1u);
  const auto& r = routes[0];
  EXPECT_EQ(r.interface, "eth0");
  EXPECT_EQ(r.if_index, 3u);
  EXPECT_EQ(r.fam, family::v4);
  EXPECT_EQ(r.nic_ips, singles({"192.168.1.5", "10.0.0.7", "100.64.1.1"}));
  EXPECT_TRUE(r.ext_ips.empty());
  EXPECT_TRUE(r.link_locals.empty());
}

TEST(route, each_public_address_is_a_route_of_its_own) {
  auto routes = routes_for(eth0_info({addr("8.8.8.8", 24), addr("192.168.1.5", 24),
                                 addr("1.1.1.1", 24), addr("10.0.0.1", 8)}),
                           family::v4);
  ASSERT_EQ(routes.size(), 3u);
  EXPECT_EQ(routes[0].nic_ips, singles({"8.8.8.8"}));
  EXPECT_EQ(routes[1].nic_ips, singles({"192.168.1.5", "10.0.0.1"}));
  EXPECT_EQ(routes[2].nic_ips, singles({"1.1.1.1"}));
}

TEST(route, nic_addresses_are_single_hosts_whatever_their_prefix) {
  auto routes = routes_for(eth0_info({addr("192.168.1.0", 24)}), family::v4);
  ASSERT_EQ(routes.size(), 1u);
  EXPECT_TRUE(routes[0].nic_ips[0].is_single());
  EXPECT_EQ(routes[0].nic(), ip("192.168.1.0"));
}

TEST(route, only_addresses_of_the_family_count) {
  auto nic = eth0_info({addr("192.168.1.5", 24), addr("2001:db8::5", 64)});
  auto v4 = routes_for(nic, family::v4);
  ASSERT_EQ(v4.size(), 1u);
  EXPECT_EQ(v4[0].nic_ips, singles({"192.168.1.5"}));
  auto v6 = routes_for(nic, family::v6);
  ASSERT_EQ(v6.size(), 1u);
  EXPECT_EQ(v6[0].fam, family::v6);
  EXPECT_EQ(v6[0].nic_ips, singles({"2001:db8::5"}));
}

TEST(route, ipv6_link_locals_are_kept_apart_in_every_ipv6_route) {
  auto routes = routes_for(eth0_info({addr("fe80::1", 64), addr("2402:1f00:8101:83f::1", 64),
                                 addr("fd00::2", 64), addr("fe80::2", 64)}),
                           family::v6);
  ASSERT_EQ(routes.size(), 2u);
  std::vector<ip_address> lls{ip("fe80::1%3"), ip("fe80::2%3")};
  EXPECT_EQ(routes[0].nic_ips, singles({"2402:1f00:8101:83f::1"}));
  EXPECT_EQ(routes[1].nic_ips, singles({"fd00::2"}));
  for (const auto& r : routes)
    EXPECT_EQ(r.link_locals, lls);
  EXPECT_EQ(routes[0].link_local(), ip("fe80::1%3"));
}

TEST(route, a_unique_local_address_is_a_nic_address_not_a_link_local) {
  auto routes = routes_for(eth0_info({addr("fd12:3456:789a:1::1", 64)}), family::v6);
  ASSERT_EQ(routes.size(), 1u);
  EXPECT_EQ(routes[0].nic(), ip("fd12:3456:789a:1::1"));
  EXPECT_TRUE(routes[0].link_locals.empty());
}

TEST(route, ipv4_link_local_joins_the_private_route) {
  auto routes = routes_for(eth0_info({addr("169.254.3.4", 16), addr("10.0.0.1", 8)}), family::v4);
  ASSERT_EQ(routes.size(), 1u);
  EXPECT_EQ(routes[0].nic_ips, singles({"169.254.3.4", "10.0.0.1"}));
}

TEST(route, link_locals_alone_make_a_route_without_nic_addresses) {
  // Hosts cabled together, or a LAN without a router: reachable on the link.
  auto routes = routes_for(eth0_info({addr("fe80::1", 64)}), family::v6);
  ASSERT_EQ(routes.size(), 1u);
  EXPECT_FALSE(routes[0].nic());
  EXPECT_EQ(routes[0].link_local(), ip("fe80::1").with_scope(3));
}

TEST(route, an_interface_without_the_family_has_no_route) {
  EXPECT_TRUE(routes_for(eth0_info({addr("10.0.0.1", 8)}), family::v6).empty());
  EXPECT_TRUE(routes_for(eth0_info({}), family::v4).empty());
}

TEST(route, addresses_not_usable_yet_are_left_out) {
  auto tentative = addr("2001:db8::7", 64);
  tentative.tentative = true;
  auto failed = addr("2001:db8::8", 64);
  failed.dad_failed = true;
  auto routes = routes_for(eth0_info({tentative, failed, addr("2001:db8::9", 64)}), family::v6);
  ASSERT_EQ(routes.size(), 1u);
  EXPECT_EQ(routes[0].nic_ips, singles({"2001:db8::9"}));
}

TEST(route, loopback_addresses_form_the_private_route_of_lo) {
  auto lo = eth0_info({addr("127.0.0.1", 8)});
  lo.name = "lo";
  auto routes = routes_for(lo, family::v4);
  ASSERT_EQ(routes.size(), 1u);
  EXPECT_EQ(routes[0].nic(), ip("127.0.0.1"));
}

TEST(route, accessors_give_the_first_of_each_list) {
  route r;
  EXPECT_FALSE(r.nic());
  EXPECT_FALSE(r.ext());
  EXPECT_FALSE(r.link_local());
  r.nic_ips = singles({"10.0.0.1", "10.0.0.2"});
  r.ext_ips = {*ip_range::parse("203.0.113.0/24")};
  EXPECT_EQ(r.nic(), ip("10.0.0.1"));
  // The first host of an external block, as the original's ext().
  EXPECT_EQ(r.ext(), ip("203.0.113.1"));
}

TEST(route, has_nic_ip_looks_in_every_nic_range) {
  route r;
  r.nic_ips = {ip_range::single(ip("10.0.0.1")), *ip_range::parse("192.168.0.0/16")};
  EXPECT_TRUE(r.has_nic_ip(ip("10.0.0.1")));
  EXPECT_TRUE(r.has_nic_ip(ip("192.168.44.1")));
  EXPECT_FALSE(r.has_nic_ip(ip("10.0.0.2")));
}

TEST(route, has_link_local_accepts_no_scope_or_our_own) {
  route r;
  r.if_index = 3;
  r.fam = family::v6;
  r.link_locals = {ip("fe80::1%3")};
  EXPECT_TRUE(r.has_link_local(ip("fe80::1")));
  EXPECT_TRUE(r.has_link_local(ip("fe80::1%3")));
  EXPECT_FALSE(r.has_link_local(ip("fe80::1%4")));
  EXPECT_FALSE(r.has_link_local(ip("fe80::2")));
}

TEST(route, to_string_lists_all_addresses) {
  auto routes = routes_for(eth0_info({addr("fe80::1", 64), addr("2001:db8::5", 64)}), family::v6);
  ASSERT_EQ(routes.size(), 1u);
  EXPECT_EQ(routes[0].to_string(), "eth0 IPv6 nic [2001:db8::5] ext [] link-local [fe80::1%3]");
}

TEST(route, routes_of_a_real_interface_with_global_ipv6_and_link_local) {
  P2PD_SKIP_UNLESS_NETNS();
  P2PD_SKIP_UNLESS_IPV6();
  auto out = run_in_new_netns([]() -> std::string {
    auto setup = "ip link add eth0 type veth peer name veth-eth0"
                 " && ip link set eth0 addrgenmode none && ip link set veth-eth0 up"
                 " && ip link set eth0 up && ip addr add 192.168.5.5/24 dev eth0"
                 " && ip -6 addr add 2001:db8:1::5/64 dev eth0 nodad"
                 " && ip -6 addr add fe80::1234/64 dev eth0 nodad";
    if (auto err = sh(setup); !err.empty())
      return err;
    auto table = list_interfaces();
    if (!table)
      return to_string(table.error());
    auto* nic = table->find("eth0");
    if (nic == nullptr)
      return "eth0 not listed";
    child_checks c;
    auto v6 = routes_for(*nic, family::v6);
    if (NETNS_EXPECT_EQ(c, v6.size(), size_t{1})) {
      NETNS_EXPECT(c, v6[0].nic() == ip("2001:db8:1::5"));
      NETNS_EXPECT(c, v6[0].link_local() == ip("fe80::1234").with_scope(nic->index));
      NETNS_EXPECT_EQ(c, v6[0].if_index, nic->index);
    }
    auto v4 = routes_for(*nic, family::v4);
    if (NETNS_EXPECT_EQ(c, v4.size(), size_t{1}))
      NETNS_EXPECT(c, v4[0].nic() == ip("192.168.5.5"));
    return c.failures();
  });
  EXPECT_TRUE(out.ok) << out.report;
}

TEST(route, the_any_address_is_refused_as_external) {
  auto r = routes_for(eth0_info({addr("192.168.1.5", 24)}), family::v4).at(0);
  auto err = r.add_ext(ip("0.0.0.0"));
  EXPECT_EQ(err.code, errc::invalid_argument);
  EXPECT_NE(err.what.find("any-address"), std::string::npos) << err.what;
  EXPECT_TRUE(r.ext_ips.empty());
  auto r6 = routes_for(eth0_info({addr("fd00::5", 64)}), family::v6).at(0);
  EXPECT_EQ(r6.add_ext(ip("::")).code, errc::invalid_argument);
  EXPECT_TRUE(r6.ext_ips.empty());
}

TEST(route, multicast_broadcast_and_the_other_family_are_refused_as_external) {
  auto r = routes_for(eth0_info({addr("192.168.1.5", 24)}), family::v4).at(0);
  EXPECT_EQ(r.add_ext(ip("224.0.0.1")).code, errc::invalid_argument);
  EXPECT_EQ(r.add_ext(ip("255.255.255.255")).code, errc::invalid_argument);
  EXPECT_EQ(r.add_ext(ip("2001:db8::1")).code, errc::invalid_argument);
  EXPECT_TRUE(r.ext_ips.empty());
}

TEST(route, an_external_address_is_added_once) {
  auto r = routes_for(eth0_info({addr("192.168.1.5", 24)}), family::v4).at(0);
  EXPECT_FALSE(r.add_ext(ip("203.0.113.7")));
  EXPECT_FALSE(r.add_ext(ip("203.0.113.7")));
  EXPECT_EQ(r.ext_ips, singles({"203.0.113.7"}));
  EXPECT_EQ(r.ext(), ip("203.0.113.7"));
}

TEST(route, routes_are_equal_when_every_field_is) {
  auto nic = eth0_info({addr("192.168.1.5", 24)});
  auto a = routes_for(nic, family::v4).at(0);
  auto b = routes_for(nic, family::v4).at(0);
  EXPECT_EQ(a, b);
  EXPECT_EQ(std::hash<route>{}(a), std::hash<route>{}(b));
  ASSERT_FALSE(b.add_ext(ip("203.0.113.7")));
  EXPECT_NE(a, b);
  auto c = a;
  c.if_index = 4;
  EXPECT_NE(a, c);
}

TEST(route, routes_work_as_keys_of_a_hash_set) {
  auto nic = eth0_info({addr("8.8.8.8", 24), addr("192.168.1.5", 24)});
  auto routes = routes_for(nic, family::v4);
  ASSERT_EQ(routes.size(), 2u);
  std::unordered_set<route> set(routes.begin(), routes.end());
  set.insert(routes_for(nic, family::v4).at(0));
  EXPECT_EQ(set.size(), 2u);
}

TEST(route, an_ipv4_mapped_address_is_refused_as_the_external_address_of_an_ipv6_route) {
  // ::ffff:a.b.c.d is how a dual-stack socket names an IPv4 peer; no packet
  // of an IPv6 route comes from one, so a server naming it is wrong.
  auto r6 = routes_for(eth0_info({addr("fd00::5", 64)}), family::v6).at(0);
  auto err = r6.add_ext(ip("::ffff:203.0.113.7"));
  EXPECT_EQ(err.code, errc::invalid_argument);
  EXPECT_NE(err.what.find("203.0.113.7"), std::string::npos) << err.what;
  EXPECT_TRUE(r6.ext_ips.empty());
}
