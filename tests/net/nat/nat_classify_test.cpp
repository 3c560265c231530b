#include "p2pd/net/nat/nat_type.hpp"
#include "p2pd/net/nat/port_delta.hpp"

#include <gtest/gtest.h>

#include <random>
#include <utility>
#include <vector>

#include "support/expect.hpp"
#include "support/printers.hpp"
#include "support/values.hpp"

using namespace p2pd::net;
using p2pd::test::ep;
using p2pd::test::ip;

namespace {

// A host at 10.0.5.2 behind a NAT whose WAN is 198.51.100.15, with every test
// answered as a port-restricted NAT would; tests change one outcome at a time.
nat_tests behind_nat() {
  nat_tests t;
  t.local_ips = {ip("10.0.5.2")};
  t.local_port = 40123;
  t.test1 = stun_test::replied(ep("198.51.100.15:40123"));
  t.test2 = stun_test::no_reply();
  t.test1_alt = stun_test::replied(ep("198.51.100.15:40123"));
  t.test3 = stun_test::no_reply();
  return t;
}

// A host with the public address 203.0.113.130 and no NAT.
nat_tests no_nat() {
  nat_tests t;
  t.local_ips = {ip("203.0.113.130")};
  t.local_port = 40123;
  t.test1 = stun_test::replied(ep("203.0.113.130:40123"));
  t.test2 = stun_test::replied();
  return t;
}

} // namespace

// --- NAT type: the decision tree -------------------------------------------------

TEST(NatType, test1_unanswered_is_blocked) {
  auto t = behind_nat();
  t.test1 = stun_test::no_reply();
  EXPECT_EQ(classify_nat(t), nat_type::blocked);
}

TEST(NatType, test1_not_run_or_without_mapping_is_unknown) {
  auto t = behind_nat();
  t.test1 = stun_test::not_run();
  EXPECT_EQ(classify_nat(t), nat_type::unknown);
  t.test1 = stun_test::replied();
  EXPECT_EQ(classify_nat(t), nat_type::unknown);
}

TEST(NatType, without_local_addresses_is_unknown) {
  auto t = behind_nat();
  t.local_ips.clear();
  EXPECT_EQ(classify_nat(t), nat_type::unknown);
}

TEST(NatType, mapped_to_own_address_and_change_reply_is_open_internet) {
  EXPECT_EQ(classify_nat(no_nat()), nat_type::open_internet);
}

TEST(NatType, mapped_to_own_address_without_change_reply_is_udp_firewall) {
  auto t = no_nat();
  t.test2 = stun_test::no_reply();
  EXPECT_EQ(classify_nat(t), nat_type::udp_firewall);
}

TEST(NatType, no_nat_without_test2_is_unknown) {
  auto t = no_nat();
  t.test2 = stun_test::not_run();
  EXPECT_EQ(classify_nat(t), nat_type::unknown);
}

TEST(NatType, own_address_is_found_among_several_and_v4_mapped) {
  auto t = no_nat();
  t.local_ips = {ip("10.0.0.7"), ip("::ffff:203.0.113.130")};
  EXPECT_EQ(classify_nat(t), nat_type::open_internet);
}

TEST(NatType, local_port_zero_compares_addresses_only) {
  auto t = no_nat();
  t.local_port = 0;
  t.test1 = stun_test::replied(ep("203.0.113.130:5555"));
  EXPECT_EQ(classify_nat(t), nat_type::open_internet);
}

TEST(NatType, own_address_with_another_port_is_a_nat) {
  auto t = no_nat();
  t.test1 = stun_test::replied(ep("203.0.113.130:5555"));
  EXPECT_EQ(classify_nat(t), nat_type::full_cone);
}

TEST(NatType, ipv6_firewall_is_udp_firewall) {
  nat_tests t;
  t.local_ips = {ip("fe80::1%1"), ip("2001:db8:1:6::2")};
  t.local_port = 5000;
  t.test1 = stun_test::replied(ep("[2001:db8:1:6::2]:5000"));
  t.test2 = stun_test::no_reply();
  EXPECT_EQ(classify_nat(t), nat_type::udp_firewall);
}

TEST(NatType, change_reply_behind_nat_is_full_cone) {
  auto t = behind_nat();
  t.test2 = stun_test::replied();
  // Full cone needs neither I' nor III.
  t.test1_alt = stun_test::not_run();
  t.test3 = stun_test::not_run();
  EXPECT_EQ(classify_nat(t), nat_type::full_cone);
}

TEST(NatType, behind_nat_without_test2_is_unknown) {
  auto t = behind_nat();
  t.test2 = stun_test::not_run();
  EXPECT_EQ(classify_nat(t), nat_type::unknown);
}

TEST(NatType, other_mapping_from_alternate_address_is_symmetric) {
  auto t = behind_nat();
  t.test1_alt = stun_test::replied(ep("198.51.100.15:40124"));
  EXPECT_EQ(classify_nat(t), nat_type::symmetric);
  t.test1_alt = stun_test::replied(ep("198.51.100.99:40123"));
  EXPECT_EQ(classify_nat(t), nat_type::symmetric);
  t.test3 = stun_test::not_run(); // III is not needed for symmetric
  EXPECT_EQ(classify_nat(t), nat_type::symmetric);
}

TEST(NatType, missing_alternate_test_is_unknown) {
  auto t = behind_nat();
  t.test1_alt = stun_test::not_run(); // e.g. the server has no alternate address
  EXPECT_EQ(classify_nat(t), nat_type::unknown);
  t.test1_alt = stun_test::no_reply();
  EXPECT_EQ(classify_nat(t), nat_type::unknown);
  t.test1_alt = stun_test::replied();
  EXPECT_EQ(classify_nat(t), nat_type::unknown);
}

TEST(NatType, change_port_reply_is_restricted) {
  auto t = behind_nat();
  t.test3 = stun_test::replied();
  EXPECT_EQ(classify_nat(t), nat_type::restricted);
}

TEST(NatType, no_change_port_reply_is_port_restricted) {
  EXPECT_EQ(classify_nat(behind_nat()), nat_type::port_restricted);
}

TEST(NatType, missing_test3_is_unknown) {
  auto t = behind_nat();
  t.test3 = stun_test::not_run();
  EXPECT_EQ(classify_nat(t), nat_type::unknown);
}

TEST(NatType, names_and_groups) {
  EXPECT_STREQ(to_string(nat_type::udp_firewall), "udp_firewall");
  EXPECT_STREQ(to_string(nat_type::port_restricted), "port_restricted");
  EXPECT_STREQ(to_string(test_reply::no_reply), "no_reply");
  EXPECT_TRUE(is_easy(nat_type::open_internet));
  EXPECT_TRUE(is_easy(nat_type::full_cone));
  EXPECT_FALSE(is_easy(nat_type::restricted));
  EXPECT_FALSE(is_easy(nat_type::udp_firewall));
  for (auto x : {nat_type::open_internet, nat_type::udp_firewall, nat_type::full_cone,
                 nat_type::restricted, nat_type::port_restricted})
    EXPECT_TRUE(is_predictable(x)) << to_string(x);
  for (auto x : {nat_type::unknown, nat_type::symmetric, nat_type::blocked})
    EXPECT_FALSE(is_predictable(x)) << to_string(x);
}

// --- Which tests a server can run -------------------------------------------------

namespace {

bool notes_mention(const nat_test_plan& p, const char* test, const char* why) {
  for (const auto& n : p.notes)
    if (n.find(test) != std::string::npos && n.find(why) != std::string::npos)
      return true;
  return false;
}

} // namespace

TEST(NatPlan, other_address_on_another_ip_and_port_runs_every_test) {
  auto p = plan_nat_tests(ep("203.0.113.10:3478"), ep("203.0.113.11:3479"));
  EXPECT_TRUE(p.test2);
  EXPECT_TRUE(p.test3);
  EXPECT_TRUE(p.notes.empty());
}

TEST(NatPlan, mapping_test_goes_to_the_alternate_ip_on_the_primary_port) {
  // RFC 5780 section 4.3. Not the alternate port: test II's reply came from
  // there, and a router that kept state for that unanswered reply would give
  // this flow another mapping (a false "symmetric").
  auto p = plan_nat_tests(ep("203.0.113.10:3478"), ep("203.0.113.11:3479"));
  ASSERT_TRUE(p.test1_alt);
  EXPECT_EQ(*p.test1_alt, ep("203.0.113.11:3478"));
}

TEST(NatPlan, other_address_on_the_same_ip_cannot_change_ip) {
  auto p = plan_nat_tests(ep("127.0.0.2:3478"), ep("127.0.0.2:3479"));
  EXPECT_FALSE(p.test2);
  EXPECT_TRUE(p.test3);
  EXPECT_FALSE(p.test1_alt); // it would be the primary itself
  EXPECT_TRUE(notes_mention(p, "test II", "IP")) << ::testing::PrintToString(p.notes);
  EXPECT_TRUE(notes_mention(p, "test I'", "IP")) << ::testing::PrintToString(p.notes);
}

TEST(NatPlan, other_address_on_the_same_port_cannot_change_port) {
  auto p = plan_nat_tests(ep("203.0.113.10:3478"), ep("203.0.113.11:3478"));
  EXPECT_FALSE(p.test2);
  EXPECT_FALSE(p.test3);
  ASSERT_TRUE(p.test1_alt);
  EXPECT_EQ(*p.test1_alt, ep("203.0.113.11:3478"));
  EXPECT_TRUE(notes_mention(p, "test II", "port")) << ::testing::PrintToString(p.notes);
  EXPECT_TRUE(notes_mention(p, "test III", "port")) << ::testing::PrintToString(p.notes);
}

TEST(NatPlan, no_other_address_runs_no_change_or_mapping_test) {
  auto p = plan_nat_tests(ep("203.0.113.10:3478"), std::nullopt);
  EXPECT_FALSE(p.test2);
  EXPECT_FALSE(p.test3);
  EXPECT_FALSE(p.test1_alt);
  EXPECT_TRUE(notes_mention(p, "OTHER-ADDRESS", "change")) << ::testing::PrintToString(p.notes);
}

TEST(NatPlan, other_address_of_another_family_is_not_used) {
  auto p = plan_nat_tests(ep("203.0.113.10:3478"), ep("[2001:db8::11]:3479"));
  EXPECT_FALSE(p.test2);
  EXPECT_FALSE(p.test3);
  EXPECT_FALSE(p.test1_alt);
  EXPECT_FALSE(p.notes.empty());
}

// --- Delta ------------------------------------------------------------------------

namespace {

// Samples in order, each to another server (the original used a random STUN
// client per sample).
std::vector<port_sample> samples(const std::vector<std::pair<int, int>>& local_mapped) {
  std::vector<port_sample> out;
  uint32_t order = 0;
  for (auto [local, mapped] : local_mapped) {
    port_sample s;
    s.local_port = static_cast<uint16_t>(local);
    s.mapped_port = static_cast<uint16_t>(mapped);
    s.destination = endpoint(ip_address::v4(0xcb00710a), static_cast<uint16_t>(3478 + order));
    s.order = order++;
    out.push_back(s);
  }
  return out;
}

const delta_result equal{delta_type::equal, 0};
const delta_result preserving{delta_type::preserving, 0};
const delta_result random_delta{delta_type::random, 0};
const delta_result unknown_delta{delta_type::unknown, 0};

// Local ports the way a sampler picks them: random, not consecutive.
const std::vector<int> random_locals = {41234, 33001, 58712, 47000, 36555, 52321, 44444, 39876};

} // namespace

// The vectors of the original's tests/test_nat.py (8 samples, the last 2 wrong).
TEST(Delta, original_preserving) {
  EXPECT_EQ(classify_delta(samples({{4000, 50000}, {10000, 56000}, {10200, 56200}, {10400, 56400},
                                    {11000, 57000}, {12000, 58000}, {4620, 2333}, {4630, 2334}})),
            preserving);
}

TEST(Delta, original_equal) {
  EXPECT_EQ(classify_delta(samples({{4567, 4567}, {48234, 48234}, {6823, 6823}, {60000, 60000},
                                    {50000, 50000}, {60001, 60001}, {5000, 5001}, {5000, 5001}})),
            equal);
}

TEST(Delta, original_independent_10) {
  auto r = classify_delta(samples({{5000, 50000}, {23412, 50010}, {55421, 50020}, {6322, 50030},
                                   {5622, 50040}, {45610, 50050}, {4420, 2333}, {5555, 2334}}));
  EXPECT_EQ(r, (delta_result{delta_type::independent, 10}));
}

TEST(Delta, original_dependent_20) {
  auto r = classify_delta(samples({{4560, 50000}, {4561, 50020}, {4562, 50040}, {4563, 50060},
                                   {4564, 50080}, {4565, 50100}, {4566, 2333}, {4567, 6000}}));
  EXPECT_EQ(r, (delta_result{delta_type::dependent, 20}));
}

TEST(Delta, original_random) {
  EXPECT_EQ(classify_delta(samples({{4560, 4443}, {4561, 50001}, {4562, 63813}, {4563, 64000},
                                    {4564, 2000}, {4565, 6004}, {4566, 2333}, {4567, 8432}})),
            random_delta);
}

// The lab's modes (tests/lab/README.md).
TEST(Delta, lab_symmetric_sequential_is_independent_1) {
  std::vector<std::pair<int, int>> xs;
  for (size_t i = 0; i < random_locals.size(); ++i)
    xs.emplace_back(random_locals[i], 40000 + static_cast<int>(i));
  EXPECT_EQ(classify_delta(nat_type::symmetric, samples(xs)),
            (delta_result{delta_type::independent, 1}));
}

TEST(Delta, lab_symmetric_sequential_with_a_stray_flow_is_still_independent_1) {
  // Another flow of the site took 40003 in between.
  auto xs = samples({{41234, 40000}, {33001, 40001}, {58712, 40002}, {47000, 40004},
                     {36555, 40005}, {52321, 40006}, {44444, 40007}, {39876, 40008}});
  EXPECT_EQ(classify_delta(xs), (delta_result{delta_type::independent, 1}));
}

TEST(Delta, consecutive_locals_cannot_show_independent_so_say_dependent) {
  std::vector<std::pair<int, int>> xs;
  for (int i = 0; i < 8; ++i)
    xs.emplace_back(45000 + i, 40000 + i);
  EXPECT_EQ(classify_delta(samples(xs)), (delta_result{delta_type::dependent, 1}));
}

TEST(Delta, dependent_nat_with_random_then_consecutive_locals) {
  // Random locals get random mappings; consecutive ones step by 3.
  auto xs = samples({{41234, 1200}, {33001, 60321}, {58712, 9876}, {47000, 33333},
                     {50000, 20000}, {50001, 20003}, {50002, 20006}, {50003, 20009},
                     {50004, 20012}, {50005, 20015}});
  EXPECT_EQ(classify_delta(xs), (delta_result{delta_type::dependent, 3}));
}

TEST(Delta, lab_cone_modes_are_equal) {
  std::vector<std::pair<int, int>> xs;
  for (int local : random_locals)
    xs.emplace_back(local, local);
  for (auto nat : {nat_type::full_cone, nat_type::restricted, nat_type::port_restricted})
    EXPECT_EQ(classify_delta(nat, samples(xs)), equal) << to_string(nat);
}

TEST(Delta, lab_open_and_udp_firewall_are_not_applicable) {
  std::vector<std::pair<int, int>> xs;
  for (int local : random_locals)
    xs.emplace_back(local, local);
  const delta_result na{delta_type::not_applicable, 0};
  EXPECT_EQ(classify_delta(nat_type::open_internet, samples(xs)), na);
  EXPECT_EQ(classify_delta(nat_type::udp_firewall, samples(xs)), na);
  EXPECT_EQ(classify_delta(nat_type::udp_firewall, {}), na);
  // The samples alone say equal: the ports are kept.
  EXPECT_EQ(classify_delta(samples(xs)), equal);
}

TEST(Delta, lab_symmetric_random_is_random) {
  std::mt19937 gen(12345);
  std::uniform_int_distribution<int> port(1024, 65535);
  std::vector<std::pair<int, int>> xs;
  for (int i = 0; i < 12; ++i)
    xs.emplace_back(port(gen), port(gen));
  EXPECT_EQ(classify_delta(nat_type::symmetric, samples(xs)), random_delta);
}

TEST(Delta, too_few_samples_is_unknown) {
  EXPECT_EQ(classify_delta({}), unknown_delta);
  auto xs = samples({{41234, 40000}, {33001, 40001}, {58712, 40002}, {47000, 40003}});
  EXPECT_EQ(classify_delta(xs), unknown_delta);
  EXPECT_EQ(classify_delta(xs, {4, 0.6}), (delta_result{delta_type::independent, 1}));
  // Below 3 counts as 3.
  EXPECT_EQ(classify_delta(samples({{1000, 2000}, {3000, 2001}}), {0, 0.6}), unknown_delta);
}

TEST(Delta, decides_in_order_not_in_arrival) {
  std::vector<std::pair<int, int>> xs;
  for (size_t i = 0; i < random_locals.size(); ++i)
    xs.emplace_back(random_locals[i], 40000 + static_cast<int>(i));
  auto in_order = samples(xs);
  std::vector<port_sample> arrived(in_order.rbegin(), in_order.rend());
  std::swap(arrived[1], arrived[5]);
  EXPECT_EQ(classify_delta(arrived), (delta_result{delta_type::independent, 1}));
}

TEST(Delta, repeated_flows_count_once) {
  // Asking again on the same flow reuses its mapping: no new sample.
  auto xs = samples({{41234, 40000}, {33001, 40001}, {58712, 40002}, {47000, 40003}});
  auto again = xs[3];
  again.order = 10;
  xs.push_back(again);
  EXPECT_EQ(classify_delta(xs), unknown_delta);
  // The same local port to another server is a new flow (+1 on a symmetric NAT).
  auto other = again;
  other.destination.port = 9999;
  other.mapped_port = 40004;
  other.order = 11;
  xs.push_back(other);
  EXPECT_EQ(classify_delta(xs), (delta_result{delta_type::independent, 1}));
}

TEST(Delta, threshold_is_configurable) {
  auto xs = samples({{4000, 50000}, {10000, 56000}, {10200, 56200}, {10400, 56400},
                     {11000, 57000}, {12000, 58000}, {4620, 2333}, {4630, 2334}});
  EXPECT_EQ(classify_delta(xs, {5, 0.9}), random_delta);
}

TEST(Delta, one_repeated_distance_is_not_preserving) {
  // mapped distance == local distance, but always 7: an allocator stepping
  // by 7 gives the same; that is reported as independent.
  std::vector<std::pair<int, int>> xs;
  for (int i = 0; i < 6; ++i)
    xs.emplace_back(20000 + 7 * i, 30000 + 7 * i);
  EXPECT_EQ(classify_delta(samples(xs)), (delta_result{delta_type::independent, 7}));
}

TEST(Delta, negative_step) {
  std::vector<std::pair<int, int>> xs;
  for (size_t i = 0; i < random_locals.size(); ++i)
    xs.emplace_back(random_locals[i], 60000 - 2 * static_cast<int>(i));
  EXPECT_EQ(classify_delta(samples(xs)), (delta_result{delta_type::independent, -2}));
}

TEST(Delta, names) {
  EXPECT_STREQ(to_string(delta_type::not_applicable), "not_applicable");
  EXPECT_STREQ(to_string(delta_type::independent), "independent");
}

TEST(Delta, mapped_port_range) {
  EXPECT_FALSE(mapped_port_range({}).has_value());
  auto r = mapped_port_range(samples({{1, 40002}, {2, 40000}, {3, 49999}, {4, 41000}}));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->first, 40000);
  EXPECT_EQ(r->last, 49999);
}

TEST(Delta, blocked_has_no_port_allocation_to_describe) {
  // With UDP blocked nothing can be sampled; like the original (NA_DELTA)
  // and the lab, that is not_applicable rather than unknown.
  EXPECT_EQ(classify_delta(nat_type::blocked, {}),
            (delta_result{delta_type::not_applicable, 0}));
}

TEST(NatType, every_type_is_parsed_back_from_its_name) {
  for (auto x : {nat_type::unknown, nat_type::open_internet, nat_type::udp_firewall,
                 nat_type::full_cone, nat_type::restricted, nat_type::port_restricted,
                 nat_type::symmetric, nat_type::blocked}) {
    auto back = parse_nat_type(to_string(x));
    ASSERT_TRUE(back) << to_string(x);
    EXPECT_EQ(*back, x);
  }
}

TEST(NatType, a_name_that_is_no_type_is_refused_listing_the_names) {
  auto r = parse_nat_type("cone");
  ASSERT_FALSE(r);
  EXPECT_ERRC(r, errc::invalid_argument);
  EXPECT_NE(r.error().what.find("'cone'"), std::string::npos) << r.error().what;
  EXPECT_NE(r.error().what.find("port_restricted"), std::string::npos) << r.error().what;
}

TEST(PortDelta, every_type_is_parsed_back_from_its_name) {
  for (auto x : {delta_type::unknown, delta_type::not_applicable, delta_type::equal,
                 delta_type::preserving, delta_type::independent, delta_type::dependent,
                 delta_type::random}) {
    auto back = parse_delta_type(to_string(x));
    ASSERT_TRUE(back) << to_string(x);
    EXPECT_EQ(*back, x);
  }
  EXPECT_FALSE(parse_delta_type("Equal"));
}
