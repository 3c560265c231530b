// A node with port mapping on behind miniupnpd with IPv6 (the router is a
// stateful IPv6 firewall that opens pinholes, support/miniupnpd_fixture):
// the node asks for TCP and UDP pinholes of its port for its own IPv6
// address, which is where peers dial it (its address needs nothing new),
// and deletes them on close; a router that opens none delays nothing.
#include <chrono>
#include <optional>

#include "actors/portmap/pinhole_fixture.hpp"

#include "p2pd/api/node.hpp"
#include "p2pd/node/address/peer_address.hpp"

using namespace p2pd;
using namespace p2pd::test;
using namespace std::chrono_literals;

namespace {

node_spec pinhole_node(portmap_method method) {
  node_spec spec;
  auto id = net::identity::generate();
  spec.identity = std::make_shared<const net::identity>(std::move(*id));
  spec.interfaces = {"eth0"};
  spec.port_mapping.enabled = true;
  spec.port_mapping.methods = {method};
  spec.port_mapping.lifetime_s = 60;
  spec.port_mapping.timing = lab_portmap_timing();
  return spec;
}

// The node's IPv6 route in its current address.
std::optional<node::peer_route> v6_route_now(runtime& rt, const node_handle& n) {
  caf::scoped_actor self{rt.system()};
  std::optional<node::peer_route> out;
  self->request(n.handle(), 2s, info_atom::value)
    .receive(
      [&](node_info& i) {
        if (auto a = node::parse_peer_address(i.address))
          for (auto& r : a->routes)
            if (r.fam == net::family::v6)
              out = r;
      },
      [](caf::error&) {});
  return out;
}

miniupnpd_options node_lab_options(bool pinholes) {
  auto o = pinhole_lab_options(pinholes);
  o.tag = "phn"; // apart from the mapper tests' namespaces
  return o;
}

} // namespace

class NodePinhole : public ::testing::TestWithParam<portmap_method> {};

TEST_P(NodePinhole, PinholesOfTheNodePortLetThePeerIn) {
  P2PD_MINIUPNPD_LAB(lab, node_lab_options(true));
  netns_guard in{lab->client_ns()};
  ASSERT_EQ(in.error(), "");
  runtime rt;
  auto n = rt.start_node(pinhole_node(GetParam()));
  ASSERT_TRUE(n) << render(n.error());
  net::endpoint mine{miniupnpd_lab::client_ip6(), n->info().port};
  EXPECT_TRUE(router_pinholes_become(*lab, 5s, [&](auto& ps) {
    return has_pinhole(ps, tcp, mine) && has_pinhole(ps, udp, mine);
  })) << lab->log();
  EXPECT_TRUE(peer_connects(*lab, mine, 2s));
  // Peers dial the node's own IPv6 address: it is in the address already,
  // and no mapping is added to that route.
  auto r = v6_route_now(rt, *n);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->nic, miniupnpd_lab::client_ip6());
  EXPECT_FALSE(r->mapped);
}

INSTANTIATE_TEST_SUITE_P(ByMethod, NodePinhole,
                         ::testing::Values(portmap_method::pcp, portmap_method::upnp),
                         [](const auto& info) {
                           return std::string{info.param == portmap_method::pcp ? "pcp"
                                                                                : "upnp"};
                         });

TEST(NodePinholeClose, ClosingTheNodeDeletesItsPinholes) {
  // By UPnP: miniupnpd 2.3.1 cannot delete a PCP pinhole it renewed.
  P2PD_MINIUPNPD_LAB(lab, node_lab_options(true));
  netns_guard in{lab->client_ns()};
  ASSERT_EQ(in.error(), "");
  runtime rt;
  auto n = rt.start_node(pinhole_node(portmap_method::upnp));
  ASSERT_TRUE(n) << render(n.error());
  net::endpoint mine{miniupnpd_lab::client_ip6(), n->info().port};
  ASSERT_TRUE(router_pinholes_become(*lab, 5s, [&](auto& ps) {
    return has_pinhole(ps, tcp, mine) && has_pinhole(ps, udp, mine);
  })) << lab->log();
  EXPECT_EQ(render(n->close()), "none");
  EXPECT_TRUE(router_pinholes_become(*lab, 3s, [](auto& ps) { return ps.empty(); }))
    << "left at the router after close: " << lab->log();
}

TEST(NodePinholeNone, RouterWithoutPinholesDoesNotDelayReady) {
  // miniupnpd with IPv6 off: PCP over IPv6 and discovery over IPv6 go
  // unanswered, the IGD found over IPv4 refuses the pinholes.
  P2PD_MINIUPNPD_LAB(lab, node_lab_options(false));
  netns_guard in{lab->client_ns()};
  ASSERT_EQ(in.error(), "");
  runtime rt;
  auto spec = pinhole_node(portmap_method::upnp);
  spec.port_mapping.methods = {portmap_method::pcp, portmap_method::upnp};
  auto t0 = std::chrono::steady_clock::now();
  auto n = rt.start_node(spec);
  auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_TRUE(n) << render(n.error());
  EXPECT_LT(took, portmap_deadline(spec.port_mapping.timing) / 2);
  EXPECT_EQ(render(n->close()), "none");
  EXPECT_TRUE(lab->pinholes()->empty());
}
