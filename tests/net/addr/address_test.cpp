#include "p2pd/net/addr/address.hpp"

#include <net/if.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <string>
#include <unordered_set>

#include <gtest/gtest.h>

#include "support/expect.hpp"
#include "support/printers.hpp"
#include "support/values.hpp"

using namespace p2pd::net;
using namespace std::string_literals;
using p2pd::test::ip;

TEST(ip_address, parses_and_formats_a_dotted_quad) {
  auto x = ip("192.168.1.20");
  EXPECT_TRUE(x.is_v4());
  EXPECT_EQ(x.size(), 4u);
  EXPECT_EQ(x.v4_value(), 0xc0a80114u);
  EXPECT_EQ(x.to_string(), "192.168.1.20");
}

TEST(ip_address, v4_from_a_host_order_value_equals_the_parsed_text) {
  EXPECT_EQ(ip_address::v4(0x7f000001), ip("127.0.0.1"));
  uint8_t bytes[4] = {8, 8, 4, 4};
  EXPECT_EQ(ip_address::v4_bytes(bytes), ip("8.8.4.4"));
}

TEST(ip_address, formats_ipv6_in_rfc5952_form) {
  auto x = ip("2001:0DB8:0000:0000:0000:0000:0000:0001");
  EXPECT_TRUE(x.is_v6());
  EXPECT_EQ(x.size(), 16u);
  EXPECT_EQ(x.v4_value(), 0u);
  EXPECT_EQ(x.to_string(), "2001:db8::1");
}

TEST(ip_address, parses_a_numeric_scope_id) {
  auto x = ip("fe80::1%3");
  EXPECT_EQ(x.scope_id(), 3u);
  EXPECT_EQ(x.to_string(), "fe80::1%3");
}

TEST(ip_address, parses_a_scope_given_by_interface_name) {
  auto x = ip("fe80::1%lo");
  EXPECT_EQ(x.scope_id(), if_nametoindex("lo"));
  EXPECT_NE(x.scope_id(), 0u);
}

TEST(ip_address, an_unknown_scope_name_is_invalid) {
  auto r = ip_address::parse("fe80::1%no-such-if0");
  ASSERT_FALSE(r);
  EXPECT_ERRC(r, errc::invalid_argument);
  EXPECT_NE(r.error().what.find("no-such-if0"), std::string::npos) << r.error().what;
}

TEST(ip_address, malformed_text_is_invalid_argument) {
  for (std::string text :
       {""s, "1.2.3"s, "1.2.3.4.5"s, "256.1.1.1"s, "01.2.3.4"s, " 1.2.3.4"s, "1.2.3.4 "s,
        "1.2.3.4%1"s, "::g"s, "1:2:3:4:5:6:7:8:9"s, "fe80::1%"s, "fe80::1%99999999999"s,
        "fe80::1%4294967296"s, "localhost"s, "1.2.3.4\0"s, "1.2.3.4\0garbage"s,
        "fe80::1%lo\0x"s}) {
    auto r = ip_address::parse(text);
    EXPECT_FALSE(r) << "accepted '" << text << "'";
    if (!r) {
      EXPECT_ERRC(r, errc::invalid_argument) << text;
    }
  }
}

TEST(ip_address, the_largest_scope_id_is_accepted) {
  EXPECT_EQ(ip("fe80::1%4294967295").scope_id(), 4294967295u);
}

TEST(ip_address, any_and_loopback_per_family) {
  EXPECT_EQ(ip_address::any(family::v4), ip("0.0.0.0"));
  EXPECT_EQ(ip_address::any(family::v6), ip("::"));
  EXPECT_EQ(ip_address::loopback(family::v4), ip("127.0.0.1"));
  EXPECT_EQ(ip_address::loopback(family::v6), ip("::1"));
  EXPECT_TRUE(ip("0.0.0.0").is_any());
  EXPECT_TRUE(ip("::").is_any());
  EXPECT_TRUE(ip("127.3.2.1").is_loopback());
  EXPECT_TRUE(ip("::1").is_loopback());
  EXPECT_FALSE(ip("::2").is_loopback());
  EXPECT_FALSE(ip("128.0.0.1").is_loopback());
}

TEST(ip_address, unmaps_an_ipv4_mapped_address) {
  auto mapped = ip("::ffff:1.2.3.4");
  EXPECT_TRUE(mapped.is_v4_mapped());
  EXPECT_EQ(mapped.unmapped(), ip("1.2.3.4"));
  EXPECT_EQ(mapped.to_string(), "::ffff:1.2.3.4");
}

TEST(ip_address, unmapped_leaves_other_addresses_alone) {
  EXPECT_FALSE(ip("::1.2.3.4").is_v4_mapped());
  EXPECT_FALSE(ip("1.2.3.4").is_v4_mapped());
  EXPECT_EQ(ip("2001:db8::1").unmapped(), ip("2001:db8::1"));
  EXPECT_EQ(ip("1.2.3.4").unmapped(), ip("1.2.3.4"));
}

TEST(ip_address, with_scope_sets_ipv6_scope_and_ignores_ipv4) {
  EXPECT_EQ(ip("fe80::1").with_scope(7), ip("fe80::1%7"));
  EXPECT_EQ(ip("10.0.0.1").with_scope(7).scope_id(), 0u);
}

TEST(ip_address, orders_ipv4_before_ipv6_then_by_bytes_then_scope) {
  EXPECT_LT(ip("255.255.255.255"), ip("::"));
  EXPECT_LT(ip("1.2.3.4"), ip("1.2.3.5"));
  EXPECT_LT(ip("9.0.0.0"), ip("10.0.0.0"));
  EXPECT_LT(ip("fe80::1%1"), ip("fe80::1%2"));
  EXPECT_FALSE(ip("1.2.3.4") < ip("1.2.3.4"));
}

TEST(ip_address, the_scope_id_is_part_of_equality) {
  EXPECT_NE(ip("fe80::1%1"), ip("fe80::1%2"));
  EXPECT_NE(ip("fe80::1%1"), ip("fe80::1"));
  EXPECT_EQ(ip("fe80::1%1"), ip("fe80::1").with_scope(1));
}

TEST(ip_address, ipv4_and_its_mapped_form_are_different_addresses) {
  EXPECT_NE(ip("1.2.3.4"), ip("::ffff:1.2.3.4"));
}

TEST(ip_address, hashes_into_an_unordered_set) {
  std::unordered_set<ip_address> s{ip("1.2.3.4"), ip("1.2.3.4"), ip("::1"), ip("fe80::1%1"),
                                   ip("fe80::1%2"), ip("::ffff:1.2.3.4")};
  EXPECT_EQ(s.size(), 5u);
  EXPECT_EQ(s.count(ip("fe80::1%2")), 1u);
  EXPECT_EQ(s.count(ip("fe80::1%3")), 0u);
}

TEST(endpoint, parses_and_formats_ipv4) {
  auto e = endpoint::parse("1.2.3.4:80");
  ASSERT_OK(e);
  EXPECT_EQ(e->ip, ip("1.2.3.4"));
  EXPECT_EQ(e->port, 80);
  EXPECT_EQ(e->fam(), family::v4);
  EXPECT_EQ(e->to_string(), "1.2.3.4:80");
}

TEST(endpoint, parses_and_formats_bracketed_ipv6) {
  auto e = endpoint::parse("[::1]:80");
  ASSERT_OK(e);
  EXPECT_EQ(e->ip, ip("::1"));
  EXPECT_EQ(e->port, 80);
  EXPECT_EQ(e->to_string(), "[::1]:80");
}

TEST(endpoint, parses_a_scoped_ipv6_endpoint) {
  auto e = endpoint::parse("[fe80::1%lo]:65535");
  ASSERT_OK(e);
  EXPECT_EQ(e->ip.scope_id(), if_nametoindex("lo"));
  EXPECT_EQ(e->port, 65535);
  EXPECT_EQ(e->to_string(), "[fe80::1%" + std::to_string(if_nametoindex("lo")) + "]:65535");
}

TEST(endpoint, malformed_endpoints_are_invalid_argument) {
  for (std::string text :
       {"1.2.3.4:65536"s, "1.2.3.4:99999999"s, "1.2.3.4:"s, "1.2.3.4"s, ":80"s, "1.2.3.4:-1"s,
        "1.2.3.4:8a"s, "::1:80"s, "[::1]"s, "[::1]:"s, "[::1]80"s, "[::1:80"s, "[1.2.3.x]:80"s,
        ""s, "1.2.3.4:80\0"s}) {
    auto e = endpoint::parse(text);
    EXPECT_FALSE(e) << "accepted '" << text << "'";
    if (!e) {
      EXPECT_ERRC(e, errc::invalid_argument) << text;
    }
  }
}

TEST(endpoint, port_zero_and_65535_are_valid) {
  EXPECT_EQ(endpoint::parse("1.2.3.4:0")->port, 0);
  EXPECT_EQ(endpoint::parse("[::]:65535")->port, 65535);
}

TEST(endpoint, ipv4_sockaddr_round_trip) {
  endpoint e{ip("10.1.2.3"), 4242};
  sockaddr_storage ss;
  auto len = e.to_sockaddr(ss);
  EXPECT_EQ(len, sizeof(sockaddr_in));
  auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
  EXPECT_EQ(sin->sin_family, AF_INET);
  EXPECT_EQ(ntohs(sin->sin_port), 4242);
  auto back = endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, e);
}

TEST(endpoint, ipv6_sockaddr_round_trip_keeps_the_scope_id) {
  endpoint e{ip("fe80::abcd%5"), 443};
  sockaddr_storage ss;
  auto len = e.to_sockaddr(ss);
  EXPECT_EQ(len, sizeof(sockaddr_in6));
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
  EXPECT_EQ(sin6->sin6_family, AF_INET6);
  EXPECT_EQ(sin6->sin6_scope_id, 5u);
  auto back = endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, e);
}

TEST(endpoint, from_sockaddr_rejects_other_families_and_short_lengths) {
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  EXPECT_FALSE(endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&un), sizeof(un)));
  sockaddr_storage ss;
  auto len = endpoint{ip("1.2.3.4"), 1}.to_sockaddr(ss);
  EXPECT_FALSE(endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len - 1));
  EXPECT_FALSE(endpoint::from_sockaddr(nullptr, 0));
}

TEST(endpoint, compares_and_hashes_by_ip_then_port) {
  endpoint a{ip("1.2.3.4"), 80};
  endpoint b{ip("1.2.3.4"), 81};
  endpoint c{ip("1.2.3.5"), 1};
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  EXPECT_NE(a, b);
  std::unordered_set<endpoint> s{a, b, c, a};
  EXPECT_EQ(s.size(), 3u);
}
