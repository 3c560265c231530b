#include "p2pd/net/nat/punch_prediction.hpp"

#include <gtest/gtest.h>

using namespace p2pd::net;

namespace {

nat_profile profile(nat_type nat, delta_type d = delta_type::random, int value = 0,
                    std::optional<held_mapping> held = std::nullopt) {
  return nat_profile{nat, delta_result{d, value}, held};
}

// The lab's NATs as the interface actor reports them: Linux's MASQUERADE
// keeps ports (equal), the symmetric sites allocate at random or by +1.
const nat_profile open_site = profile(nat_type::open_internet, delta_type::not_applicable);
const nat_profile full_cone = profile(nat_type::full_cone, delta_type::equal);
const nat_profile restricted = profile(nat_type::restricted, delta_type::equal);
const nat_profile port_restricted = profile(nat_type::port_restricted, delta_type::equal);
const nat_profile symmetric = profile(nat_type::symmetric, delta_type::random);
const nat_profile symmetric_plus1 =
  profile(nat_type::symmetric, delta_type::independent, 1, held_mapping{5000, 40000});
const nat_profile udp_blocked = profile(nat_type::blocked, delta_type::not_applicable);

punch_kind kind(const nat_profile& a, const nat_profile& b, protocol p = protocol::udp) {
  return punch_feasibility(a, b, p).kind;
}

} // namespace

TEST(punch_feasibility, cones_punch_each_other_at_once) {
  EXPECT_EQ(kind(port_restricted, port_restricted), punch_kind::simultaneous);
  EXPECT_EQ(kind(full_cone, port_restricted), punch_kind::simultaneous);
  EXPECT_EQ(kind(restricted, port_restricted, protocol::tcp), punch_kind::simultaneous);
}

TEST(punch_feasibility, a_random_symmetric_nat_meets_a_lenient_one_at_once) {
  for (auto& easy : {open_site, full_cone, restricted})
    for (auto p : {protocol::udp, protocol::tcp}) {
      auto v = punch_feasibility(symmetric, easy, p);
      EXPECT_EQ(v.kind, punch_kind::simultaneous) << to_string(easy.nat);
      EXPECT_NE(v.reason.find("lets in any port"), std::string::npos) << v.reason;
    }
}

TEST(punch_feasibility, a_random_symmetric_nat_facing_port_filtering_is_a_udp_port_search) {
  auto v = punch_feasibility(port_restricted, symmetric, protocol::udp);
  EXPECT_EQ(v.kind, punch_kind::spray);
  EXPECT_NEAR(v.odds, 0.63, 0.01); // 256 x 256 of 64k ports
}

TEST(punch_feasibility, over_tcp_a_port_search_is_refused_with_its_reason) {
  auto v = punch_feasibility(port_restricted, symmetric, protocol::tcp);
  EXPECT_EQ(v.kind, punch_kind::impossible);
  EXPECT_NE(v.reason.find("relay"), std::string::npos) << v.reason;
}

TEST(punch_feasibility, random_symmetric_on_both_sides_is_refused_at_once) {
  auto v = punch_feasibility(symmetric, symmetric, protocol::udp);
  EXPECT_EQ(v.kind, punch_kind::impossible);
  EXPECT_NE(v.reason.find("neither side"), std::string::npos) << v.reason;
}

TEST(punch_feasibility, symmetric_plus_one_is_punched_by_prediction) {
  EXPECT_EQ(kind(symmetric_plus1, port_restricted), punch_kind::simultaneous);
  EXPECT_EQ(kind(symmetric_plus1, symmetric_plus1, protocol::tcp), punch_kind::simultaneous);
}

TEST(punch_feasibility, a_sequential_allocator_is_judged_by_the_mapping_it_will_hold) {
  // The profiles in peer addresses hold no mapping: the lab's
  // symmetric-sequential site facing a port-restricted one was refused
  // while prediction punches it.
  auto no_reference = profile(nat_type::symmetric, delta_type::independent, 1);
  EXPECT_FALSE(predictable_ports(no_reference));
  EXPECT_TRUE(predictable_once_held(no_reference));
  EXPECT_EQ(kind(no_reference, port_restricted), punch_kind::simultaneous);
  EXPECT_EQ(kind(no_reference, no_reference, protocol::tcp), punch_kind::simultaneous);
  EXPECT_EQ(kind(no_reference, symmetric), punch_kind::impossible);
}

TEST(punch_feasibility, a_cone_without_a_held_mapping_is_judged_by_the_one_it_will_hold) {
  auto cone = profile(nat_type::port_restricted, delta_type::random);
  EXPECT_FALSE(predictable_ports(cone));
  EXPECT_TRUE(predictable_once_held(cone));
  EXPECT_EQ(kind(cone, cone), punch_kind::simultaneous);
}

TEST(punch_feasibility, an_unknown_nat_is_not_counted_on_without_a_held_mapping) {
  auto unknown = profile(nat_type::unknown, delta_type::random);
  EXPECT_FALSE(predictable_once_held(unknown));
  EXPECT_EQ(kind(unknown, symmetric), punch_kind::impossible);
}

TEST(punch_feasibility, blocked_udp_is_refused_over_udp_naming_the_side) {
  auto v = punch_feasibility(full_cone, udp_blocked, protocol::udp);
  EXPECT_EQ(v.kind, punch_kind::impossible);
  EXPECT_EQ(v.reason, "the peer's NAT blocks UDP");
  EXPECT_EQ(punch_feasibility(udp_blocked, full_cone, protocol::udp).reason,
            "our NAT blocks UDP");
}

TEST(punch_feasibility, over_tcp_a_udp_blocked_nat_is_a_port_restricted_cone) {
  // The lab's udp-blocked site drops UDP and maps TCP like any Linux NAT.
  EXPECT_EQ(kind(udp_blocked, port_restricted, protocol::tcp), punch_kind::simultaneous);
  EXPECT_EQ(kind(udp_blocked, udp_blocked, protocol::tcp), punch_kind::simultaneous);
  EXPECT_EQ(kind(udp_blocked, symmetric, protocol::tcp), punch_kind::impossible);
  EXPECT_EQ(kind(udp_blocked, port_restricted, protocol::udp), punch_kind::impossible);
  auto held = for_protocol(udp_blocked, protocol::tcp);
  held.held = held_mapping{5000, 5000};
  auto side = predict_own(held, punch_feasibility(held, port_restricted, protocol::tcp), {}, 1);
  ASSERT_EQ(side.external.size(), 1u);
  EXPECT_EQ(side.external.front(), 5000);
  EXPECT_EQ(for_protocol(udp_blocked, protocol::udp).nat, nat_type::blocked);
}

TEST(punch_feasibility, gives_both_sides_the_same_verdict) {
  const nat_profile all[] = {open_site, full_cone, restricted, port_restricted,
                             symmetric, symmetric_plus1, udp_blocked,
                             profile(nat_type::udp_firewall, delta_type::not_applicable),
                             profile(nat_type::unknown, delta_type::unknown)};
  for (auto& a : all)
    for (auto& b : all)
      for (auto p : {protocol::udp, protocol::tcp})
        EXPECT_EQ(kind(a, b, p), kind(b, a, p))
          << to_string(a.nat) << " / " << to_string(b.nat) << " " << to_string(p);
}

TEST(predict_own, without_a_nat_the_external_port_is_the_local_one) {
  auto v = punch_feasibility(open_site, full_cone, protocol::udp);
  auto s = predict_own(open_site, v, {}, 7);
  ASSERT_EQ(s.local.size(), 1u);
  EXPECT_GE(s.local[0], 1024);
  EXPECT_EQ(s.external, s.local);
}

TEST(predict_own, a_cone_reuses_the_mapping_it_holds) {
  auto us = profile(nat_type::port_restricted, delta_type::random, 0, held_mapping{5000, 61000});
  auto v = punch_feasibility(us, full_cone, protocol::tcp);
  auto s = predict_own(us, v, {}, 7);
  EXPECT_EQ(s.local, std::vector<uint16_t>{5000});
  EXPECT_EQ(s.external, std::vector<uint16_t>{61000});
}

TEST(predict_own, a_preserving_allocator_keeps_the_distance_from_the_held_mapping) {
  auto us = profile(nat_type::symmetric, delta_type::preserving, 0, held_mapping{5000, 40000});
  auto v = punch_feasibility(us, full_cone, protocol::udp);
  auto s = predict_own(us, v, {}, 42);
  ASSERT_EQ(s.local.size(), 1u);
  ASSERT_EQ(s.external.size(), 1u);
  long distance = static_cast<long>(s.local[0]) - 5000;
  long expected = (40000 + distance - 1024) % (65536 - 1024);
  if (expected < 0)
    expected += 65536 - 1024;
  EXPECT_EQ(s.external[0], 1024 + expected);
}

TEST(predict_own, an_independent_allocator_aims_at_a_window_after_the_last_mapping) {
  auto v = punch_feasibility(symmetric_plus1, port_restricted, protocol::udp);
  auto s = predict_own(symmetric_plus1, v, {}, 1);
  EXPECT_EQ(s.local, std::vector<uint16_t>{0}); // any local port gets the next one
  EXPECT_EQ(s.external,
            (std::vector<uint16_t>{40001, 40002, 40003, 40004, 40005, 40006, 40007, 40008}));
}

TEST(predict_own, a_dependent_allocator_binds_the_next_local_port) {
  auto us = profile(nat_type::symmetric, delta_type::dependent, -2, held_mapping{5000, 40000});
  punch_limits lim;
  lim.window = 3;
  auto v = punch_feasibility(us, full_cone, protocol::udp);
  auto s = predict_own(us, v, lim, 1);
  EXPECT_EQ(s.local, std::vector<uint16_t>{5001});
  EXPECT_EQ(s.external, (std::vector<uint16_t>{39998, 39996, 39994}));
}

TEST(predict_own, predicted_ports_wrap_above_the_floor) {
  auto us = profile(nat_type::symmetric, delta_type::independent, 1, held_mapping{5000, 65535});
  punch_limits lim;
  lim.window = 2;
  auto v = punch_feasibility(us, full_cone, protocol::udp);
  EXPECT_EQ(predict_own(us, v, lim, 1).external, (std::vector<uint16_t>{1024, 1025}));
}

TEST(predict_own, a_spray_opens_many_mappings_on_one_side_and_probes_from_the_other) {
  auto v = punch_feasibility(symmetric, port_restricted, protocol::udp);
  ASSERT_EQ(v.kind, punch_kind::spray);
  auto searched = predict_own(symmetric, v, {}, 3);
  EXPECT_EQ(searched.local.size(), 256u);
  EXPECT_TRUE(searched.external.empty());
  auto held = port_restricted;
  held.held = held_mapping{7000, 7000};
  auto prober = predict_own(held, punch_feasibility(held, symmetric, protocol::udp), {}, 3);
  EXPECT_EQ(prober.probes, 256u);
  EXPECT_EQ(prober.external.size(), 1u);
}

TEST(predict_own, an_impossible_punch_binds_nothing) {
  auto v = punch_feasibility(symmetric, symmetric, protocol::udp);
  auto s = predict_own(symmetric, v, {}, 3);
  EXPECT_TRUE(s.local.empty());
  EXPECT_TRUE(s.external.empty());
}

TEST(predict_own, the_same_seed_gives_the_same_ports_and_stays_above_the_floor) {
  auto v = punch_feasibility(open_site, full_cone, protocol::udp);
  for (uint64_t seed = 0; seed < 200; ++seed) {
    auto a = predict_own(open_site, v, {}, seed);
    EXPECT_EQ(a.local, predict_own(open_site, v, {}, seed).local);
    EXPECT_GE(a.local.front(), 1024);
  }
}
