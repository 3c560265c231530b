#include "p2pd/net/addr/ip_class.hpp"

#include <gtest/gtest.h>

#include "support/printers.hpp"

using namespace p2pd::net;

namespace {

ip_scope scope_of(std::string_view text) {
  auto ip = ip_address::parse(text);
  EXPECT_TRUE(ip.has_value()) << text;
  return ip ? classify(*ip) : ip_scope::reserved;
}

// Checks the addresses just outside and just inside both ends of a block.
void expect_block(const char* before, const char* first, const char* last, const char* after,
                  ip_scope inside, ip_scope outside_before, ip_scope outside_after) {
  EXPECT_EQ(scope_of(before), outside_before) << before;
  EXPECT_EQ(scope_of(first), inside) << first;
  EXPECT_EQ(scope_of(last), inside) << last;
  EXPECT_EQ(scope_of(after), outside_after) << after;
}

constexpr auto global = ip_scope::global;
constexpr auto reserved = ip_scope::reserved;

} // namespace

// --- IPv4 ----------------------------------------------------------------------

TEST(ip_class, only_0_0_0_0_is_unspecified_the_rest_of_0_slash_8_reserved) {
  EXPECT_EQ(scope_of("0.0.0.0"), ip_scope::unspecified);
  expect_block("0.0.0.0", "0.0.0.1", "0.255.255.255", "1.0.0.0", reserved,
               ip_scope::unspecified, global);
}

TEST(ip_class, v4_loopback_is_127_slash_8) {
  expect_block("126.255.255.255", "127.0.0.0", "127.255.255.255", "128.0.0.0", ip_scope::loopback,
               global, global);
}

TEST(ip_class, rfc1918_10_slash_8_is_private) {
  expect_block("9.255.255.255", "10.0.0.0", "10.255.255.255", "11.0.0.0", ip_scope::private_v4,
               global, global);
}

TEST(ip_class, rfc1918_172_16_slash_12_is_private) {
  expect_block("172.15.255.255", "172.16.0.0", "172.31.255.255", "172.32.0.0",
               ip_scope::private_v4, global, global);
}

TEST(ip_class, rfc1918_192_168_slash_16_is_private) {
  expect_block("192.167.255.255", "192.168.0.0", "192.168.255.255", "192.169.0.0",
               ip_scope::private_v4, global, global);
}

TEST(ip_class, cgnat_100_64_slash_10_is_shared_not_public) {
  expect_block("100.63.255.255", "100.64.0.0", "100.127.255.255", "100.128.0.0", ip_scope::shared,
               global, global);
  EXPECT_FALSE(is_public(*ip_address::parse("100.64.0.1")));
}

TEST(ip_class, v4_link_local_is_169_254_slash_16) {
  expect_block("169.253.255.255", "169.254.0.0", "169.254.255.255", "169.255.0.0",
               ip_scope::link_local, global, global);
}

TEST(ip_class, test_net_1_is_documentation) {
  expect_block("192.0.1.255", "192.0.2.0", "192.0.2.255", "192.0.3.0", ip_scope::documentation,
               global, global);
}

TEST(ip_class, test_net_2_is_documentation) {
  expect_block("198.51.99.255", "198.51.100.0", "198.51.100.255", "198.51.101.0",
               ip_scope::documentation, global, global);
}

TEST(ip_class, test_net_3_is_documentation) {
  expect_block("203.0.112.255", "203.0.113.0", "203.0.113.255", "203.0.114.0",
               ip_scope::documentation, global, global);
}

TEST(ip_class, ietf_protocol_block_is_reserved_except_pcp_and_turn_anycast) {
  expect_block("191.255.255.255", "192.0.0.0", "192.0.0.255", "192.0.1.0", reserved, global,
               global);
  EXPECT_EQ(scope_of("192.0.0.8"), reserved);
  EXPECT_EQ(scope_of("192.0.0.9"), global);
  EXPECT_EQ(scope_of("192.0.0.10"), global);
  EXPECT_EQ(scope_of("192.0.0.11"), reserved);
}

TEST(ip_class, v4_benchmarking_is_198_18_slash_15) {
  expect_block("198.17.255.255", "198.18.0.0", "198.19.255.255", "198.20.0.0",
               ip_scope::benchmarking, global, global);
}

TEST(ip_class, v4_multicast_is_224_slash_4) {
  expect_block("223.255.255.255", "224.0.0.0", "239.255.255.255", "240.0.0.0",
               ip_scope::multicast, global, reserved);
}

TEST(ip_class, class_e_is_reserved_up_to_the_broadcast_address) {
  expect_block("239.255.255.255", "240.0.0.0", "255.255.255.254", "255.255.255.255", reserved,
               ip_scope::multicast, ip_scope::broadcast);
}

// --- IPv6 -----------------------------------------------------------------------

TEST(ip_class, v6_unspecified_and_loopback_are_single_addresses) {
  EXPECT_EQ(scope_of("::"), ip_scope::unspecified);
  EXPECT_EQ(scope_of("::1"), ip_scope::loopback);
  EXPECT_EQ(scope_of("::2"), reserved);
}

TEST(ip_class, v6_link_local_is_fe80_slash_10) {
  expect_block("fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fe80::",
               "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fec0::", ip_scope::link_local, reserved,
               reserved);
}

TEST(ip_class, unique_local_fc00_slash_7_is_not_link_local) {
  expect_block("fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fc00::",
               "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fe00::", ip_scope::unique_local,
               reserved, reserved);
  // The original treated every "fd" address as link-local.
  EXPECT_EQ(scope_of("fd12:3456:789a:1::1"), ip_scope::unique_local);
  EXPECT_EQ(scope_of("fd00::2"), ip_scope::unique_local);
}

TEST(ip_class, v6_multicast_is_ff00_slash_8) {
  expect_block("feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ff00::",
               "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00", "ff02::1", ip_scope::multicast, reserved,
               ip_scope::multicast);
  EXPECT_EQ(scope_of("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), ip_scope::multicast);
}

TEST(ip_class, v6_documentation_is_2001_db8_slash_32) {
  expect_block("2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db8::",
               "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db9::", ip_scope::documentation,
               global, global);
}

TEST(ip_class, v6_documentation_includes_3fff_slash_20) {
  expect_block("3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "3fff::",
               "3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff", "3fff:1000::", ip_scope::documentation,
               global, global);
}

TEST(ip_class, v6_benchmarking_is_2001_2_slash_48) {
  expect_block("2001:1:ffff:ffff:ffff:ffff:ffff:ffff", "2001:2::",
               "2001:2:0:ffff:ffff:ffff:ffff:ffff", "2001:2:1::", ip_scope::benchmarking, global,
               global);
}

TEST(ip_class, v6_global_unicast_is_2000_slash_3) {
  expect_block("1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "2000::",
               "3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "4000::", global, reserved, reserved);
}

TEST(ip_class, v6_discard_prefix_is_reserved) {
  EXPECT_EQ(scope_of("100::"), reserved);
  EXPECT_EQ(scope_of("100::ffff:ffff:ffff:ffff"), reserved);
}

TEST(ip_class, ipv4_mapped_addresses_classify_as_their_ipv4) {
  EXPECT_EQ(scope_of("::ffff:10.0.0.1"), ip_scope::private_v4);
  EXPECT_EQ(scope_of("::ffff:127.0.0.1"), ip_scope::loopback);
  EXPECT_EQ(scope_of("::ffff:8.8.8.8"), global);
  EXPECT_EQ(scope_of("::ffff:255.255.255.255"), ip_scope::broadcast);
  EXPECT_EQ(scope_of("::fffe:ffff:ffff"), reserved);
  EXPECT_EQ(scope_of("::1:0:0:0"), reserved);
}

TEST(ip_class, nat64_well_known_prefix_classifies_as_the_embedded_ipv4) {
  EXPECT_EQ(scope_of("64:ff9b::8.8.8.8"), global);
  EXPECT_EQ(scope_of("64:ff9b::10.0.0.1"), ip_scope::private_v4);
  EXPECT_EQ(scope_of("64:ff9b:1::1"), reserved);
  EXPECT_EQ(scope_of("64:ff9a:ffff:ffff:ffff:ffff:ffff:ffff"), reserved);
}

// --- is_public (test_ip_range.py vectors, with the original's bugs fixed) -------

TEST(ip_class, public_addresses_are_the_global_ones) {
  EXPECT_TRUE(is_public(*ip_address::parse("8.8.8.8")));
  EXPECT_TRUE(is_public(*ip_address::parse("2402:1f00:8101:83f::1")));
  EXPECT_FALSE(is_public(*ip_address::parse("10.0.0.1")));
  EXPECT_FALSE(is_public(*ip_address::parse("fe80::ae1f:6bff:fe94:531a")));
  EXPECT_FALSE(is_public(*ip_address::parse("255.255.255.255")));
}

TEST(ip_class, unspecified_and_black_hole_addresses_are_not_public) {
  // The original counted 0.0.0.0, :: and its black-hole addresses as public.
  EXPECT_FALSE(is_public(*ip_address::parse("0.0.0.0")));
  EXPECT_FALSE(is_public(*ip_address::parse("::")));
  EXPECT_FALSE(is_public(*ip_address::parse("192.0.2.1")));
  EXPECT_FALSE(is_public(*ip_address::parse("100::1")));
}

TEST(ip_class, a_lab_can_declare_documentation_ranges_public) {
  std::vector<ip_range> lab{*ip_range::parse("198.51.100.0/24")};
  EXPECT_TRUE(is_public(*ip_address::parse("198.51.100.7"), lab));
  EXPECT_FALSE(is_public(*ip_address::parse("203.0.113.7"), lab));
  EXPECT_TRUE(is_public(*ip_address::parse("8.8.8.8"), lab));
}

TEST(ip_class, every_scope_has_a_name) {
  EXPECT_STREQ(to_string(ip_scope::unique_local), "unique_local");
  EXPECT_STREQ(to_string(ip_scope::global), "global");
  EXPECT_STREQ(to_string(ip_scope::private_v4), "private_v4");
}
