// The presets: the project's 35 configurations (7 NAT types x 5 port
// allocations), the IPv6 firewall, and check().

#include <string>
#include <tuple>

#include "nat_fixture.hpp"

namespace p2pd::sim::test {
namespace {

using net::delta_type;
using net::nat_type;

bool translating(nat_type n) {
  return n == nat_type::full_cone || n == nat_type::restricted || n == nat_type::port_restricted
         || n == nat_type::symmetric || n == nat_type::blocked;
}

class NatPreset : public ::testing::TestWithParam<std::tuple<nat_type, delta_type>> {
protected:
  nat_type nat() const { return std::get<0>(GetParam()); }
  delta_type delta() const { return std::get<1>(GetParam()); }
};

TEST_P(NatPreset, constructs_and_passes_check) {
  auto p = nat_profile::p2pd(nat(), delta());
  ASSERT_TRUE(p) << net::to_string(p.error());
  EXPECT_FALSE(check(*p)) << net::to_string(check(*p));
  EXPECT_EQ(p->ports.type, delta());
  const bool translates = p->mode == nat_mode::nat || p->mode == nat_mode::blocked;
  EXPECT_EQ(translates, translating(nat())) << describe(*p);
}

// What a peer sees of the preset after host 0 sent to server 0 port 3478:
// the behaviours docs/design-notes.md ("Simulation: NAT tables") documents.
TEST_P(NatPreset, behaves_as_its_type) {
  const auto n = nat();
  const bool open = n == nat_type::open_internet;
  auto t = box(preset(n, delta()), 5);
  const auto host = translating(n) ? inside(0, 5000) : at("203.0.113.50", 5000);
  auto first = t.outbound(packet::udp(host, server(0, 3478)), ms(0));
  if (n == nat_type::blocked) {
    EXPECT_EQ(first.action, nat_action::drop);
    return;
  }
  ASSERT_EQ(first.action, nat_action::to_internet);
  const auto ext = first.pkt.src;
  EXPECT_EQ(ext.ip, translating(n) ? nat_ip() : host.ip);
  auto gets_in = [&](const net::endpoint& from) {
    return t.inbound(packet::udp(from, ext), ms(10)).action == nat_action::to_lan;
  };
  EXPECT_TRUE(gets_in(server(0, 3478)));
  EXPECT_EQ(gets_in(server(1, 3479)), open || n == nat_type::full_cone);
  EXPECT_EQ(gets_in(server(0, 3479)),
            open || n == nat_type::full_cone || n == nat_type::restricted);
  auto second = t.outbound(packet::udp(host, server(1, 3478)), ms(20));
  ASSERT_EQ(second.action, nat_action::to_internet);
  EXPECT_EQ(second.pkt.src == ext, n != nat_type::symmetric);
}

std::string preset_name(const ::testing::TestParamInfo<std::tuple<nat_type, delta_type>>& info) {
  return std::string{net::to_string(std::get<0>(info.param))} + "_"
         + net::to_string(std::get<1>(info.param));
}

INSTANTIATE_TEST_SUITE_P(All35, NatPreset,
                         ::testing::Combine(::testing::ValuesIn(simulated_types),
                                            ::testing::ValuesIn(allocators)),
                         preset_name);

TEST(NatPresets, the_study_maps_the_nat_types_to_these_behaviours) {
  struct row {
    nat_type nat;
    nat_mode mode;
    dependence mapping;
    dependence filtering;
  };
  constexpr auto ei = dependence::endpoint_independent;
  constexpr auto ad = dependence::address_dependent;
  constexpr auto apd = dependence::address_and_port_dependent;
  const row rows[] = {
    {nat_type::full_cone, nat_mode::nat, ei, ei},
    {nat_type::restricted, nat_mode::nat, ei, ad},
    {nat_type::port_restricted, nat_mode::nat, ei, apd},
    {nat_type::symmetric, nat_mode::nat, apd, apd},
  };
  for (auto& r : rows) {
    auto p = preset(r.nat, delta_type::equal);
    EXPECT_EQ(p.mode, r.mode) << net::to_string(r.nat);
    EXPECT_EQ(p.mapping, r.mapping) << net::to_string(r.nat);
    EXPECT_EQ(p.filtering, r.filtering) << net::to_string(r.nat);
  }
  EXPECT_EQ(preset(nat_type::open_internet, delta_type::equal).mode, nat_mode::open);
  auto fw = preset(nat_type::udp_firewall, delta_type::equal);
  EXPECT_EQ(fw.mode, nat_mode::firewall);
  EXPECT_EQ(fw.filtering, apd);
  auto blocked = preset(nat_type::blocked, delta_type::random);
  EXPECT_EQ(blocked.mode, nat_mode::blocked);
  EXPECT_EQ(blocked.mapping, ei);
  EXPECT_EQ(blocked.filtering, apd);
  EXPECT_EQ(blocked.ports.type, delta_type::random);
}

TEST(NatPresets, independent_and_dependent_take_their_step_from_the_delta) {
  auto p = nat_profile::p2pd(nat_type::symmetric, net::delta_result{delta_type::independent, 7});
  ASSERT_TRUE(p);
  EXPECT_EQ(p->ports.step, 7);
  auto q = nat_profile::p2pd(nat_type::symmetric, net::delta_result{delta_type::dependent, -3});
  ASSERT_TRUE(q);
  EXPECT_EQ(q->ports.step, -3);
  EXPECT_EQ(preset(nat_type::symmetric, delta_type::independent).ports.step, 1);
}

TEST(NatPresets, the_defaults_are_linux_conntracks_lifetimes) {
  auto p = preset(nat_type::port_restricted, delta_type::equal);
  EXPECT_EQ(p.udp.unreplied, std::chrono::seconds{30});
  EXPECT_EQ(p.udp.assured, std::chrono::seconds{120});
  EXPECT_EQ(p.tcp.established, std::chrono::seconds{432000});
  EXPECT_EQ(p.tcp.transitory, std::chrono::seconds{120});
  EXPECT_EQ(p.refresh, refresh_rule::inbound_too);
  EXPECT_EQ(p.unsolicited_syn, syn_reply::drop);
  EXPECT_EQ(p.hairpin, hairpin_mode::none);
}

TEST(NatPresets, unknown_nat_type_is_refused) {
  auto p = nat_profile::p2pd(nat_type::unknown, delta_type::equal);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code, net::errc::invalid_argument);
}

TEST(NatPresets, a_nat_without_an_allocator_is_refused) {
  for (auto d : {delta_type::unknown, delta_type::not_applicable}) {
    auto p = nat_profile::p2pd(nat_type::full_cone, d);
    ASSERT_FALSE(p) << net::to_string(d);
    EXPECT_NE(p.error().what.find(net::to_string(d)), std::string::npos) << p.error().what;
  }
}

TEST(NatPresets, a_box_without_translation_takes_not_applicable) {
  for (auto n : {nat_type::open_internet, nat_type::udp_firewall, nat_type::blocked}) {
    auto p = nat_profile::p2pd(n, delta_type::not_applicable);
    ASSERT_TRUE(p) << net::to_string(n);
    EXPECT_FALSE(check(*p));
    EXPECT_EQ(p->ports.type, delta_type::equal);
  }
  EXPECT_FALSE(nat_profile::p2pd(nat_type::open_internet, delta_type::unknown));
}

TEST(NatPresets, the_ipv6_firewall_filters_without_translating) {
  auto p = nat_profile::ipv6_firewall();
  EXPECT_EQ(p.mode, nat_mode::firewall);
  EXPECT_EQ(p.filtering, dependence::address_and_port_dependent);
  EXPECT_EQ(p.unsolicited_syn, syn_reply::drop);
  EXPECT_FALSE(check(p));
}

TEST(NatProfileCheck, refuses_an_empty_port_range) {
  nat_profile p;
  p.ports.min = 5000;
  p.ports.max = 4000;
  EXPECT_EQ(check(p).code, net::errc::invalid_argument);
  p.ports.min = 0;
  p.ports.max = 10;
  EXPECT_EQ(check(p).code, net::errc::invalid_argument);
}

TEST(NatProfileCheck, refuses_a_step_that_gives_every_mapping_one_port) {
  nat_profile p;
  p.ports.type = delta_type::independent;
  p.ports.step = 0;
  EXPECT_TRUE(check(p));
  p.ports.min = 1000;
  p.ports.max = 1009;
  p.ports.step = 10;
  EXPECT_TRUE(check(p));
  p.ports.step = 3;
  EXPECT_FALSE(check(p));
}

TEST(NatProfileCheck, refuses_preserving_with_offset_0_and_non_positive_lifetimes) {
  nat_profile p;
  p.ports.type = delta_type::preserving;
  p.ports.offset = 0;
  EXPECT_TRUE(check(p));
  nat_profile q;
  q.udp.unreplied = std::chrono::seconds{0};
  EXPECT_NE(check(q).what.find("lifetime"), std::string::npos);
}

TEST(NatProfileCheck, refuses_a_non_allocator) {
  nat_profile p;
  p.ports.type = delta_type::unknown;
  EXPECT_TRUE(check(p));
}

TEST(NatProfileDescribe, names_the_axes) {
  auto p = preset(nat_type::symmetric, delta_type::independent);
  EXPECT_EQ(describe(p), "nat APDM/APDF independent+1 hairpin=none");
  EXPECT_EQ(describe(preset(nat_type::udp_firewall, delta_type::equal)), "firewall APDF");
  EXPECT_EQ(describe(preset(nat_type::open_internet, delta_type::equal)), "open");
  EXPECT_EQ(describe(preset(nat_type::blocked, delta_type::equal)),
            "blocked EIM/APDF equal hairpin=none");
}

} // namespace
} // namespace p2pd::sim::test
