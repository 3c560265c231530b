// Every simulated NAT, probed the way the project's NAT prober probes (test
// I, II + III, I', delta samples) and judged by the project's classifier
// (net::classify_nat, net::classify_delta), must come out as itself.

#include <string>
#include <tuple>
#include <vector>

#include "nat_fixture.hpp"

#include "p2pd/sim/nat/probe_driver.hpp"

namespace p2pd::sim::test {
namespace {

using net::delta_type;
using net::nat_type;
using preset_param = std::tuple<nat_type, delta_type>;

// The types with an allocation the classifier reports (blocked translates
// TCP, but no UDP sample gets through: not_applicable).
bool translates_type(nat_type n) {
  return n == nat_type::full_cone || n == nat_type::restricted || n == nat_type::port_restricted
         || n == nat_type::symmetric;
}

bool behind_nat(nat_type n) {
  return translates_type(n) || n == nat_type::blocked;
}

stun_addresses stun_pair() {
  return {server(0, 3478), server(1, 3479)};
}

// The probe of preset (n, d), the host behind it or (no translation) on it.
probe_result probe_preset(nat_type n, delta_type d, size_t consecutive, uint64_t seed = 3) {
  auto t = box(preset(n, d), seed);
  probe_plan plan;
  plan.local = behind_nat(n) ? inside(0, 5000) : at("203.0.113.50", 5000);
  plan.consecutive_samples = consecutive;
  plan.seed = seed;
  return probe_through(t, stun_pair(), plan);
}

// What the classifier should say of preset (n, d): itself; the step 1 of
// the presets for independent and dependent; not_applicable without a NAT.
net::delta_result expected_delta(nat_type n, delta_type d) {
  if (!translates_type(n))
    return {delta_type::not_applicable, 0};
  if (d == delta_type::independent || d == delta_type::dependent)
    return {d, 1};
  return {d, 0};
}

std::string param_name(const ::testing::TestParamInfo<preset_param>& info) {
  return std::string{net::to_string(std::get<0>(info.param))} + "_"
         + net::to_string(std::get<1>(info.param));
}

class ProberSampling : public ::testing::TestWithParam<preset_param> {};

// The prober's sampling as it runs (nat_probe_spec's defaults: 8 random
// ports, then a run of 6 consecutive ones).
TEST_P(ProberSampling, classifies_as_itself) {
  auto [n, d] = GetParam();
  probe_plan defaults;
  auto r = probe_preset(n, d, defaults.consecutive_samples);
  EXPECT_EQ(r.nat, n);
  EXPECT_EQ(r.delta, expected_delta(n, d));
  EXPECT_FALSE(r.unreachable);
  EXPECT_EQ(r.samples.size(),
            n == nat_type::blocked ? 0u : defaults.delta_samples + defaults.consecutive_samples);
}

INSTANTIATE_TEST_SUITE_P(NatRoundTrip, ProberSampling,
                         ::testing::Combine(::testing::ValuesIn(simulated_types),
                                            ::testing::ValuesIn(allocators)),
                         param_name);

// Why the prober has its run of consecutive ports.
TEST(NatRoundTrip, without_the_consecutive_run_dependent_allocation_looks_random) {
  // The prober draws non-adjacent local ports (so that an independent NAT
  // does not look dependent); a dependent NAT steps only for local + 1, so
  // none of its samples shows the step.
  for (auto n : {nat_type::full_cone, nat_type::restricted, nat_type::port_restricted,
                 nat_type::symmetric}) {
    auto r = probe_preset(n, delta_type::dependent, 0);
    EXPECT_EQ(r.nat, n);
    EXPECT_EQ(r.delta, (net::delta_result{delta_type::random, 0})) << net::to_string(n);
  }
}

TEST(NatRoundTrip, blocked_is_told_from_an_unreachable_server_over_tcp) {
  auto r = probe_preset(nat_type::blocked, delta_type::equal, 0);
  EXPECT_EQ(r.nat, nat_type::blocked);
  EXPECT_FALSE(r.unreachable);
  ASSERT_FALSE(r.notes.empty());
  EXPECT_NE(r.notes.back().find("UDP is blocked"), std::string::npos);
}

TEST(NatRoundTrip, a_server_without_another_ip_leaves_the_type_unknown) {
  auto t = box(preset(nat_type::port_restricted, delta_type::equal));
  probe_plan plan;
  plan.local = inside(0, 5000);
  auto r = probe_through(t, {server(0, 3478), server(0, 3479)}, plan);
  EXPECT_EQ(r.nat, nat_type::unknown);
  EXPECT_EQ(r.tests.test2.reply, net::test_reply::not_run);
  EXPECT_EQ(r.tests.test1_alt.reply, net::test_reply::not_run);
  EXPECT_FALSE(r.notes.empty());
}

TEST(NatRoundTrip, the_same_seed_replays_the_same_samples) {
  auto sampled = [](uint64_t seed) {
    std::vector<std::pair<int, int>> xs;
    for (auto& s : probe_preset(nat_type::symmetric, delta_type::random, 0, seed).samples)
      xs.emplace_back(s.local_port, s.mapped_port);
    return xs;
  };
  auto a = sampled(11);
  EXPECT_EQ(a.size(), 8u);
  EXPECT_EQ(sampled(11), a);
  EXPECT_NE(sampled(12), a);
}

} // namespace
} // namespace p2pd::sim::test
