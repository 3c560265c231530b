// Port allocation: the project's five allocators and the collision rule.
// Each new mapping comes from a new inside socket (EIM: one per socket).

#include <set>
#include <vector>

#include "nat_fixture.hpp"

namespace p2pd::sim::test {
namespace {

nat_profile allocating(net::delta_type d, int step = 1) {
  return nat_with([d, step](nat_profile& p) {
    p.ports.type = d;
    p.ports.step = step;
  });
}

// The external ports of mappings from `locals` (host 0), in order.
std::vector<int> mapped_ports(nat_table& t, const std::vector<uint16_t>& locals) {
  std::vector<int> out;
  for (auto l : locals)
    out.push_back(out_udp(t, inside(0, l), server(0)).port);
  return out;
}

const std::vector<uint16_t> scattered_locals = {41234, 33001, 58712, 47000, 36555, 52321};

TEST(NatAllocation, equal_keeps_the_local_port) {
  auto t = box(allocating(net::delta_type::equal));
  auto got = mapped_ports(t, scattered_locals);
  EXPECT_EQ(got, std::vector<int>(scattered_locals.begin(), scattered_locals.end()));
}

TEST(NatAllocation, preserving_keeps_the_distance_between_local_ports) {
  auto p = allocating(net::delta_type::preserving);
  p.ports.offset = 777;
  auto t = box(p);
  auto got = mapped_ports(t, scattered_locals);
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_NE(got[i], scattered_locals[i]) << i;
    EXPECT_EQ(got[i] - scattered_locals[i], 777) << i;
  }
}

TEST(NatAllocation, independent_steps_by_k_whatever_the_local_port) {
  auto t = box(allocating(net::delta_type::independent, 3));
  auto got = mapped_ports(t, scattered_locals);
  for (size_t i = 1; i < got.size(); ++i)
    EXPECT_EQ(got[i] - got[i - 1], 3) << i;
}

TEST(NatAllocation, independent_with_a_negative_step_counts_down) {
  auto t = box(allocating(net::delta_type::independent, -2));
  auto got = mapped_ports(t, scattered_locals);
  for (size_t i = 1; i < got.size(); ++i)
    EXPECT_EQ(got[i] - got[i - 1], -2) << i;
}

TEST(NatAllocation, independent_wraps_within_the_port_range) {
  auto p = allocating(net::delta_type::independent, 1);
  p.ports.min = 40000;
  p.ports.max = 40003;
  auto t = box(p);
  auto got = mapped_ports(t, {5000, 6000, 7000, 8000});
  std::set<int> distinct(got.begin(), got.end());
  EXPECT_EQ(distinct, (std::set<int>{40000, 40001, 40002, 40003}));
}

TEST(NatAllocation, dependent_steps_by_k_when_the_local_port_goes_up_by_one) {
  auto t = box(allocating(net::delta_type::dependent, 20));
  auto got = mapped_ports(t, {45000, 45001, 45002, 45003, 45004});
  for (size_t i = 1; i < got.size(); ++i)
    EXPECT_EQ(got[i] - got[i - 1], 20) << i;
}

TEST(NatAllocation, dependent_leaves_the_sequence_for_a_local_port_that_jumps) {
  auto t = box(allocating(net::delta_type::dependent, 20));
  auto got = mapped_ports(t, scattered_locals);
  size_t on_sequence = 0;
  for (size_t i = 1; i < got.size(); ++i)
    on_sequence += got[i] - got[i - 1] == 20;
  EXPECT_EQ(on_sequence, 0u);
}

TEST(NatAllocation, random_ports_are_distinct_and_in_range) {
  auto p = allocating(net::delta_type::random);
  p.ports.min = 20000;
  p.ports.max = 29999;
  auto t = box(p);
  std::set<int> seen;
  for (uint16_t l = 1; l <= 200; ++l) {
    auto port = out_udp(t, inside(0, static_cast<uint16_t>(30000 + l * 3)), server(0)).port;
    EXPECT_GE(port, 20000);
    EXPECT_LE(port, 29999);
    seen.insert(port);
  }
  EXPECT_EQ(seen.size(), 200u);
}

TEST(NatAllocation, random_is_seeded_same_seed_same_ports) {
  auto p = allocating(net::delta_type::random);
  auto t1 = box(p, 42);
  auto t2 = box(p, 42);
  auto t3 = box(p, 43);
  auto a = mapped_ports(t1, scattered_locals);
  EXPECT_EQ(mapped_ports(t2, scattered_locals), a);
  EXPECT_NE(mapped_ports(t3, scattered_locals), a);
}

TEST(NatAllocation, a_taken_port_goes_to_the_next_free_one) {
  // Two hosts want 5000 under equal allocation; 5001 is taken too.
  auto t = box(allocating(net::delta_type::equal));
  EXPECT_EQ(out_udp(t, inside(0, 5000), server(0)).port, 5000);
  EXPECT_EQ(out_udp(t, inside(2, 5001), server(0)).port, 5001);
  EXPECT_EQ(out_udp(t, inside(1, 5000), server(0)).port, 5002);
}

TEST(NatAllocation, a_taken_port_goes_to_a_seeded_random_free_one) {
  auto p = allocating(net::delta_type::equal);
  p.ports.collision = collision_rule::random_free;
  auto first = [&](uint64_t seed) {
    auto t = box(p, seed);
    EXPECT_EQ(out_udp(t, inside(0, 5000), server(0)).port, 5000);
    return out_udp(t, inside(1, 5000), server(0)).port;
  };
  auto a = first(7);
  EXPECT_NE(a, 5000);
  EXPECT_GE(a, p.ports.min);
  EXPECT_EQ(first(7), a);
}

TEST(NatAllocation, a_full_range_drops_the_new_flow) {
  auto p = allocating(net::delta_type::random);
  p.ports.min = 40000;
  p.ports.max = 40001;
  auto t = box(p);
  out_udp(t, inside(0, 5000), server(0));
  out_udp(t, inside(1, 5000), server(0));
  auto v = t.outbound(packet::udp(inside(2, 5000), server(0)), ms(0));
  EXPECT_EQ(v.action, nat_action::drop);
  EXPECT_STREQ(v.why, "no free external port");
}

TEST(NatAllocation, an_expired_mapping_frees_its_port) {
  auto p = allocating(net::delta_type::equal);
  auto t = box(p);
  out_udp(t, inside(0, 5000), server(0), secs(0));
  // After 30 s unreplied the first mapping is gone: 5000 is free again.
  EXPECT_EQ(out_udp(t, inside(1, 5000), server(0), secs(31)).port, 5000);
}

} // namespace
} // namespace p2pd::sim::test
