// A node with port mapping on, behind miniupnpd (support/miniupnpd_fixture):
// the test thread enters the client's namespace before the runtime starts,
// so the node's interfaces, default route and sockets are the client's.
#include <chrono>
#include <optional>

#include <poll.h>

#include <gtest/gtest.h>

#include "caf/scoped_actor.hpp"

#include "support/miniupnpd_fixture.hpp"

#include "p2pd/api/node.hpp"
#include "p2pd/api/runtime.hpp"
#include "p2pd/messages/errors.hpp"
#include "p2pd/node/address/peer_address.hpp"

using namespace p2pd;
using namespace p2pd::test;
using namespace std::chrono_literals;

namespace {

node_spec mapping_node(std::vector<portmap_method> methods) {
  node_spec spec;
  auto id = net::identity::generate();
  spec.identity = std::make_shared<const net::identity>(std::move(*id));
  spec.interfaces = {"eth0"};
  spec.port_mapping.enabled = true;
  spec.port_mapping.methods = std::move(methods);
  spec.port_mapping.lifetime_s = 60;
  spec.port_mapping.timing = lab_portmap_timing();
  return spec;
}

// The node's current address (the handle keeps the one of its start).
std::optional<node::peer_address> address_now(runtime& rt, const node_handle& n) {
  caf::scoped_actor self{rt.system()};
  std::optional<node::peer_address> out;
  self->request(n.handle(), 2s, info_atom::value)
    .receive(
      [&](node_info& i) {
        if (auto a = node::parse_peer_address(i.address))
          out = *a;
      },
      [](caf::error&) {});
  return out;
}

// The mapped TCP endpoint of the node's IPv4 route, once it is there (at
// most `limit`, checked every 50 ms: the node tells no one but subscribers).
std::optional<net::endpoint> mapped_within(runtime& rt, const node_handle& n,
                                           std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    if (auto a = address_now(rt, n))
      for (auto& r : a->routes)
        if (r.fam == net::family::v4 && r.mapped && r.mapped_tcp != 0)
          return net::endpoint{*r.mapped, r.mapped_tcp};
    if (std::chrono::steady_clock::now() >= deadline)
      return std::nullopt;
    pollfd none{-1, 0, 0};
    ::poll(&none, 0, 50);
  }
}

bool router_has(miniupnpd_lab& lab, net::protocol proto, uint16_t port) {
  auto ms = lab.mappings();
  if (!ms)
    return false;
  for (auto& m : *ms)
    if (m.proto == proto && m.internal.port == port && m.internal.ip == miniupnpd_lab::client_ip())
      return true;
  return false;
}

template <class Pred>
bool becomes(std::chrono::milliseconds limit, Pred pred) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    pollfd none{-1, 0, 0};
    ::poll(&none, 0, 100);
  }
  return true;
}

} // namespace

class NodePortmap : public ::testing::TestWithParam<portmap_method> {};

TEST_P(NodePortmap, TheMappingJoinsTheAddressAndIsDeletedOnClose) {
  P2PD_MINIUPNPD_LAB(lab, miniupnpd_options{});
  netns_guard in{lab->client_ns()};
  ASSERT_EQ(in.error(), "");
  runtime rt;
  auto n = rt.start_node(mapping_node({GetParam()}));
  ASSERT_TRUE(n) << render(n.error());
  auto port = n->info().port;
  auto ext = mapped_within(rt, *n, 10s);
  ASSERT_TRUE(ext) << "no mapping in the address; miniupnpd: " << lab->log();
  EXPECT_EQ(ext->ip, miniupnpd_lab::external_ip());
  EXPECT_TRUE(router_has(*lab, net::protocol::tcp, port));
  EXPECT_TRUE(becomes(3s, [&] { return router_has(*lab, net::protocol::udp, port); }));
  EXPECT_EQ(render(n->close()), "none");
  EXPECT_TRUE(becomes(3s, [&] {
    return !router_has(*lab, net::protocol::tcp, port)
           && !router_has(*lab, net::protocol::udp, port);
  })) << "left at the router after close";
}

INSTANTIATE_TEST_SUITE_P(EachMethod, NodePortmap,
                         ::testing::Values(portmap_method::pcp, portmap_method::natpmp,
                                           portmap_method::upnp),
                         [](const auto& info) {
                           switch (info.param) {
                             case portmap_method::pcp: return std::string{"pcp"};
                             case portmap_method::natpmp: return std::string{"natpmp"};
                             default: return std::string{"upnp"};
                           }
                         });

TEST(NodePortmapSilentGateway, DoesNotDelayReadyAndAddsNoMapping) {
  P2PD_MINIUPNPD_LAB(lab, miniupnpd_options{});
  netns_guard in{lab->client_ns()};
  ASSERT_EQ(in.error(), "");
  runtime rt;
  auto spec = mapping_node({portmap_method::pcp, portmap_method::natpmp});
  // Nobody is at this address: every request goes unanswered.
  spec.port_mapping.gateway = *net::ip_address::parse("10.77.1.99");
  auto t0 = std::chrono::steady_clock::now();
  auto n = rt.start_node(spec);
  auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_TRUE(n) << render(n.error());
  // The unanswered methods take seconds (portmap_deadline); ready does not.
  EXPECT_LT(took, portmap_deadline(spec.port_mapping.timing) / 2);
  EXPECT_FALSE(mapped_within(rt, *n, 300ms));
  EXPECT_EQ(render(n->close()), "none");
}
