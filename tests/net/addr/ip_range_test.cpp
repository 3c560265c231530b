#include "p2pd/net/addr/ip_range.hpp"

#include <unordered_set>

#include <gtest/gtest.h>

#include "support/expect.hpp"
#include "support/printers.hpp"
#include "support/values.hpp"

using namespace p2pd::net;
using p2pd::test::ip;
using p2pd::test::range;

namespace {

uint128 pow2(unsigned n) {
  return uint128{1} << n;
}

} // namespace

// --- parsing and formatting ------------------------------------------------

TEST(ip_range, parses_an_ipv4_block) {
  auto r = range("10.0.0.0/8");
  EXPECT_EQ(r.fam(), family::v4);
  EXPECT_EQ(r.network(), ip("10.0.0.0"));
  EXPECT_EQ(r.prefix(), 8u);
  EXPECT_EQ(r.host_bits(), 24u);
  EXPECT_FALSE(r.is_single());
  EXPECT_EQ(r.to_string(), "10.0.0.0/8");
}

TEST(ip_range, a_bare_address_is_a_single_host) {
  auto r = range("1.2.3.4");
  EXPECT_TRUE(r.is_single());
  EXPECT_EQ(r.prefix(), 32u);
  EXPECT_EQ(r.host_bits(), 0u);
  EXPECT_EQ(r.to_string(), "1.2.3.4");
}

TEST(ip_range, parses_an_ipv6_block) {
  auto r = range("fe80::/10");
  EXPECT_EQ(r.fam(), family::v6);
  EXPECT_EQ(r.prefix(), 10u);
  EXPECT_EQ(r.host_bits(), 118u);
  EXPECT_EQ(r.to_string(), "fe80::/10");
}

TEST(ip_range, clears_host_bits_of_the_network) {
  EXPECT_EQ(range("10.1.2.3/8"), range("10.0.0.0/8"));
  EXPECT_EQ(range("2001:db8:1:2::5/32").to_string(), "2001:db8::/32");
}

TEST(ip_range, accepts_an_ipv4_netmask) {
  EXPECT_EQ(range("192.168.0.0/255.255.0.0"), range("192.168.0.0/16"));
}

TEST(ip_range, drops_the_scope_id) {
  auto r = range("fe80::9acb:c90e:7bf6:a093%1/64");
  EXPECT_EQ(r.prefix(), 64u);
  EXPECT_EQ(r.network().scope_id(), 0u);
  EXPECT_EQ(ip_range::single(ip("fe80::1%3")).network(), ip("fe80::1"));
}

TEST(ip_range, prefix_zero_is_everything) {
  auto r = range("0.0.0.0/0");
  EXPECT_TRUE(r.contains(ip("255.255.255.255")));
  EXPECT_EQ(r.host_count(), pow2(32) - 1);
  EXPECT_EQ(range("::/0").host_count(), ~uint128{0});
}

TEST(ip_range, malformed_text_is_invalid_argument) {
  for (const char* text : {"", "10.0.0.0/", "10.0.0.0/33", "::/129", "10.0.0.0/8/8", "10.0.0.0/x",
                           "10.0.0.0/-1", "10.0.0.0/0008", "10.0.0.0/255.0.255.0", "/8",
                           "::/ffff::", "10.0.0.0/::"}) {
    auto r = ip_range::parse(text);
    EXPECT_FALSE(r) << "accepted '" << text << "'";
    if (!r) {
      EXPECT_ERRC(r, errc::invalid_argument) << text;
    }
  }
}

TEST(ip_range, make_rejects_a_prefix_longer_than_the_address) {
  EXPECT_FALSE(ip_range::make(ip("1.2.3.4"), 33));
  EXPECT_TRUE(ip_range::make(ip("::1"), 128));
  EXPECT_FALSE(ip_range::make(ip("::1"), 129));
}

// --- host counts (test_ip_range.py) -----------------------------------------

TEST(ip_range, a_single_host_counts_one) {
  EXPECT_EQ(range("10.0.0.1").host_count(), 1u);
  EXPECT_EQ(range("::").host_count(), 1u);
  EXPECT_EQ(range("0.0.0.0").host_count(), 1u);
}

TEST(ip_range, a_block_counts_every_address_but_the_network) {
  EXPECT_EQ(range("8.8.8.0/24").host_count(), 255u);
  EXPECT_EQ(range("192.168.0.0/16").host_count(), 65535u);
  EXPECT_EQ(range("10.0.0.0/31").host_count(), 1u);
}

TEST(ip_range, a_v6_slash_64_has_2_to_the_64_minus_1_hosts) {
  auto r = range("2402:1f00:8101:83f::/64");
  EXPECT_EQ(r.host_count(), pow2(64) - 1);
  EXPECT_EQ(u128_to_string(r.host_count()), "18446744073709551615");
}

TEST(ip_range, a_v6_slash_48_has_2_to_the_80_minus_1_hosts) {
  EXPECT_EQ(range("2402:1f00:8101::/48").host_count(), pow2(80) - 1);
}

// --- host indexing (test_ip_range.py) ----------------------------------------

TEST(ip_range, index_zero_is_the_first_host_after_the_network) {
  EXPECT_EQ(range("8.8.8.0/24")[0], ip("8.8.8.1"));
  auto v6 = range("2402:1f00:8101:83f::/64");
  EXPECT_EQ(v6[0], ip("2402:1f00:8101:83f::1"));
  EXPECT_EQ(v6[1], ip("2402:1f00:8101:83f::2"));
}

TEST(ip_range, index_minus_one_is_the_last_address_of_the_block) {
  EXPECT_EQ(range("8.8.8.4/24")[-1], ip("8.8.8.255"));
  EXPECT_EQ(range("2402:1f00:8101:83f::/64")[-1], ip("2402:1f00:8101:83f:ffff:ffff:ffff:ffff"));
  EXPECT_EQ(range("192.168.1.0/24")[-2], ip("192.168.1.254"));
}

TEST(ip_range, the_last_host_index_of_a_slash_48_is_count_minus_one) {
  auto r = range("2402:1f00:8101::/48");
  EXPECT_EQ(r[static_cast<int128>(pow2(80) - 2)], ip("2402:1f00:8101:ffff:ffff:ffff:ffff:ffff"));
}

TEST(ip_range, indices_wrap_modulo_the_host_count) {
  auto r = range("8.8.8.0/24");
  EXPECT_EQ(r[254], ip("8.8.8.255"));
  EXPECT_EQ(r[255], ip("8.8.8.1"));
  // The original gives 8.8.8.1 here too: its period is 256 with the network
  // address mapped to the first host. Ours is the host count, 255.
  EXPECT_EQ(r[256], ip("8.8.8.2"));
  EXPECT_EQ(r[-255], ip("8.8.8.1"));
  EXPECT_EQ(r[-256], ip("8.8.8.255"));
}

TEST(ip_range, extreme_indices_do_not_overflow) {
  auto r = range("::/0");
  auto min = static_cast<int128>(uint128{1} << 127); // the smallest int128
  auto max = static_cast<int128>((uint128{1} << 127) - 1);
  EXPECT_EQ(r[max], ip("8000::"));
  // -2^127 and 2^127 - 1 are the same index modulo 2^128 - 1.
  EXPECT_EQ(r[min], ip("8000::"));
  EXPECT_EQ(r[-1], ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
}

TEST(ip_range, a_single_host_is_every_index) {
  auto v4 = range("127.0.0.1");
  EXPECT_EQ(v4[0], ip("127.0.0.1"));
  EXPECT_EQ(v4[4], ip("127.0.0.1"));
  EXPECT_EQ(v4[-15], ip("127.0.0.1"));
  auto v6 = range("::1");
  EXPECT_EQ(v6[0], ip("::1"));
  EXPECT_EQ(v6[3], ip("::1"));
}

TEST(ip_range, fetches_a_run_of_hosts) {
  auto r = range("192.168.0.0/255.255.0.0");
  EXPECT_EQ(r[3], ip("192.168.0.4"));
  std::vector<ip_address> got{r[0], r[1], r[2]};
  std::vector<ip_address> want{ip("192.168.0.1"), ip("192.168.0.2"), ip("192.168.0.3")};
  EXPECT_EQ(got, want);
}

// --- offsets (test_ip_range.py test_misc_ipr) ---------------------------------

TEST(ip_range, plus_moves_forward_from_the_network_address) {
  auto r = range("192.168.0.0/16");
  EXPECT_EQ(r + 4, ip("192.168.0.4"));
  EXPECT_EQ(r + 0, ip("192.168.0.0"));
}

TEST(ip_range, minus_counts_back_from_the_end_of_the_block) {
  auto r = range("192.168.0.0/16");
  EXPECT_EQ(r - 4, ip("192.168.255.252"));
}

TEST(ip_range, offsets_wrap_within_the_block) {
  auto r = range("192.168.0.0/16");
  EXPECT_EQ(r + (65536 + 4), ip("192.168.0.4"));
  EXPECT_EQ(range("10.0.0.7") + 12345, ip("10.0.0.7"));
  EXPECT_EQ(range("::/0") - 1, ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
}

// --- containment and overlap ---------------------------------------------------

TEST(ip_range, contains_addresses_of_its_block_including_network_and_last) {
  auto r = range("192.168.1.0/24");
  EXPECT_TRUE(r.contains(ip("192.168.1.0")));
  EXPECT_TRUE(r.contains(ip("192.168.1.20")));
  EXPECT_TRUE(r.contains(ip("192.168.1.255")));
  EXPECT_FALSE(r.contains(ip("192.168.2.0")));
  EXPECT_FALSE(r.contains(ip("192.168.0.255")));
  EXPECT_EQ(r.last(), ip("192.168.1.255"));
}

TEST(ip_range, a_single_host_contains_only_itself) {
  auto r = range("7.7.7.7");
  EXPECT_TRUE(r.contains(ip("7.7.7.7")));
  EXPECT_FALSE(r.contains(ip("7.7.7.8")));
}

TEST(ip_range, contains_ignores_the_scope_id) {
  EXPECT_TRUE(range("fe80::/10").contains(ip("fe80::1%4")));
}

TEST(ip_range, an_ipv4_range_contains_the_mapped_form_of_its_addresses) {
  EXPECT_TRUE(range("10.0.0.0/8").contains(ip("::ffff:10.1.2.3")));
  EXPECT_FALSE(range("10.0.0.0/8").contains(ip("::ffff:11.1.2.3")));
  EXPECT_FALSE(range("::/0").contains(ip("1.2.3.4")));
  EXPECT_TRUE(range("::ffff:0:0/96").contains(ip("::ffff:10.1.2.3")));
}

TEST(ip_range, contains_a_nested_range_but_not_a_wider_one) {
  EXPECT_TRUE(range("10.0.0.0/8").contains(range("10.1.0.0/16")));
  EXPECT_TRUE(range("10.0.0.0/8").contains(range("10.0.0.0/8")));
  EXPECT_TRUE(range("10.0.0.0/8").contains(range("10.255.255.255")));
  EXPECT_FALSE(range("10.1.0.0/16").contains(range("10.0.0.0/8")));
  EXPECT_FALSE(range("10.0.0.0/8").contains(range("::/0")));
}

TEST(ip_range, overlap_is_symmetric_and_needs_a_shared_address) {
  auto e = range("192.168.1.0/24");
  EXPECT_TRUE(e.overlaps(range("192.168.1.1")));
  EXPECT_TRUE(range("192.168.1.20").overlaps(e));
  EXPECT_FALSE(range("192.169.0.0/16").overlaps(e));
  EXPECT_FALSE(range("192.168.2.1").overlaps(e));
  EXPECT_TRUE(range("7.7.7.7").overlaps(range("7.7.7.7")));
  EXPECT_FALSE(range("7.7.7.7").overlaps(range("7.7.7.8")));
  EXPECT_FALSE(range("0.0.0.0/0").overlaps(range("::/0")));
}

// --- comparison and hashing ------------------------------------------------------

TEST(ip_range, equality_is_exact_not_overlap) {
  EXPECT_EQ(range("7.7.7.7"), range("7.7.7.7"));
  EXPECT_NE(range("192.168.1.0/24"), range("192.168.1.1"));
  EXPECT_NE(range("10.0.0.0/8"), range("10.0.0.0/9"));
}

TEST(ip_range, orders_by_network_then_prefix) {
  EXPECT_LT(range("7.7.7.7"), range("7.7.7.8"));
  EXPECT_LT(range("10.0.0.0/8"), range("10.0.0.0/16"));
  EXPECT_LT(range("255.0.0.0/8"), range("::/0"));
}

TEST(ip_range, hashes_into_an_unordered_set) {
  std::unordered_set<ip_range> s{range("10.0.0.0/8"), range("10.1.2.3/8"), range("10.0.0.0/9"),
                                 range("::/0")};
  EXPECT_EQ(s.size(), 3u);
}

// --- helpers ------------------------------------------------------------------------

TEST(ip_range, netmask_and_prefix_convert_both_ways) {
  EXPECT_EQ(prefix_to_netmask(family::v4, 24), ip("255.255.255.0"));
  EXPECT_EQ(prefix_to_netmask(family::v4, 0), ip("0.0.0.0"));
  EXPECT_EQ(prefix_to_netmask(family::v6, 64), ip("ffff:ffff:ffff:ffff::"));
  EXPECT_EQ(*netmask_to_prefix(ip("255.255.255.0")), 24u);
  EXPECT_EQ(*netmask_to_prefix(ip("255.255.255.255")), 32u);
  EXPECT_EQ(*netmask_to_prefix(ip("ffff:ffff:ffff:ffff::")), 64u);
  EXPECT_FALSE(netmask_to_prefix(ip("255.0.255.0")));
}

TEST(ip_range, u128_to_string_prints_the_extremes) {
  EXPECT_EQ(u128_to_string(0), "0");
  EXPECT_EQ(u128_to_string(~uint128{0}), "340282366920938463463374607431768211455");
}
