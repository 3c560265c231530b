// Filtering behaviour (RFC 4787 section 5): which sources may send in through
// a mapping. Each test opens the mapping to server 0 port 3478 first.

#include "nat_fixture.hpp"

namespace p2pd::sim::test {
namespace {

struct opened {
  nat_table table;
  net::endpoint external;
};

opened filtering_box(dependence f) {
  auto t = box(nat_with([f](nat_profile& p) { p.filtering = f; }));
  auto ext = out_udp(t, inside(0, 5000), server(0, 3478));
  return {std::move(t), ext};
}

verdict from(opened& o, const net::endpoint& src) {
  return o.table.inbound(packet::udp(src, o.external), ms(100));
}

TEST(NatFiltering, endpoint_independent_lets_any_source_in) {
  auto o = filtering_box(dependence::endpoint_independent);
  auto v = from(o, server(5, 9999));
  ASSERT_EQ(v.action, nat_action::to_lan) << ::testing::PrintToString(v);
  EXPECT_EQ(v.pkt.dst, inside(0, 5000));
  EXPECT_EQ(v.pkt.src, server(5, 9999)); // the source is not translated
}

TEST(NatFiltering, address_dependent_lets_another_port_of_a_contacted_ip_in) {
  auto o = filtering_box(dependence::address_dependent);
  EXPECT_EQ(from(o, server(0, 3479)).action, nat_action::to_lan);
}

TEST(NatFiltering, address_dependent_drops_an_ip_never_contacted) {
  auto o = filtering_box(dependence::address_dependent);
  EXPECT_EQ(from(o, server(1, 3478)).action, nat_action::drop);
}

TEST(NatFiltering, address_and_port_dependent_drops_another_port_of_a_contacted_ip) {
  auto o = filtering_box(dependence::address_and_port_dependent);
  EXPECT_EQ(from(o, server(0, 3479)).action, nat_action::drop);
  EXPECT_EQ(from(o, server(1, 3478)).action, nat_action::drop);
}

TEST(NatFiltering, address_and_port_dependent_lets_the_contacted_endpoint_in) {
  auto o = filtering_box(dependence::address_and_port_dependent);
  auto v = from(o, server(0, 3478));
  ASSERT_EQ(v.action, nat_action::to_lan);
  EXPECT_EQ(v.pkt.dst, inside(0, 5000));
}

TEST(NatFiltering, unsolicited_udp_to_an_unmapped_port_is_dropped) {
  for (auto f : {dependence::endpoint_independent, dependence::address_dependent,
                 dependence::address_and_port_dependent}) {
    auto o = filtering_box(f);
    auto v = o.table.inbound(packet::udp(server(0, 3478), net::endpoint{nat_ip(), 1}), ms(10));
    EXPECT_EQ(v.action, nat_action::drop) << to_string(f);
  }
}

TEST(NatFiltering, a_packet_for_another_address_than_the_nat_is_dropped) {
  auto o = filtering_box(dependence::endpoint_independent);
  auto v = o.table.inbound(packet::udp(server(0, 3478), inside(0, 5000)), ms(10));
  EXPECT_EQ(v.action, nat_action::drop);
}

TEST(NatFiltering, a_source_let_in_by_the_filter_can_be_answered_on_the_same_mapping) {
  auto o = filtering_box(dependence::endpoint_independent);
  ASSERT_EQ(from(o, server(5, 9999)).action, nat_action::to_lan);
  EXPECT_EQ(out_udp(o.table, inside(0, 5000), server(5, 9999), ms(200)), o.external);
}

} // namespace
} // namespace p2pd::sim::test
