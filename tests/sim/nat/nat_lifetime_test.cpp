// Flow lifetimes and refresh: UDP as Linux conntrack keeps it (30 s
// unreplied, 120 s once a reply came), TCP established vs transitory.

#include "nat_fixture.hpp"

namespace p2pd::sim::test {
namespace {

nat_profile refreshing(refresh_rule r) {
  return nat_with([r](nat_profile& p) { p.refresh = r; });
}

// Whether a reply from server 0 gets in to `ext` at `now`.
bool reply_gets_in(nat_table& t, const net::endpoint& ext, sim_time now) {
  return t.inbound(packet::udp(server(0), ext), now).action == nat_action::to_lan;
}

TEST(NatLifetime, an_unreplied_udp_mapping_lives_30_s) {
  auto t = box(nat_profile{});
  out_udp(t, inside(0, 5000), server(0), secs(0));
  EXPECT_EQ(t.mapping_count(ms(29999)), 1u);
  EXPECT_EQ(t.mapping_count(secs(30)), 0u);
}

TEST(NatLifetime, an_unreplied_mapping_lets_no_late_reply_in) {
  auto t = box(nat_profile{});
  auto ext = out_udp(t, inside(0, 5000), server(0), secs(0));
  EXPECT_FALSE(reply_gets_in(t, ext, secs(30)));
}

TEST(NatLifetime, a_replied_udp_mapping_lives_120_s_after_the_reply) {
  auto t = box(nat_profile{});
  auto ext = out_udp(t, inside(0, 5000), server(0), secs(0));
  ASSERT_TRUE(reply_gets_in(t, ext, secs(1)));
  EXPECT_EQ(t.mapping_count(secs(120)), 1u);
  EXPECT_EQ(t.mapping_count(ms(120999)), 1u);
  EXPECT_EQ(t.mapping_count(secs(121)), 0u);
}

TEST(NatLifetime, a_reply_to_an_inbound_datagram_assures_its_flow) {
  auto t = box(nat_with([](nat_profile& p) { p.filtering = dependence::endpoint_independent; }));
  auto ext = out_udp(t, inside(0, 5000), server(0), secs(0));
  // Server 5 writes in first (EIF lets it); our answer makes its flow assured.
  ASSERT_EQ(t.inbound(packet::udp(server(5), ext), secs(1)).action, nat_action::to_lan);
  out_udp(t, inside(0, 5000), server(5), secs(2));
  EXPECT_EQ(t.mapping_count(secs(121)), 1u);
  EXPECT_EQ(t.mapping_count(secs(122)), 0u);
}

TEST(NatLifetime, outbound_packets_restart_the_lifetime) {
  auto t = box(nat_profile{});
  auto ext = out_udp(t, inside(0, 5000), server(0), secs(0));
  EXPECT_EQ(out_udp(t, inside(0, 5000), server(0), secs(25)), ext);
  EXPECT_EQ(out_udp(t, inside(0, 5000), server(0), secs(50)), ext);
  EXPECT_EQ(t.mapping_count(secs(79)), 1u);
  EXPECT_EQ(t.mapping_count(secs(80)), 0u);
}

TEST(NatLifetime, inbound_packets_refresh_when_the_profile_says_inbound_too) {
  auto t = box(refreshing(refresh_rule::inbound_too));
  auto ext = out_udp(t, inside(0, 5000), server(0), secs(0));
  ASSERT_TRUE(reply_gets_in(t, ext, secs(1)));
  ASSERT_TRUE(reply_gets_in(t, ext, secs(100)));
  EXPECT_TRUE(reply_gets_in(t, ext, secs(219)));
}

TEST(NatLifetime, inbound_packets_do_not_refresh_when_the_profile_says_outbound_only) {
  auto t = box(refreshing(refresh_rule::outbound_only));
  auto ext = out_udp(t, inside(0, 5000), server(0), secs(0));
  ASSERT_TRUE(reply_gets_in(t, ext, secs(1)));
  ASSERT_TRUE(reply_gets_in(t, ext, secs(100)));
  // 120 s from the last outbound packet, whatever came in since.
  EXPECT_FALSE(reply_gets_in(t, ext, secs(120)));
}

TEST(NatLifetime, an_expired_mapping_comes_back_on_another_port_under_independent) {
  auto t = box(nat_with([](nat_profile& p) { p.ports.type = net::delta_type::independent; }));
  auto first = out_udp(t, inside(0, 5000), server(0), secs(0));
  auto again = out_udp(t, inside(0, 5000), server(0), secs(31));
  EXPECT_EQ(again.port, first.port + 1);
}

TEST(NatLifetime, the_lifetimes_are_the_profiles) {
  auto t = box(nat_with([](nat_profile& p) {
    p.udp.unreplied = std::chrono::seconds{5};
    p.udp.assured = std::chrono::seconds{10};
  }));
  auto ext = out_udp(t, inside(0, 5000), server(0), secs(0));
  EXPECT_EQ(t.mapping_count(secs(4)), 1u);
  ASSERT_TRUE(reply_gets_in(t, ext, secs(4)));
  EXPECT_EQ(t.mapping_count(secs(13)), 1u);
  EXPECT_EQ(t.mapping_count(secs(14)), 0u);
}

} // namespace
} // namespace p2pd::sim::test
