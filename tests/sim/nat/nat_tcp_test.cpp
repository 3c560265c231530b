// TCP through the NAT: unsolicited SYNs (drop or RST), the hole an outbound
// SYN opens (what TCP hole punching relies on), and conntrack's TCP states.

#include "nat_fixture.hpp"

namespace p2pd::sim::test {
namespace {

constexpr uint8_t syn = tcp_flag::syn;
constexpr uint8_t syn_ack = tcp_flag::syn | tcp_flag::ack;
constexpr uint8_t ack = tcp_flag::ack;

nat_profile answering_syn(syn_reply r) {
  return nat_with([r](nat_profile& p) { p.unsolicited_syn = r; });
}

verdict tcp_out(nat_table& t, const net::endpoint& from, const net::endpoint& to, uint8_t f,
                sim_time now) {
  return t.outbound(packet::tcp(from, to, f), now);
}

verdict tcp_in(nat_table& t, const net::endpoint& from, const net::endpoint& to, uint8_t f,
               sim_time now) {
  return t.inbound(packet::tcp(from, to, f), now);
}

TEST(NatTcp, an_unsolicited_syn_is_dropped_when_the_profile_says_drop) {
  auto t = box(answering_syn(syn_reply::drop));
  auto v = tcp_in(t, server(0, 40000), net::endpoint{nat_ip(), 5000}, syn, ms(0));
  EXPECT_EQ(v.action, nat_action::drop);
}

TEST(NatTcp, an_unsolicited_syn_gets_an_rst_when_the_profile_says_rst) {
  auto t = box(answering_syn(syn_reply::rst));
  const net::endpoint target{nat_ip(), 5000};
  auto v = tcp_in(t, server(0, 40000), target, syn, ms(0));
  ASSERT_EQ(v.action, nat_action::reset);
  EXPECT_EQ(v.pkt, packet::tcp(target, server(0, 40000), tcp_flag::rst | tcp_flag::ack));
}

TEST(NatTcp, a_syn_the_filter_refuses_gets_the_rst_too) {
  // A mapping exists, but toward another endpoint (APDF).
  auto t = box(answering_syn(syn_reply::rst));
  auto out = tcp_out(t, inside(0, 5000), server(0, 443), syn, ms(0));
  ASSERT_EQ(out.action, nat_action::to_internet);
  auto v = tcp_in(t, server(1, 40000), out.pkt.src, syn, ms(10));
  EXPECT_EQ(v.action, nat_action::reset);
}

TEST(NatTcp, only_a_syn_gets_an_rst_other_unsolicited_segments_are_dropped) {
  auto t = box(answering_syn(syn_reply::rst));
  auto v = tcp_in(t, server(0, 40000), net::endpoint{nat_ip(), 5000}, ack, ms(0));
  EXPECT_EQ(v.action, nat_action::drop);
}

TEST(NatTcp, our_outbound_syn_opens_the_hole_for_the_peers_syn) {
  // Simultaneous open: both sides send a SYN; ours leaves first, so theirs
  // finds the flow and is let in to the inside host.
  auto t = box(answering_syn(syn_reply::rst));
  const auto peer = server(3, 6000);
  auto out = tcp_out(t, inside(0, 5000), peer, syn, ms(0));
  ASSERT_EQ(out.action, nat_action::to_internet);
  auto in = tcp_in(t, peer, out.pkt.src, syn, ms(15));
  ASSERT_EQ(in.action, nat_action::to_lan) << ::testing::PrintToString(in);
  EXPECT_EQ(in.pkt.dst, inside(0, 5000));
}

TEST(NatTcp, the_peers_syn_before_ours_is_refused_and_after_ours_accepted) {
  auto t = box(answering_syn(syn_reply::rst));
  const auto peer = server(3, 6000);
  const net::endpoint ours{nat_ip(), 5000}; // equal allocation: the port we will get
  EXPECT_EQ(tcp_in(t, peer, ours, syn, ms(0)).action, nat_action::reset);
  auto out = tcp_out(t, inside(0, 5000), peer, syn, ms(1000));
  ASSERT_EQ(out.pkt.src, ours);
  EXPECT_EQ(tcp_in(t, peer, ours, syn, ms(2000)).action, nat_action::to_lan);
}

TEST(NatTcp, an_answered_syn_is_established_and_outlives_the_transitory_lifetime) {
  auto t = box(nat_profile{});
  auto out = tcp_out(t, inside(0, 5000), server(0, 443), syn, secs(0));
  ASSERT_EQ(tcp_in(t, server(0, 443), out.pkt.src, syn_ack, secs(1)).action, nat_action::to_lan);
  ASSERT_EQ(tcp_out(t, inside(0, 5000), server(0, 443), ack, secs(1)).action,
            nat_action::to_internet);
  EXPECT_EQ(t.mapping_count(secs(3600)), 1u);
  EXPECT_EQ(tcp_in(t, server(0, 443), out.pkt.src, ack, secs(3600)).action, nat_action::to_lan);
}

TEST(NatTcp, an_unanswered_syn_expires_after_the_transitory_lifetime) {
  auto t = box(nat_profile{});
  tcp_out(t, inside(0, 5000), server(0, 443), syn, secs(0));
  EXPECT_EQ(t.mapping_count(secs(119)), 1u);
  EXPECT_EQ(t.mapping_count(secs(120)), 0u);
}

TEST(NatTcp, a_fin_moves_the_connection_to_the_transitory_lifetime) {
  auto t = box(nat_profile{});
  auto out = tcp_out(t, inside(0, 5000), server(0, 443), syn, secs(0));
  tcp_in(t, server(0, 443), out.pkt.src, syn_ack, secs(1));
  tcp_out(t, inside(0, 5000), server(0, 443), tcp_flag::fin | ack, secs(10));
  EXPECT_EQ(t.mapping_count(secs(129)), 1u);
  EXPECT_EQ(t.mapping_count(secs(130)), 0u);
}

TEST(NatTcp, an_inbound_rst_moves_the_connection_to_the_close_lifetime) {
  auto t = box(nat_profile{});
  auto out = tcp_out(t, inside(0, 5000), server(0, 443), syn, secs(0));
  tcp_in(t, server(0, 443), out.pkt.src, syn_ack, secs(1));
  auto rst = tcp_in(t, server(0, 443), out.pkt.src, tcp_flag::rst, secs(5));
  EXPECT_EQ(rst.action, nat_action::to_lan); // the host must hear of it
  EXPECT_EQ(t.mapping_count(secs(14)), 1u); // conntrack's CLOSE: 10 s
  EXPECT_EQ(t.mapping_count(secs(15)), 0u);
}

TEST(NatTcp, a_syn_back_on_a_connection_an_rst_closed_is_dropped) {
  // Our SYN was refused (the peer's host had no socket yet): the peer's own
  // SYN on that tuple is invalid to conntrack, not a simultaneous open.
  auto t = box(nat_profile{});
  auto out = tcp_out(t, inside(0, 5000), server(0, 443), syn, secs(0));
  tcp_in(t, server(0, 443), out.pkt.src, static_cast<uint8_t>(tcp_flag::rst | tcp_flag::ack), ms(1010));
  EXPECT_EQ(tcp_in(t, server(0, 443), out.pkt.src, syn, ms(1020)).action, nat_action::drop);
  // Our next SYN opens the tuple again, and theirs then meets it.
  EXPECT_EQ(tcp_out(t, inside(0, 5000), server(0, 443), syn, ms(1100)).action,
            nat_action::to_internet);
  EXPECT_EQ(tcp_in(t, server(0, 443), out.pkt.src, syn, ms(1110)).action, nat_action::to_lan);
}

TEST(NatTcp, an_rst_with_no_connection_is_not_translated) {
  auto t = box(nat_profile{});
  auto v = tcp_out(t, inside(0, 5000), server(0, 443), tcp_flag::rst, ms(0));
  EXPECT_EQ(v.action, nat_action::drop);
  EXPECT_EQ(t.mapping_count(ms(0)), 0u);
}

TEST(NatTcp, a_new_syn_reopens_a_closing_connection) {
  auto t = box(nat_profile{});
  auto out = tcp_out(t, inside(0, 5000), server(0, 443), syn, secs(0));
  tcp_out(t, inside(0, 5000), server(0, 443), tcp_flag::rst, secs(1));
  auto again = tcp_out(t, inside(0, 5000), server(0, 443), syn, secs(2));
  ASSERT_EQ(again.action, nat_action::to_internet);
  EXPECT_EQ(again.pkt.src, out.pkt.src);
  EXPECT_EQ(tcp_in(t, server(0, 443), out.pkt.src, syn_ack, secs(3)).action, nat_action::to_lan);
}

} // namespace
} // namespace p2pd::sim::test

namespace p2pd::sim::test {
namespace {

TEST(NatTcp, a_peer_reopening_its_reset_connection_gets_the_established_lifetime) {
  // Full cone: their SYN comes in, is answered, then reset by them; their
  // next SYN on the tuple opens it again (conntrack's original direction).
  auto t = box(preset(net::nat_type::full_cone, net::delta_type::equal));
  auto out = tcp_out(t, inside(0, 5000), server(0, 3478), syn, secs(0)); // the mapping
  const auto ext = out.pkt.src;
  ASSERT_EQ(tcp_in(t, server(1, 443), ext, syn, secs(1)).action, nat_action::to_lan);
  tcp_out(t, inside(0, 5000), server(1, 443), syn_ack, secs(1));
  tcp_in(t, server(1, 443), ext, tcp_flag::ack, secs(1));
  tcp_in(t, server(1, 443), ext, tcp_flag::rst, secs(2));
  ASSERT_EQ(tcp_in(t, server(1, 443), ext, syn, secs(3)).action, nat_action::to_lan);
  tcp_out(t, inside(0, 5000), server(1, 443), syn_ack, secs(3));
  tcp_in(t, server(1, 443), ext, tcp_flag::ack, secs(3));
  // Established (5 days), not the 10 s of a reset connection.
  EXPECT_EQ(tcp_in(t, server(1, 443), ext, tcp_flag::ack, secs(63)).action, nat_action::to_lan);
}

TEST(NatTcp, our_syn_back_on_their_reset_connection_is_dropped) {
  auto t = box(preset(net::nat_type::full_cone, net::delta_type::equal));
  auto out = tcp_out(t, inside(0, 5000), server(0, 3478), syn, secs(0));
  const auto ext = out.pkt.src;
  ASSERT_EQ(tcp_in(t, server(1, 443), ext, syn, secs(1)).action, nat_action::to_lan);
  tcp_out(t, inside(0, 5000), server(1, 443), static_cast<uint8_t>(tcp_flag::rst | tcp_flag::ack),
          secs(1));
  EXPECT_EQ(tcp_out(t, inside(0, 5000), server(1, 443), syn, secs(2)).action, nat_action::drop);
}

} // namespace
} // namespace p2pd::sim::test
