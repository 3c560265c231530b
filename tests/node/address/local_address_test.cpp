#include "p2pd/node/address/local_address.hpp"

#include <gtest/gtest.h>

#include "support/values.hpp"

using namespace p2pd;
using namespace p2pd::node;
using p2pd::test::ip;
using net::family;

namespace {

net::route route_of(family fam, std::vector<const char*> nics, const char* ext = nullptr,
                    const char* link_local = nullptr, uint32_t index = 2) {
  net::route r;
  r.interface = "eth0";
  r.if_index = index;
  r.fam = fam;
  for (auto n : nics)
    r.nic_ips.push_back(net::ip_range::single(ip(n)));
  if (ext != nullptr)
    r.ext_ips.push_back(net::ip_range::single(ip(ext)));
  if (link_local != nullptr)
    r.link_locals.push_back(ip(link_local).with_scope(index));
  return r;
}

interface_snapshot snapshot(std::vector<net::route> routes, uint32_t index = 2) {
  interface_snapshot s;
  s.name = "eth0";
  s.index = index;
  s.routes = std::move(routes);
  s.nats.push_back({family::v4, net::nat_type::full_cone, net::delta_type::equal, 0, 0, 0, {}, {}});
  return s;
}

} // namespace

TEST(LocalAddress, TakesEachFamilysFirstAddressesExternalAndNat) {
  local_address_input in;
  in.port = 41000;
  in.interfaces.push_back(snapshot({route_of(family::v4, {"192.168.1.5"}, "203.0.113.7"),
                                    route_of(family::v6, {"fe80::9", "2a01:4f8::5"}, nullptr,
                                             "fe80::9")}));
  net::interface_table table;
  net::interface_info nic;
  nic.name = "eth0";
  nic.addrs.push_back({ip("192.168.1.5"), 24});
  table.interfaces.push_back(nic);
  in.table = &table;
  auto a = make_local_address(in);
  ASSERT_EQ(a.routes.size(), 2u);
  EXPECT_EQ(a.routes[0].nic, ip("192.168.1.5"));
  EXPECT_EQ(a.routes[0].prefix, 24);
  EXPECT_EQ(a.routes[0].external, ip("203.0.113.7"));
  EXPECT_EQ(a.routes[0].nat, net::nat_type::full_cone);
  EXPECT_EQ(a.routes[0].port, 41000);
  EXPECT_EQ(a.routes[1].nic, ip("2a01:4f8::5")); // the link-local goes in its own field
  ASSERT_TRUE(a.routes[1].link_local);
  EXPECT_EQ(a.routes[1].link_local->scope_id(), 0u); // scopes are host-local
  EXPECT_EQ(a.routes[1].prefix, 0); // not in the table: unknown
  EXPECT_FALSE(check(a)) << check(a).what;
}

TEST(LocalAddress, AtMostFourRoutesOfAFamily) {
  local_address_input in;
  in.port = 41000;
  for (int i = 0; i < 6; ++i)
    in.interfaces.push_back(snapshot({route_of(family::v4, {"10.0.0.1"})}));
  auto a = make_local_address(in);
  EXPECT_EQ(a.routes.size(), max_routes_per_family);
  EXPECT_EQ(a.routes.back().interface, 3);
}

TEST(LocalAddress, LinkScopesFollowTheInterfaces) {
  std::vector<interface_snapshot> ifs{snapshot({route_of(family::v4, {"10.0.0.1"})}, 2),
                                      snapshot({route_of(family::v6, {"2a01:4f8::5"}, nullptr,
                                                         "fe80::1", 7)},
                                               7)};
  EXPECT_EQ(link_scopes(ifs), (std::vector<uint32_t>{0, 7}));
}

TEST(LocalAddress, TheDefaultPortComesFromTheIdAndStaysInRange) {
  net::node_id a, b;
  b.bytes[0] = 1;
  EXPECT_EQ(default_node_port(a), default_node_port(a));
  EXPECT_NE(default_node_port(a), default_node_port(b));
  for (int i = 0; i < 256; ++i) {
    net::node_id x;
    x.bytes = {static_cast<uint8_t>(i), static_cast<uint8_t>(i * 7), 0xff, static_cast<uint8_t>(i)};
    auto p = default_node_port(x);
    EXPECT_GE(p, 10000);
    EXPECT_LT(p, 60000);
  }
}
