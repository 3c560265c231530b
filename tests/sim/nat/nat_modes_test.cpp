// The boxes that do not translate: open (nothing), firewall (a filter),
// blocked (no UDP), and the IPv6 firewall preset.

#include "nat_fixture.hpp"

namespace p2pd::sim::test {
namespace {

nat_profile in_mode(nat_mode m) {
  return nat_with([m](nat_profile& p) { p.mode = m; });
}

// A public host of an untranslated site.
net::endpoint public_host(uint16_t port) {
  return at("203.0.113.50", port);
}

TEST(NatModes, open_passes_both_ways_untouched) {
  auto t = box(in_mode(nat_mode::open));
  auto out = packet::udp(public_host(5000), server(0));
  EXPECT_EQ(t.outbound(out, ms(0)).pkt, out);
  EXPECT_EQ(t.outbound(out, ms(0)).action, nat_action::to_internet);
  auto unsolicited = packet::udp(server(4, 9), public_host(7000));
  auto v = t.inbound(unsolicited, ms(0));
  EXPECT_EQ(v.action, nat_action::to_lan);
  EXPECT_EQ(v.pkt, unsolicited);
  EXPECT_EQ(t.inbound(packet::tcp(server(4, 9), public_host(7000), tcp_flag::syn), ms(0)).action,
            nat_action::to_lan);
}

TEST(NatModes, firewall_keeps_addresses_and_lets_replies_in) {
  auto t = box(in_mode(nat_mode::firewall));
  auto out = t.outbound(packet::udp(public_host(5000), server(0)), ms(0));
  ASSERT_EQ(out.action, nat_action::to_internet);
  EXPECT_EQ(out.pkt.src, public_host(5000));
  auto in = t.inbound(packet::udp(server(0), public_host(5000)), ms(10));
  EXPECT_EQ(in.action, nat_action::to_lan);
  EXPECT_EQ(in.pkt.dst, public_host(5000));
}

TEST(NatModes, firewall_filters_by_address_and_port) {
  auto t = box(in_mode(nat_mode::firewall));
  t.outbound(packet::udp(public_host(5000), server(0, 3478)), ms(0));
  EXPECT_EQ(t.inbound(packet::udp(server(0, 3479), public_host(5000)), ms(10)).action,
            nat_action::drop);
  EXPECT_EQ(t.inbound(packet::udp(server(1, 3478), public_host(5000)), ms(10)).action,
            nat_action::drop);
  EXPECT_EQ(t.inbound(packet::udp(server(0, 3478), public_host(7000)), ms(10)).action,
            nat_action::drop);
}

TEST(NatModes, blocked_drops_udp_both_ways) {
  auto t = box(in_mode(nat_mode::blocked));
  EXPECT_EQ(t.outbound(packet::udp(inside(0, 5000), server(0)), ms(0)).action,
            nat_action::drop);
  EXPECT_EQ(t.inbound(packet::udp(server(0), net::endpoint{nat_ip(), 5000}), ms(10)).action,
            nat_action::drop);
  EXPECT_EQ(t.mapping_count(ms(10)), 0u);
}

TEST(NatModes, blocked_translates_tcp_through_its_nat) {
  // The lab's udp-blocked site: a port-restricted NAT that drops UDP.
  auto t = box(in_mode(nat_mode::blocked));
  auto out = t.outbound(packet::tcp(inside(0, 5000), server(0, 443), tcp_flag::syn), ms(0));
  ASSERT_EQ(out.action, nat_action::to_internet);
  EXPECT_EQ(out.pkt.src, (net::endpoint{nat_ip(), 5000}));
  auto back = t.inbound(packet::tcp(server(0, 443), out.pkt.src, tcp_flag::syn | tcp_flag::ack),
                        ms(10));
  ASSERT_EQ(back.action, nat_action::to_lan);
  EXPECT_EQ(back.pkt.dst, inside(0, 5000));
  EXPECT_EQ(t.inbound(packet::tcp(server(1, 443), out.pkt.src, tcp_flag::syn), ms(10)).action,
            nat_action::drop);
}

TEST(NatModes, ipv6_firewall_keeps_v6_addresses_and_filters) {
  auto t = nat_table{nat_profile::ipv6_firewall(), ip("2001:db8:1::1"), 1};
  const auto host = at("2001:db8:1::10", 5000);
  const auto far = at("2001:db8:99::1", 3478);
  auto out = t.outbound(packet::udp(host, far), ms(0));
  ASSERT_EQ(out.action, nat_action::to_internet);
  EXPECT_EQ(out.pkt.src, host);
  EXPECT_EQ(t.inbound(packet::udp(far, host), ms(10)).action, nat_action::to_lan);
  EXPECT_EQ(t.inbound(packet::udp(at("2001:db8:99::2", 3478), host), ms(10)).action,
            nat_action::drop);
  EXPECT_EQ(t.inbound(packet::tcp(far, at("2001:db8:1::10", 22), tcp_flag::syn), ms(10)).action,
            nat_action::drop);
}

TEST(NatModes, a_nat_drops_a_packet_of_another_family) {
  auto t = box(nat_profile{});
  auto v = t.outbound(packet::udp(at("2001:db8:1::10", 5000), at("2001:db8:99::1", 3478)), ms(0));
  EXPECT_EQ(v.action, nat_action::drop);
}

} // namespace
} // namespace p2pd::sim::test
