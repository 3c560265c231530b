// Hairpinning (RFC 4787 section 6): host 0 sends to host 1's external
// mapping on the same NAT. Full cone, so that host 1's mapping takes anyone.

#include "nat_fixture.hpp"

namespace p2pd::sim::test {
namespace {

struct hairpin_site {
  nat_table table;
  net::endpoint b_external; // host 1's mapping
};

hairpin_site site_with(hairpin_mode h) {
  auto t = box(nat_with([h](nat_profile& p) {
    p.hairpin = h;
    p.filtering = dependence::endpoint_independent;
  }));
  auto b = out_udp(t, inside(1, 6000), server(0));
  return {std::move(t), b};
}

TEST(NatHairpin, none_drops_a_packet_to_the_nats_own_address) {
  auto s = site_with(hairpin_mode::none);
  auto v = s.table.outbound(packet::udp(inside(0, 5000), s.b_external), ms(10));
  EXPECT_EQ(v.action, nat_action::drop);
}

TEST(NatHairpin, external_source_delivers_with_the_senders_mapping_as_source) {
  auto s = site_with(hairpin_mode::external_source);
  auto v = s.table.outbound(packet::udp(inside(0, 5000), s.b_external), ms(10));
  ASSERT_EQ(v.action, nat_action::to_lan) << ::testing::PrintToString(v);
  EXPECT_EQ(v.pkt.dst, inside(1, 6000));
  EXPECT_EQ(v.pkt.src.ip, nat_ip());
  auto a_ext = s.table.mapping_for(protocol::udp, inside(0, 5000), s.b_external, ms(10));
  ASSERT_TRUE(a_ext.has_value());
  EXPECT_EQ(v.pkt.src, *a_ext);
}

TEST(NatHairpin, external_source_lets_the_answer_hairpin_back) {
  auto s = site_with(hairpin_mode::external_source);
  auto there = s.table.outbound(packet::udp(inside(0, 5000), s.b_external), ms(10));
  ASSERT_EQ(there.action, nat_action::to_lan);
  auto back = s.table.outbound(packet::udp(inside(1, 6000), there.pkt.src), ms(20));
  ASSERT_EQ(back.action, nat_action::to_lan);
  EXPECT_EQ(back.pkt.dst, inside(0, 5000));
  EXPECT_EQ(back.pkt.src, s.b_external);
}

TEST(NatHairpin, internal_source_delivers_with_the_senders_inside_address) {
  auto s = site_with(hairpin_mode::internal_source);
  auto v = s.table.outbound(packet::udp(inside(0, 5000), s.b_external), ms(10));
  ASSERT_EQ(v.action, nat_action::to_lan);
  EXPECT_EQ(v.pkt.dst, inside(1, 6000));
  EXPECT_EQ(v.pkt.src, inside(0, 5000));
}

TEST(NatHairpin, the_target_mappings_filter_still_applies) {
  auto t = box(nat_with([](nat_profile& p) { p.hairpin = hairpin_mode::external_source; }));
  auto b = out_udp(t, inside(1, 6000), server(0)); // APDF: only server 0 may answer
  auto v = t.outbound(packet::udp(inside(0, 5000), b), ms(10));
  EXPECT_EQ(v.action, nat_action::drop);
}

} // namespace
} // namespace p2pd::sim::test
