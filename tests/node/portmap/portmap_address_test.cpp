// The port mapping in a node's address: how it is written and read
// (peer_address), where make_local_address puts it, and what plan_connect
// does with it.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "p2pd/node/address/local_address.hpp"
#include "p2pd/node/address/peer_address.hpp"
#include "p2pd/node/connect/plan.hpp"

#include "support/values.hpp"

using namespace p2pd;
using namespace p2pd::node;
using p2pd::test::ip;
using net::family;

namespace {

peer_route v4(uint8_t iface, const char* nic, const char* ext, uint16_t port) {
  peer_route r;
  r.interface = iface;
  r.fam = family::v4;
  r.nic = ip(nic);
  r.prefix = 24;
  if (ext != nullptr)
    r.external = ip(ext);
  r.port = port;
  return r;
}

peer_route mapped(peer_route r, const char* ext, uint16_t tcp, uint16_t udp) {
  r.mapped = ip(ext);
  r.mapped_tcp = tcp;
  r.mapped_udp = udp;
  return r;
}

class PortmapAddress : public ::testing::Test {
protected:
  void SetUp() override {
    auto id = net::identity::generate();
    ASSERT_TRUE(id);
    me = std::make_unique<net::identity>(std::move(*id));
    addr.keys = me->pub();
    addr.issued_ms = 1'764'806'400'000;
    addr.routes = {mapped(v4(0, "10.0.1.2", "11.100.0.11", 41000), "11.100.0.11", 41000, 41001)};
    addr.channels = {{channel_kind::hub, "lab"}};
  }

  std::string signed_with(void (*change)(peer_address&)) {
    auto a = addr;
    change(a);
    return sign_peer_address_body(peer_address_body(a), *me);
  }

  void expect_refused(const std::string& text, const std::string& says) {
    auto x = parse_peer_address(text);
    ASSERT_FALSE(x) << "accepted: " << text;
    EXPECT_EQ(x.error().code, net::errc::malformed) << x.error().what;
    EXPECT_NE(x.error().what.find(says), std::string::npos) << x.error().what;
  }

  std::unique_ptr<net::identity> me;
  peer_address addr;
};

local_view me_routed(std::vector<peer_route> routes) {
  peer_address a;
  a.routes = std::move(routes);
  a.channels = {{channel_kind::hub, "hub"}};
  return local_view{a, {}, {}};
}

peer_address peer_with(std::vector<peer_route> routes) {
  return me_routed(std::move(routes)).self;
}

std::vector<std::string> describe_plan(const std::vector<attempt>& plan) {
  std::vector<std::string> out;
  for (auto& a : plan)
    out.push_back(a.to_string());
  return out;
}

} // namespace

TEST_F(PortmapAddress, AMappingRoundTrips) {
  auto t = encode_peer_address(addr, *me);
  ASSERT_TRUE(t) << t.error().what;
  auto back = parse_peer_address(*t);
  ASSERT_TRUE(back) << back.error().what;
  EXPECT_EQ(*back, addr);
  EXPECT_EQ(back->routes[0].mapped, ip("11.100.0.11"));
  EXPECT_EQ(back->routes[0].mapped_tcp, 41000);
  EXPECT_EQ(back->routes[0].mapped_udp, 41001);
  EXPECT_NE(describe(*back).find("mapped 11.100.0.11 tcp 41000 udp 41001"), std::string::npos);
}

TEST_F(PortmapAddress, AnAddressWithoutAMappingIsWrittenAsBefore) {
  auto without = addr;
  without.routes[0].mapped.reset();
  without.routes[0].mapped_tcp = without.routes[0].mapped_udp = 0;
  // The mapping costs its address and two ports, nothing else changes.
  EXPECT_EQ(peer_address_body(addr).size(), peer_address_body(without).size() + 4 + 2 + 2);
  auto t = encode_peer_address(without, *me);
  ASSERT_TRUE(t);
  auto back = parse_peer_address(*t);
  ASSERT_TRUE(back);
  EXPECT_FALSE(back->routes[0].mapped);
}

TEST_F(PortmapAddress, BadMappingsAreRefusedByName) {
  expect_refused(signed_with([](peer_address& a) { a.routes[0].mapped = ip("0.0.0.0"); }),
                 "mapped address");
  expect_refused(signed_with([](peer_address& a) {
                   a.routes[0].mapped_tcp = 0;
                   a.routes[0].mapped_udp = 0;
                 }),
                 "needs a TCP or a UDP port");
  // Ports without an address cannot be written (the flag carries both):
  // check() refuses them before encoding.
  auto ports_only = addr;
  ports_only.routes[0].mapped.reset();
  EXPECT_NE(check(ports_only).what.find("mapped ports without a mapped address"),
            std::string::npos);
  auto a = addr;
  a.routes[0].mapped = ip("224.0.0.1");
  EXPECT_TRUE(check(a));
  EXPECT_FALSE(encode_peer_address(a, *me));
}

TEST(PortmapLocalAddress, TheMappingGoesToItsInterfacesIpv4Route) {
  local_address_input in;
  in.port = 41000;
  for (const char* name : {"eth0", "eth1"}) {
    interface_snapshot s;
    s.name = name;
    net::route r;
    r.interface = name;
    r.fam = family::v4;
    r.nic_ips.push_back(net::ip_range::single(ip(name == std::string{"eth0"} ? "10.0.1.2"
                                                                            : "10.0.9.2")));
    s.routes.push_back(r);
    in.interfaces.push_back(s);
  }
  in.mapped.push_back({1, ip("11.100.0.11"), 41000, 0});
  auto a = make_local_address(in);
  ASSERT_EQ(a.routes.size(), 2u);
  EXPECT_FALSE(a.routes[0].mapped);
  EXPECT_EQ(a.routes[1].mapped, ip("11.100.0.11"));
  EXPECT_EQ(a.routes[1].mapped_tcp, 41000);
  EXPECT_EQ(a.routes[1].mapped_udp, 0);
  EXPECT_FALSE(check(a)) << check(a).what;
}

TEST(PortmapPlan, APeersMappingIsTriedBeforeItsExternalAddress) {
  auto me = me_routed({v4(0, "10.0.2.2", "198.51.100.12", 4000)});
  auto peer =
    peer_with({mapped(v4(0, "10.0.1.2", "198.51.100.11", 4001), "198.51.100.11", 5001, 0)});
  EXPECT_EQ(describe_plan(plan_connect(me, peer, {{strategy::direct}})),
            (std::vector<std::string>{"direct IPv4 mapped if0->if0 198.51.100.11:5001",
                                      "direct IPv4 external if0->if0 198.51.100.11:4001"}));
}

TEST(PortmapPlan, AMappingOfTheNodePortIsOneAttempt) {
  auto me = me_routed({v4(0, "10.0.2.2", "198.51.100.12", 4000)});
  auto peer =
    peer_with({mapped(v4(0, "10.0.1.2", "198.51.100.11", 4001), "198.51.100.11", 4001, 4001)});
  EXPECT_EQ(describe_plan(plan_connect(me, peer, {{strategy::direct}})),
            (std::vector<std::string>{"direct IPv4 mapped if0->if0 198.51.100.11:4001"}));
}

TEST(PortmapPlan, BehindOneRouterTheLanIsTheWayNotTheMapping) {
  auto me = me_routed({v4(0, "10.0.1.3", "198.51.100.11", 4000)});
  auto peer =
    peer_with({mapped(v4(0, "10.0.1.2", "198.51.100.11", 4001), "198.51.100.11", 4001, 0)});
  EXPECT_EQ(describe_plan(plan_connect(me, peer, {{strategy::direct}})),
            (std::vector<std::string>{"direct IPv4 lan if0->if0 10.0.1.2:4001"}));
}

TEST(PortmapPlan, AUdpOnlyMappingPlansNoStreamAttempt) {
  auto me = me_routed({v4(0, "10.0.2.2", "198.51.100.12", 4000)});
  auto peer =
    peer_with({mapped(v4(0, "10.0.1.2", "198.51.100.11", 4001), "198.51.100.11", 0, 5001)});
  EXPECT_EQ(describe_plan(plan_connect(me, peer, {{strategy::direct}})),
            (std::vector<std::string>{"direct IPv4 external if0->if0 198.51.100.11:4001"}));
}

// connect_options for sealed datagrams by `how`.
static connect_options datagrams(std::vector<strategy> how) {
  connect_options o;
  o.strategies = std::move(how);
  o.families = {family::v4};
  o.kind = transport::datagram;
  return o;
}

TEST(PortmapPlan, ADatagramConnectPunchesThroughThePeersUdpMappingBesideThePrediction) {
  auto me = me_routed({v4(0, "10.0.2.2", "198.51.100.12", 4000)});
  auto peer =
    peer_with({mapped(v4(0, "10.0.1.2", "198.51.100.11", 4001), "198.51.100.11", 5001, 5002)});
  EXPECT_EQ(describe_plan(plan_connect(me, peer, datagrams({strategy::punch}))),
            (std::vector<std::string>{"punch IPv4 mapped if0->if0 198.51.100.11:5002",
                                      "punch IPv4 external if0->if0"}));
}

TEST(PortmapPlan, ATcpOnlyMappingPlansNoMappedDatagramPunch) {
  auto me = me_routed({v4(0, "10.0.2.2", "198.51.100.12", 4000)});
  auto peer =
    peer_with({mapped(v4(0, "10.0.1.2", "198.51.100.11", 4001), "198.51.100.11", 5001, 0)});
  EXPECT_EQ(describe_plan(plan_connect(me, peer, datagrams({strategy::punch}))),
            (std::vector<std::string>{"punch IPv4 external if0->if0"}));
}

TEST(PortmapPlan, AStreamPunchDoesNotAimAtTheUdpMapping) {
  auto me = me_routed({v4(0, "10.0.2.2", "198.51.100.12", 4000)});
  auto peer =
    peer_with({mapped(v4(0, "10.0.1.2", "198.51.100.11", 4001), "198.51.100.11", 0, 5002)});
  connect_options o = datagrams({strategy::punch});
  o.kind = transport::stream;
  EXPECT_EQ(describe_plan(plan_connect(me, peer, o)),
            (std::vector<std::string>{"punch IPv4 external if0->if0"}));
}

TEST(PortmapPlan, BehindOneRouterADatagramConnectSkipsTheMapping) {
  auto me = me_routed({v4(0, "10.0.1.3", "198.51.100.11", 4000)});
  auto peer =
    peer_with({mapped(v4(0, "10.0.1.2", "198.51.100.11", 4001), "198.51.100.11", 0, 5002)});
  EXPECT_EQ(describe_plan(plan_connect(me, peer, datagrams({strategy::punch}))),
            (std::vector<std::string>{"punch IPv4 lan if0->if0"}));
}
