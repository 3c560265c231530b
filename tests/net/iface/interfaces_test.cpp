#include "p2pd/net/iface/interfaces.hpp"

#include <set>

#include <gtest/gtest.h>

#include "support/expect.hpp"
#include "support/netns.hpp"
#include "support/printers.hpp"
#include "support/values.hpp"

using namespace p2pd::net;
using p2pd::test::add_nic_cmd;
using p2pd::test::child_checks;
using p2pd::test::ip;
using p2pd::test::ipv6_enabled;
using p2pd::test::run_in_new_netns;
using p2pd::test::sh;

namespace {

const interface_addr* find_addr(const interface_info& nic, const ip_address& want) {
  for (const auto& a : nic.addrs)
    if (a.ip == want)
      return &a;
  return nullptr;
}

// Runs `check` on the interface table of a fresh namespace configured with
// the shell commands `setup`.
template <class Check>
p2pd::test::netns_outcome in_netns(const std::string& setup, Check check) {
  return run_in_new_netns([&]() -> std::string {
    if (auto err = sh(setup); !err.empty())
      return err;
    auto table = list_interfaces();
    if (!table)
      return "list_interfaces failed: " + to_string(table.error());
    child_checks c;
    check(c, *table);
    return c.failures();
  });
}

// eth0 with an IPv4 address, a global IPv6 address and a fixed link-local
// address (addrgenmode none: no autoconfigured one beside it).
const std::string eth0_setup =
  "ip link set lo up && ip link add eth0 type veth peer name veth-eth0"
  " && ip link set eth0 addrgenmode none && ip link set eth0 address 02:00:00:00:00:01"
  " && ip link set eth0 mtu 1400 && ip link set veth-eth0 up && ip link set eth0 up"
  " && ip addr add 10.1.2.3/24 dev eth0";
const std::string eth0_v6_setup = " && ip -6 addr add 2001:db8:1::5/64 dev eth0 nodad"
                                  " && ip -6 addr add fe80::1234/64 dev eth0 nodad";

} // namespace

// --- the host's own namespace: loopback only, read-only -----------------------

TEST(interfaces, lists_loopback_up_with_its_addresses) {
  auto table = list_interfaces();
  ASSERT_OK(table);
  auto* lo = table->find("lo");
  ASSERT_NE(lo, nullptr);
  EXPECT_GT(lo->index, 0u);
  EXPECT_TRUE(lo->flags.up);
  EXPECT_TRUE(lo->flags.loopback);
  EXPECT_GT(lo->mtu, 0u);
  auto* v4 = find_addr(*lo, ip("127.0.0.1"));
  ASSERT_NE(v4, nullptr);
  EXPECT_EQ(v4->prefix, 8);
  if (ipv6_enabled()) {
    auto* v6 = find_addr(*lo, ip("::1"));
    ASSERT_NE(v6, nullptr);
    EXPECT_EQ(v6->prefix, 128);
  }
}

TEST(interfaces, lists_interfaces_in_index_order_with_unique_names) {
  auto table = list_interfaces();
  ASSERT_OK(table);
  std::set<std::string> names;
  uint32_t last = 0;
  for (const auto& i : table->interfaces) {
    EXPECT_GT(i.index, last) << i.name;
    last = i.index;
    EXPECT_TRUE(names.insert(i.name).second) << i.name;
    EXPECT_EQ(table->find(i.index), &i);
  }
}

TEST(interfaces, find_interface_returns_the_named_interface) {
  auto table = list_interfaces();
  ASSERT_OK(table);
  auto lo = find_interface(*table, "lo");
  ASSERT_OK(lo);
  EXPECT_EQ(lo->name, "lo");
}

TEST(interfaces, an_unknown_name_is_interface_not_found) {
  auto table = list_interfaces();
  ASSERT_OK(table);
  auto meow = find_interface(*table, "meow");
  ASSERT_FALSE(meow);
  EXPECT_ERRC(meow, errc::interface_not_found);
  EXPECT_EQ(meow.error().what, "no interface 'meow' on this host");
}

TEST(interfaces, mac_text_is_lowercase_hex_pairs) {
  interface_info nic;
  nic.mac = {0x02, 0xfc, 0x00, 0xab, 0xCD, 0x01};
  EXPECT_EQ(nic.mac_text(), "02:fc:00:ab:cd:01");
  nic.mac.clear();
  EXPECT_EQ(nic.mac_text(), "");
}

// --- namespaces of the tests' own --------------------------------------------

TEST(interfaces, a_fresh_namespace_has_only_loopback_down_and_no_default_route) {
  P2PD_SKIP_UNLESS_NETNS();
  auto out = in_netns("true", [](child_checks& c, const interface_table& t) {
    NETNS_EXPECT_EQ(c, t.interfaces.size(), size_t{1});
    NETNS_EXPECT(c, t.find("lo") != nullptr && !t.find("lo")->flags.up);
    NETNS_EXPECT(c, !t.v4_default);
    NETNS_EXPECT(c, !t.v6_default);
    NETNS_EXPECT(c, t.default_interface(family::v4) == nullptr);
  });
  EXPECT_TRUE(out.ok) << out.report;
}

TEST(interfaces, lists_a_nic_with_flags_mac_mtu_and_kind) {
  P2PD_SKIP_UNLESS_NETNS();
  auto out = in_netns(eth0_setup, [](child_checks& c, const interface_table& t) {
    auto* eth = t.find("eth0");
    if (!NETNS_EXPECT(c, eth != nullptr))
      return;
    NETNS_EXPECT(c, eth->flags.up);
    NETNS_EXPECT(c, eth->flags.broadcast);
    NETNS_EXPECT(c, eth->flags.multicast);
    NETNS_EXPECT(c, !eth->flags.loopback);
    NETNS_EXPECT(c, !eth->flags.point_to_point);
    NETNS_EXPECT_EQ(c, eth->mac_text(), "02:00:00:00:00:01");
    NETNS_EXPECT_EQ(c, eth->mtu, 1400u);
    NETNS_EXPECT_EQ(c, eth->kind, "veth");
    NETNS_EXPECT_EQ(c, t.find("lo")->kind, "");
  });
  EXPECT_TRUE(out.ok) << out.report;
}

TEST(interfaces, lists_ipv4_addresses_with_their_prefix) {
  P2PD_SKIP_UNLESS_NETNS();
  auto out = in_netns(eth0_setup + " && ip addr add 192.168.7.9/16 dev eth0",
                      [](child_checks& c, const interface_table& t) {
                        auto* eth = t.find("eth0");
                        if (!NETNS_EXPECT(c, eth != nullptr))
                          return;
                        auto v4 = eth->addresses(family::v4);
                        NETNS_EXPECT_EQ(c, v4.size(), size_t{2});
                        auto* a = find_addr(*eth, ip("10.1.2.3"));
                        NETNS_EXPECT(c, a != nullptr && a->prefix == 24);
                        auto* b = find_addr(*eth, ip("192.168.7.9"));
                        NETNS_EXPECT(c, b != nullptr && b->prefix == 16);
                        NETNS_EXPECT(c, !eth->has_family(family::v6));
                      });
  EXPECT_TRUE(out.ok) << out.report;
}

TEST(interfaces, lists_global_ipv6_and_link_local_with_scope_id_of_the_interface) {
  P2PD_SKIP_UNLESS_NETNS();
  P2PD_SKIP_UNLESS_IPV6();
  auto out = in_netns(eth0_setup + eth0_v6_setup, [](child_checks& c, const interface_table& t) {
    auto* eth = t.find("eth0");
    if (!NETNS_EXPECT(c, eth != nullptr))
      return;
    auto* g = find_addr(*eth, ip("2001:db8:1::5"));
    NETNS_EXPECT(c, g != nullptr && g->prefix == 64 && g->usable());
    auto* ll = find_addr(*eth, ip("fe80::1234").with_scope(eth->index));
    NETNS_EXPECT(c, ll != nullptr && ll->prefix == 64);
    NETNS_EXPECT_EQ(c, eth->addresses(family::v6).size(), size_t{2});
  });
  EXPECT_TRUE(out.ok) << out.report;
}

TEST(interfaces, an_ipv6_address_in_duplicate_detection_is_tentative) {
  P2PD_SKIP_UNLESS_NETNS();
  P2PD_SKIP_UNLESS_IPV6();
  // A DAD probe interval of 10 minutes keeps the address tentative for the
  // whole test without timing assumptions.
  auto setup = eth0_setup + " && echo 600000 > /proc/sys/net/ipv6/neigh/eth0/retrans_time_ms"
               + " && ip -6 addr add 2001:db8:2::7/64 dev eth0";
  auto out = in_netns(setup, [](child_checks& c, const interface_table& t) {
    auto* eth = t.find("eth0");
    if (!NETNS_EXPECT(c, eth != nullptr))
      return;
    auto* a = find_addr(*eth, ip("2001:db8:2::7"));
    NETNS_EXPECT(c, a != nullptr && a->tentative && !a->usable());
  });
  EXPECT_TRUE(out.ok) << out.report;
}

TEST(interfaces, a_down_interface_is_listed_as_down) {
  P2PD_SKIP_UNLESS_NETNS();
  auto out = in_netns(eth0_setup + " && ip link add eth1 type veth peer name veth-eth1",
                      [](child_checks& c, const interface_table& t) {
                        auto* eth1 = t.find("eth1");
                        if (!NETNS_EXPECT(c, eth1 != nullptr))
                          return;
                        NETNS_EXPECT(c, !eth1->flags.up);
                        NETNS_EXPECT(c, !eth1->flags.running);
                        NETNS_EXPECT(c, t.find("eth0")->flags.up);
                      });
  EXPECT_TRUE(out.ok) << out.report;
}

TEST(interfaces, finds_the_ipv4_default_route_and_its_gateway) {
  P2PD_SKIP_UNLESS_NETNS();
  auto out = in_netns(eth0_setup + " && ip route add default via 10.1.2.1",
                      [](child_checks& c, const interface_table& t) {
                        auto* eth = t.find("eth0");
                        if (!NETNS_EXPECT(c, eth != nullptr && t.v4_default))
                          return;
                        NETNS_EXPECT_EQ(c, t.v4_default->interface, "eth0");
                        NETNS_EXPECT_EQ(c, t.v4_default->if_index, eth->index);
                        NETNS_EXPECT(c, t.v4_default->gateway == ip("10.1.2.1"));
                        NETNS_EXPECT(c, t.default_interface(family::v4) == eth);
                        NETNS_EXPECT(c, !t.v6_default);
                      });
  EXPECT_TRUE(out.ok) << out.report;
}

TEST(interfaces, an_ipv6_link_local_gateway_carries_the_interface_scope) {
  P2PD_SKIP_UNLESS_NETNS();
  P2PD_SKIP_UNLESS_IPV6();
  auto setup = eth0_setup + eth0_v6_setup + " && ip -6 route add default via fe80::1 dev eth0";
  auto out = in_netns(setup, [](child_checks& c, const interface_table& t) {
    auto* eth = t.find("eth0");
    if (!NETNS_EXPECT(c, eth != nullptr && t.v6_default))
      return;
    NETNS_EXPECT_EQ(c, t.v6_default->interface, "eth0");
    NETNS_EXPECT(c, t.v6_default->gateway == ip("fe80::1").with_scope(eth->index));
    NETNS_EXPECT(c, t.default_interface(family::v6) == eth);
    NETNS_EXPECT(c, !t.v4_default);
  });
  EXPECT_TRUE(out.ok) << out.report;
}

TEST(interfaces, the_default_route_with_the_lowest_metric_wins) {
  P2PD_SKIP_UNLESS_NETNS();
  auto setup = eth0_setup + " && " + add_nic_cmd("eth1") + " && ip addr add 10.1.3.3/24 dev eth1"
               + " && ip route add default via 10.1.2.1 metric 100"
               + " && ip route add default via 10.1.3.1 metric 50";
  auto out = in_netns(setup, [](child_checks& c, const interface_table& t) {
    if (!NETNS_EXPECT(c, t.v4_default.has_value()))
      return;
    NETNS_EXPECT_EQ(c, t.v4_default->interface, "eth1");
    NETNS_EXPECT_EQ(c, t.v4_default->metric, 50u);
    NETNS_EXPECT(c, t.v4_default->gateway == ip("10.1.3.1"));
  });
  EXPECT_TRUE(out.ok) << out.report;
}

TEST(interfaces, a_default_route_in_another_table_is_not_the_default) {
  P2PD_SKIP_UNLESS_NETNS();
  auto out = in_netns(eth0_setup + " && ip route add default via 10.1.2.1 table 100",
                      [](child_checks& c, const interface_table& t) {
                        NETNS_EXPECT(c, !t.v4_default);
                      });
  EXPECT_TRUE(out.ok) << out.report;
}

TEST(interfaces, a_point_to_point_link_reports_its_local_address_not_the_peer) {
  P2PD_SKIP_UNLESS_NETNS();
  auto setup = std::string{"ip tuntap add t0 mode tun && ip addr add 10.9.0.1 peer 10.9.0.2 dev t0"
                           " && ip link set t0 up && ip route add default dev t0"};
  auto out = in_netns(setup, [](child_checks& c, const interface_table& t) {
    auto* t0 = t.find("t0");
    if (!NETNS_EXPECT(c, t0 != nullptr))
      return;
    NETNS_EXPECT(c, t0->flags.point_to_point);
    NETNS_EXPECT(c, t0->mac.empty());
    NETNS_EXPECT(c, find_addr(*t0, ip("10.9.0.1")) != nullptr);
    NETNS_EXPECT(c, find_addr(*t0, ip("10.9.0.2")) == nullptr);
    // A default route straight out of the link has no gateway.
    NETNS_EXPECT(c, t.v4_default && t.v4_default->interface == "t0" && !t.v4_default->gateway);
  });
  EXPECT_TRUE(out.ok) << out.report;
}

TEST(interfaces, lists_every_address_of_a_dump_spanning_many_messages) {
  P2PD_SKIP_UNLESS_NETNS();
  // 600 addresses take several netlink datagrams to dump.
  std::string batch;
  for (int i = 0; i < 600; ++i)
    batch += "addr add 10.2." + std::to_string(i / 200) + '.' + std::to_string(i % 200 + 1)
             + "/32 dev eth0\n";
  auto setup = eth0_setup + " && ip -batch - <<'EOF'\n" + batch + "EOF";
  auto out = in_netns(setup, [](child_checks& c, const interface_table& t) {
    auto* eth = t.find("eth0");
    if (!NETNS_EXPECT(c, eth != nullptr))
      return;
    NETNS_EXPECT_EQ(c, eth->addresses(family::v4).size(), size_t{601});
    NETNS_EXPECT(c, find_addr(*eth, ip("10.2.2.200")) != nullptr);
  });
  EXPECT_TRUE(out.ok) << out.report;
}
