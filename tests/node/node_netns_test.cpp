// Nodes on real interfaces in a network namespace of the test's own: two
// nodes on the two ends of a veth pair are two hosts of one link, so the
// plan must find the LAN and the link-local paths (loopback only ever
// gives same-host), and a node with two interfaces must offer both.
#include "node/node_fixture.hpp"

#include "support/netns.hpp"

using namespace p2pd;
using namespace p2pd::test;

namespace {

// lo up; eth0 and its peer veth-eth0 (one link), eth1 and veth-eth1 (a
// second one), no autoconfigured IPv6 (addrgenmode none): each test adds
// the addresses it is about.
const std::string links =
  "ip link set lo up"
  " && for n in eth0 eth1; do ip link add $n type veth peer name veth-$n"
  " && ip link set $n addrgenmode none && ip link set veth-$n addrgenmode none"
  " && ip link set $n up && ip link set veth-$n up; done";

// Runs `body(checks, rt, hub)` in a fresh namespace with `links` and then
// `addresses` set up.
template <class Body>
netns_outcome in_netns(const std::string& addresses, Body body) {
  return run_in_new_netns([&]() -> std::string {
    if (auto err = sh(links + " && " + addresses); !err.empty())
      return err;
    child_checks checks;
    runtime rt;
    auto hub = spawn_signal_hub(rt.system());
    body(checks, rt, hub);
    return checks.failures();
  });
}

node_spec on(std::vector<std::string> interfaces, const signal_hub_actor& hub) {
  node_spec spec;
  spec.identity = std::make_shared<const net::identity>(make_identity());
  spec.interfaces = std::move(interfaces);
  spec.hub = hub;
  return spec;
}

// Starts a node in the child; null (and a recorded failure) if it did not.
std::optional<node_handle> start_in(child_checks& c, runtime& rt, node_spec spec) {
  auto n = rt.start_node(std::move(spec));
  if (!c.expect(static_cast<bool>(n), "the node starts", __FILE__, __LINE__))
    return std::nullopt;
  return std::move(*n);
}

// `from` connects to `to`: the connection, or nothing (and a recorded failure).
std::optional<node_connection> connect_in(child_checks& c, node_handle& from,
                                          const node_handle& to) {
  auto conn = from.connect(to.address());
  if (!NETNS_EXPECT_EQ(c, render(conn ? caf::error{} : conn.error()), std::string{"none"}))
    return std::nullopt;
  return std::move(*conn);
}

} // namespace

TEST(NodeNetns, TwoHostsOfOneLanConnectOverTheirLanAddresses) {
  P2PD_SKIP_UNLESS_NETNS();
  auto out = in_netns("ip addr add 10.9.0.1/24 dev eth0 && ip addr add 10.9.0.2/24 dev veth-eth0",
                      [](child_checks& c, runtime& rt, signal_hub_actor& hub) {
                        auto a = start_in(c, rt, on({"eth0"}, hub));
                        auto b = start_in(c, rt, on({"veth-eth0"}, hub));
                        if (!a || !b)
                          return;
                        auto conn = connect_in(c, *a, *b);
                        if (!conn)
                          return;
                        NETNS_EXPECT_EQ(c, std::string{node::to_string(conn->report.path)},
                                        std::string{"lan"});
                        NETNS_EXPECT_EQ(c, conn->report.remote.ip.to_string(),
                                        std::string{"10.9.0.2"});
                        NETNS_EXPECT_EQ(c, render(a->send(b->id(), "over the LAN")),
                                        std::string{"none"});
                      });
  EXPECT_TRUE(out.ok) << out.report;
}

TEST(NodeNetns, TwoHostsWithOnlyLinkLocalAddressesConnectOverThem) {
  P2PD_SKIP_UNLESS_NETNS();
  P2PD_SKIP_UNLESS_IPV6();
  auto out = in_netns("ip -6 addr add fe80::1/64 dev eth0 nodad"
                      " && ip -6 addr add fe80::2/64 dev veth-eth0 nodad",
                      [](child_checks& c, runtime& rt, signal_hub_actor& hub) {
                        auto a = start_in(c, rt, on({"eth0"}, hub));
                        auto b = start_in(c, rt, on({"veth-eth0"}, hub));
                        if (!a || !b)
                          return;
                        auto conn = connect_in(c, *a, *b);
                        if (!conn)
                          return;
                        NETNS_EXPECT_EQ(c, std::string{node::to_string(conn->report.path)},
                                        std::string{"link-local"});
                        NETNS_EXPECT(c, conn->report.fam == net::family::v6);
                        NETNS_EXPECT(c, conn->report.remote.to_string().find("[fe80::2%")
                                          == 0);
                      });
  EXPECT_TRUE(out.ok) << out.report;
}

TEST(NodeNetns, ANodeWithTwoInterfacesOffersBothAndIsReachedOnEach) {
  P2PD_SKIP_UNLESS_NETNS();
  auto out = in_netns("ip addr add 10.9.0.1/24 dev eth0 && ip addr add 10.9.1.1/24 dev eth1"
                      " && ip addr add 10.9.1.2/24 dev veth-eth1",
                      [](child_checks& c, runtime& rt, signal_hub_actor& hub) {
                        auto a = start_in(c, rt, on({"eth0", "eth1"}, hub));
                        auto b = start_in(c, rt, on({"veth-eth1"}, hub));
                        if (!a || !b)
                          return;
                        auto addr = node::parse_peer_address(a->address());
                        if (!NETNS_EXPECT(c, static_cast<bool>(addr)))
                          return;
                        std::string nics;
                        for (auto& r : addr->routes)
                          if (r.nic)
                            nics += "if" + std::to_string(r.interface) + " "
                                    + r.nic->to_string() + ";";
                        NETNS_EXPECT_EQ(c, nics, std::string{"if0 10.9.0.1;if1 10.9.1.1;"});
                        // B shares only eth1's link: it reaches A there.
                        auto conn = connect_in(c, *b, *a);
                        if (!conn)
                          return;
                        NETNS_EXPECT_EQ(c, conn->report.remote.ip.to_string(),
                                        std::string{"10.9.1.1"});
                      });
  EXPECT_TRUE(out.ok) << out.report;
}
