#include "p2pd/node/connect/plan.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/values.hpp"

using namespace p2pd;
using namespace p2pd::node;
using p2pd::test::ip;
using net::family;

namespace {

peer_route v4(uint8_t iface, const char* nic, const char* ext, uint16_t port,
              uint8_t prefix = 24) {
  peer_route r;
  r.interface = iface;
  r.fam = family::v4;
  r.nic = ip(nic);
  r.prefix = prefix;
  if (ext != nullptr)
    r.external = ip(ext);
  r.port = port;
  return r;
}

peer_route v6(uint8_t iface, const char* global, const char* link_local, uint16_t port) {
  peer_route r;
  r.interface = iface;
  r.fam = family::v6;
  if (global != nullptr) {
    r.nic = ip(global);
    r.prefix = 64;
  }
  if (link_local != nullptr)
    r.link_local = ip(link_local);
  r.port = port;
  return r;
}

peer_address node_with(std::vector<peer_route> routes, bool channels = true) {
  peer_address a;
  a.routes = std::move(routes);
  if (channels)
    a.channels = {{channel_kind::hub, "hub"}};
  return a;
}

std::vector<std::string> describe(const std::vector<attempt>& plan) {
  std::vector<std::string> out;
  for (auto& a : plan)
    out.push_back(a.to_string());
  return out;
}

local_view me_with(std::vector<peer_route> routes, std::vector<uint32_t> scopes = {},
                   std::vector<family> relays = {}) {
  return local_view{node_with(std::move(routes)), std::move(scopes), std::move(relays)};
}

connect_options relay_datagrams() {
  connect_options o{{strategy::relay}};
  o.kind = transport::datagram;
  return o;
}

} // namespace

TEST(ConnectPlan, TwoNodesOnOneMachineUseTheSharedAddress) {
  auto me = me_with({v4(0, "127.0.0.1", nullptr, 4000)});
  auto peer = node_with({v4(0, "127.0.0.1", nullptr, 4001)});
  auto plan = plan_connect(me, peer, {});
  EXPECT_EQ(describe(plan), (std::vector<std::string>{
                              "direct IPv4 same-host if0->if0 127.0.0.1:4001",
                              "reverse IPv4 signalling if0->if0"}));
  EXPECT_EQ(plan[0].bind, ip("127.0.0.1"));
}

TEST(ConnectPlan, BehindOneRouterTheNicAddressComesAndTheExternalDoesNot) {
  auto me = me_with({v4(0, "192.168.1.10", "203.0.113.5", 4000)});
  auto peer = node_with({v4(0, "192.168.1.20", "203.0.113.5", 4001)});
  EXPECT_EQ(describe(plan_connect(me, peer, {{strategy::direct}})),
            (std::vector<std::string>{"direct IPv4 lan if0->if0 192.168.1.20:4001"}));
}

TEST(ConnectPlan, ApartTheExternalAddressIsTried) {
  auto me = me_with({v4(0, "192.168.1.10", "203.0.113.5", 4000)});
  auto peer = node_with({v4(0, "10.0.0.20", "198.51.100.9", 4001)});
  EXPECT_EQ(describe(plan_connect(me, peer, {{strategy::direct}})),
            (std::vector<std::string>{"direct IPv4 external if0->if0 198.51.100.9:4001"}));
}

TEST(ConnectPlan, TheSamePrivateAddressInTwoHomesIsNotOneMachine) {
  auto me = me_with({v4(0, "192.168.1.2", "203.0.113.5", 4000)});
  auto peer = node_with({v4(0, "192.168.1.2", "198.51.100.9", 4001)});
  EXPECT_EQ(describe(plan_connect(me, peer, {{strategy::direct}})),
            (std::vector<std::string>{"direct IPv4 external if0->if0 198.51.100.9:4001"}));
}

TEST(ConnectPlan, APeerOnOurLinkIsTriedOnTheLan) {
  auto me = me_with({v4(0, "192.168.1.10", nullptr, 4000)});
  auto peer = node_with({v4(0, "192.168.1.20", nullptr, 4001)});
  EXPECT_EQ(describe(plan_connect(me, peer, {{strategy::direct}})),
            (std::vector<std::string>{"direct IPv4 lan if0->if0 192.168.1.20:4001"}));
}

TEST(ConnectPlan, APrivateAddressOffOurLinkIsNotALan) {
  auto me = me_with({v4(0, "192.168.1.10", nullptr, 4000)});
  auto peer = node_with({v4(0, "192.168.7.20", nullptr, 4001)});
  EXPECT_TRUE(plan_connect(me, peer, {{strategy::direct}}).empty());
}

TEST(ConnectPlan, WithoutPrefixesPrivateNeighboursStillTryTheLan) {
  auto me = me_with({v4(0, "192.168.1.10", nullptr, 4000, 0)});
  auto peer = node_with({v4(0, "192.168.7.20", nullptr, 4001, 0)});
  EXPECT_EQ(describe(plan_connect(me, peer, {{strategy::direct}})),
            (std::vector<std::string>{"direct IPv4 lan if0->if0 192.168.7.20:4001"}));
}

TEST(ConnectPlan, IPv6UsesLinkLocalWithOurScopeOnOneLink) {
  auto me = me_with({v6(0, "2a01:4f8:1::1", "fe80::1", 4000)}, {3});
  auto peer = node_with({v6(0, "2a01:4f8:1::2", "fe80::2", 4001)});
  auto plan = plan_connect(me, peer, {{strategy::direct}, {family::v6}});
  EXPECT_EQ(describe(plan), (std::vector<std::string>{
                              "direct IPv6 lan if0->if0 [2a01:4f8:1::2]:4001",
                              "direct IPv6 link-local if0->if0 [fe80::2%3]:4001"}));
  EXPECT_EQ(plan[1].target.ip.scope_id(), 3u);
  EXPECT_EQ(plan[1].bind, ip("fe80::1").with_scope(3));
}

TEST(ConnectPlan, IPv6UsesLinkLocalWhenThePeerHasNoGlobalAddress) {
  auto me = me_with({v6(0, "2a01:4f8:1::1", "fe80::1", 4000)}, {3});
  auto peer = node_with({v6(0, nullptr, "fe80::2", 4001)});
  EXPECT_EQ(describe(plan_connect(me, peer, {{strategy::direct}, {family::v6}})),
            (std::vector<std::string>{"direct IPv6 link-local if0->if0 [fe80::2%3]:4001"}));
}

TEST(ConnectPlan, NoLinkLocalBetweenGlobalAddressesOfTwoLinks) {
  // Two sites of the lab: each host has a link-local address, on links of its own.
  auto me = me_with({v6(0, "2a01:4f8:1::1", "fe80::1", 4000)}, {3});
  auto peer = node_with({v6(0, "2a01:4f8:2::2", "fe80::2", 4001)});
  EXPECT_EQ(describe(plan_connect(me, peer, {{strategy::direct}, {family::v6}})),
            (std::vector<std::string>{"direct IPv6 external if0->if0 [2a01:4f8:2::2]:4001"}));
}

TEST(ConnectPlan, NoLinkLocalWithoutAScopeForOurInterface) {
  auto me = me_with({v6(0, "2a01:4f8:1::1", "fe80::1", 4000)});
  auto peer = node_with({v6(0, nullptr, "fe80::2", 4001)});
  EXPECT_TRUE(plan_connect(me, peer, {{strategy::direct}, {family::v6}}).empty());
}

TEST(ConnectPlan, FamiliesFollowTheOptionsOrder) {
  auto me = me_with({v4(0, "127.0.0.1", nullptr, 4000), v6(0, "::1", nullptr, 4000)});
  auto peer = node_with({v4(0, "127.0.0.1", nullptr, 4001), v6(0, "::1", nullptr, 4001)});
  EXPECT_EQ(describe(plan_connect(me, peer, {{strategy::direct}, {family::v6, family::v4}})),
            (std::vector<std::string>{"direct IPv6 same-host if0->if0 [::1]:4001",
                                      "direct IPv4 same-host if0->if0 127.0.0.1:4001"}));
}

TEST(ConnectPlan, TwoInterfacesOfferBothAndDuplicatesGoOnce) {
  auto me = me_with({v4(0, "192.168.1.10", nullptr, 4000), v4(1, "10.0.0.10", nullptr, 4000)});
  auto peer = node_with({v4(0, "192.168.1.20", nullptr, 4001), v4(1, "10.0.0.20", nullptr, 4001)});
  EXPECT_EQ(describe(plan_connect(me, peer, {{strategy::direct}})),
            (std::vector<std::string>{"direct IPv4 lan if0->if0 192.168.1.20:4001",
                                      "direct IPv4 lan if1->if1 10.0.0.20:4001"}));
}

TEST(ConnectPlan, EachStrategyIsCapped) {
  std::vector<peer_route> mine, theirs;
  for (uint8_t i = 0; i < 4; ++i) {
    auto nic = "192.168.1." + std::to_string(10 + i);
    auto other = "192.168.1." + std::to_string(100 + i);
    mine.push_back(v4(i, nic.c_str(), nullptr, 4000));
    theirs.push_back(v4(i, other.c_str(), nullptr, 4001));
  }
  connect_options opts;
  opts.strategies = {strategy::direct};
  opts.max_per_strategy = 3;
  EXPECT_EQ(plan_connect(me_with(mine), node_with(theirs), opts).size(), 3u);
}

TEST(ConnectPlan, ReverseNeedsThePeersSignallingAndOurRoute) {
  auto me = me_with({v4(0, "127.0.0.1", nullptr, 4000)});
  auto silent = node_with({v4(0, "127.0.0.1", nullptr, 4001)}, false);
  EXPECT_TRUE(plan_connect(me, silent, {{strategy::reverse}}).empty());
  auto unreachable = node_with({}, true);
  EXPECT_EQ(describe(plan_connect(me, unreachable, {})),
            (std::vector<std::string>{"reverse IPv4 signalling if0->if0"}));
  EXPECT_TRUE(plan_connect(me_with({}), unreachable, {}).empty());
}

TEST(ConnectPlan, APunchOverTcpIsPlannedToAPeerWhoseUdpIsBlocked) {
  // No external address (its UDP probes failed), but its NAT may map TCP:
  // the punch's exchange brings the address.
  auto me = me_with({v4(0, "10.0.1.2", "198.51.100.11", 4000)});
  auto blocked = v4(0, "10.0.8.2", nullptr, 4001);
  blocked.nat = net::nat_type::blocked;
  auto peer = node_with({blocked});
  connect_options tcp{{strategy::punch}};
  EXPECT_EQ(describe(plan_connect(me, peer, tcp)),
            (std::vector<std::string>{"punch IPv4 external if0->if0"}));
  connect_options udp{{strategy::punch}};
  udp.kind = transport::datagram;
  EXPECT_TRUE(plan_connect(me, peer, udp).empty());
}

TEST(ConnectPlan, ARelayIsPlannedPerFamilyWeHaveATurnServerOf) {
  auto me = me_with({v4(0, "10.0.1.2", "198.51.100.11", 4000), v6(0, "2001:db8::2", nullptr, 4000)},
                    {}, {family::v4});
  auto peer = node_with({v4(1, "10.0.8.2", "203.0.113.9", 4001), v6(1, "2001:db8:1::2", nullptr, 4001)});
  EXPECT_EQ(describe(plan_connect(me, peer, relay_datagrams())),
            (std::vector<std::string>{"relay IPv4 relayed if0->if1"}));
}

TEST(ConnectPlan, NoRelayWithoutATurnServerOrSignalling) {
  auto peer = node_with({v4(1, "10.0.8.2", "203.0.113.9", 4001)});
  auto no_turn = me_with({v4(0, "10.0.1.2", "198.51.100.11", 4000)});
  EXPECT_TRUE(plan_connect(no_turn, peer, relay_datagrams()).empty());
  auto me = me_with({v4(0, "10.0.1.2", "198.51.100.11", 4000)}, {}, {family::v4});
  auto silent = node_with({v4(1, "10.0.8.2", "203.0.113.9", 4001)}, false);
  EXPECT_TRUE(plan_connect(me, silent, relay_datagrams()).empty());
}

TEST(ConnectPlan, AStreamIsRelayedLikeADatagram) {
  auto me = me_with({v4(0, "10.0.1.2", "198.51.100.11", 4000)}, {}, {family::v4});
  auto peer = node_with({v4(1, "10.0.8.2", "203.0.113.9", 4001)});
  EXPECT_EQ(describe(plan_connect(me, peer, {{strategy::relay}})),
            (std::vector<std::string>{"relay IPv4 relayed if0->if1"}));
}

TEST(ConnectPlan, ARelayNeedsOnlyThePeersSignallingWhenItListsNoRoutes) {
  auto me = me_with({v4(0, "10.0.1.2", "198.51.100.11", 4000)}, {}, {family::v4});
  EXPECT_EQ(describe(plan_connect(me, node_with({}), relay_datagrams())),
            (std::vector<std::string>{"relay IPv4 relayed if0->if0"}));
}
