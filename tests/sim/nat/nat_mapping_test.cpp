// Mapping behaviour (RFC 4787 section 4.1): which destinations share an
// external port.

#include "nat_fixture.hpp"

namespace p2pd::sim::test {
namespace {

nat_table mapping_box(dependence m) {
  return box(nat_with([m](nat_profile& p) { p.mapping = m; }));
}

TEST(NatMapping, endpoint_independent_keeps_one_external_port_for_any_destination) {
  auto t = mapping_box(dependence::endpoint_independent);
  auto first = out_udp(t, inside(0, 5000), server(0, 3478));
  auto other_ip = out_udp(t, inside(0, 5000), server(1, 3479));
  auto other_port = out_udp(t, inside(0, 5000), server(0, 4000));
  EXPECT_EQ(first.ip, nat_ip());
  EXPECT_EQ(other_ip, first);
  EXPECT_EQ(other_port, first);
  EXPECT_EQ(t.mapping_count(ms(0)), 1u);
}

TEST(NatMapping, address_dependent_shares_the_port_between_ports_of_one_ip) {
  auto t = mapping_box(dependence::address_dependent);
  auto first = out_udp(t, inside(0, 5000), server(0, 3478));
  EXPECT_EQ(out_udp(t, inside(0, 5000), server(0, 4000)), first);
}

TEST(NatMapping, address_dependent_gives_another_ip_another_port) {
  auto t = mapping_box(dependence::address_dependent);
  auto first = out_udp(t, inside(0, 5000), server(0, 3478));
  auto second = out_udp(t, inside(0, 5000), server(1, 3478));
  EXPECT_NE(second.port, first.port);
  EXPECT_EQ(t.mapping_count(ms(0)), 2u);
}

TEST(NatMapping, address_and_port_dependent_gives_another_port_of_one_ip_another_port) {
  auto t = mapping_box(dependence::address_and_port_dependent);
  auto first = out_udp(t, inside(0, 5000), server(0, 3478));
  auto second = out_udp(t, inside(0, 5000), server(0, 4000));
  EXPECT_NE(second.port, first.port);
}

TEST(NatMapping, a_repeated_destination_reuses_its_mapping) {
  for (auto m : {dependence::endpoint_independent, dependence::address_dependent,
                 dependence::address_and_port_dependent}) {
    auto t = mapping_box(m);
    auto first = out_udp(t, inside(0, 5000), server(0, 3478), ms(0));
    EXPECT_EQ(out_udp(t, inside(0, 5000), server(0, 3478), ms(10)), first) << to_string(m);
    EXPECT_EQ(t.mapping_count(ms(10)), 1u) << to_string(m);
  }
}

TEST(NatMapping, two_inside_sockets_get_two_mappings) {
  auto t = mapping_box(dependence::endpoint_independent);
  auto a = out_udp(t, inside(0, 5000), server(0));
  auto b = out_udp(t, inside(1, 6000), server(0));
  EXPECT_NE(a, b);
  auto lookup = t.mapping_for(protocol::udp, inside(1, 6000), server(7), ms(0));
  ASSERT_TRUE(lookup.has_value());
  EXPECT_EQ(*lookup, b);
}

TEST(NatMapping, udp_and_tcp_have_port_spaces_of_their_own) {
  // Equal allocation: both protocols keep the local port, no collision.
  auto t = mapping_box(dependence::endpoint_independent);
  auto u = out_udp(t, inside(0, 5000), server(0));
  auto v = t.outbound(packet::tcp(inside(0, 5000), server(0), tcp_flag::syn), ms(0));
  ASSERT_EQ(v.action, nat_action::to_internet);
  EXPECT_EQ(u.port, 5000);
  EXPECT_EQ(v.pkt.src.port, 5000);
}

} // namespace
} // namespace p2pd::sim::test
