#include "p2pd/node/address/peer_address.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "p2pd/net/util/base32.hpp"

#include "support/expect.hpp"
#include "support/values.hpp"

using namespace p2pd;
using namespace p2pd::node;
using p2pd::test::ip;
using net::errc;
using net::family;

namespace {

// A fixture with one node's identity and a full address of it: two
// interfaces, both families, every optional field, two channels.
class PeerAddress : public ::testing::Test {
protected:
  void SetUp() override {
    auto id = net::identity::generate();
    ASSERT_TRUE(id);
    me = std::make_unique<net::identity>(std::move(*id));
    addr.keys = me->pub();
    addr.issued_ms = 1'764'806'400'000;
    peer_route v4;
    v4.interface = 0;
    v4.fam = family::v4;
    v4.nic = ip("192.168.1.20");
    v4.prefix = 24;
    v4.external = ip("203.0.113.7");
    v4.port = 40123;
    v4.nat = net::nat_type::port_restricted;
    v4.delta = {net::delta_type::independent, -3};
    peer_route v6;
    v6.interface = 0;
    v6.fam = family::v6;
    v6.nic = ip("2001:db8::20");
    v6.link_local = ip("fe80::1:2");
    v6.external = ip("2001:db8::20");
    v6.port = 40123;
    v6.nat = net::nat_type::open_internet;
    v6.delta = {net::delta_type::not_applicable, 0};
    peer_route second;
    second.interface = 1;
    second.fam = family::v4;
    second.nic = ip("10.0.0.5");
    second.port = 40124;
    addr.routes = {v4, v6, second};
    addr.channels = {{channel_kind::mqtt, "tcp://127.0.0.1:1883"}, {channel_kind::hub, "lab"}};
  }

  std::string text() {
    auto t = encode_peer_address(addr, *me);
    EXPECT_TRUE(t) << t.error().what;
    return t ? *t : std::string{};
  }

  // `addr` with one change, signed as is (its fields are not checked).
  template <class F>
  std::string signed_with(F change) {
    auto a = addr;
    change(a);
    return sign_peer_address_body(peer_address_body(a), *me);
  }

  std::unique_ptr<net::identity> me;
  peer_address addr;
};

void expect_refused(const std::string& text, errc code, const std::string& says) {
  auto x = parse_peer_address(text);
  ASSERT_FALSE(x) << "accepted: " << text;
  EXPECT_EQ(x.error().code, code) << x.error().what;
  EXPECT_NE(x.error().what.find(says), std::string::npos)
    << "'" << x.error().what << "' does not say '" << says << "'";
}

} // namespace

TEST_F(PeerAddress, RoundTripsEveryField) {
  auto t = text();
  auto back = parse_peer_address(t);
  ASSERT_TRUE(back) << back.error().what;
  EXPECT_EQ(*back, addr);
  EXPECT_EQ(back->id(), me->id());
}

TEST_F(PeerAddress, IsOneLineWithoutSpacesThatAPersonCanCopy) {
  auto t = text();
  EXPECT_EQ(t.rfind("p2pd1_", 0), 0u);
  EXPECT_LE(t.size(), max_peer_address_text);
  for (char c : t)
    EXPECT_TRUE((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_') << t;
}

TEST_F(PeerAddress, ChannelsTravelByWhatTheyAreNotByIndex) {
  auto back = parse_peer_address(text());
  ASSERT_TRUE(back);
  ASSERT_EQ(back->channels.size(), 2u);
  EXPECT_EQ(back->channels[0].name, "tcp://127.0.0.1:1883");
  EXPECT_EQ(back->channels[1].kind, channel_kind::hub);
}

TEST_F(PeerAddress, ScopeIdsAreNotWrittenSinceTheyAreHostLocal) {
  addr.routes[1].link_local = ip("fe80::1:2").with_scope(7);
  auto back = parse_peer_address(text());
  ASSERT_TRUE(back) << back.error().what;
  ASSERT_TRUE(back->routes[1].link_local);
  EXPECT_EQ(back->routes[1].link_local->scope_id(), 0u);
  EXPECT_EQ(back->routes[1].link_local->with_scope(7), *addr.routes[1].link_local);
}

TEST_F(PeerAddress, EveryTruncationIsRefused) {
  auto t = text();
  for (size_t n = 0; n < t.size(); ++n) {
    auto x = parse_peer_address(t.substr(0, n));
    ASSERT_FALSE(x) << "accepted the first " << n << " characters";
    EXPECT_TRUE(x.error().code == errc::malformed || x.error().code == errc::crypto_failed)
      << n << ": " << x.error().what;
  }
}

TEST_F(PeerAddress, EveryChangedCharacterIsRefused) {
  auto t = text();
  for (size_t i = 0; i < t.size(); ++i) {
    auto bad = t;
    bad[i] = bad[i] == 'a' ? 'b' : 'a';
    EXPECT_FALSE(parse_peer_address(bad)) << "accepted a change at " << i;
  }
}

TEST_F(PeerAddress, ATamperedFieldFailsTheSignature) {
  // Re-encode the body with another port but keep the old signature: the
  // base32 is valid and every field in range, only the signature says no.
  auto good = text();
  std::vector<uint8_t> raw((good.size() - 6) * 5 / 8);
  ASSERT_FALSE(net::base32_decode(good.substr(6), raw.data()));
  auto body = peer_address_body(addr);
  ASSERT_EQ(raw.size(), body.size() + 64);
  auto moved = addr;
  moved.routes[0].port = 40999;
  auto moved_body = peer_address_body(moved);
  std::vector<uint8_t> forged(moved_body);
  forged.insert(forged.end(), raw.end() - 64, raw.end());
  auto t = "p2pd1_" + net::base32_encode(forged.data(), forged.size());
  expect_refused(t, errc::crypto_failed, "signature");
}

TEST_F(PeerAddress, AnotherNodesKeysDoNotSign) {
  auto other = net::identity::generate();
  ASSERT_TRUE(other);
  auto t = encode_peer_address(addr, *other);
  ASSERT_FALSE(t);
  EXPECT_ERRC(t, errc::invalid_argument);
  // Nor does another node's signature over our body.
  expect_refused(sign_peer_address_body(peer_address_body(addr), *other), errc::crypto_failed,
                 "signature");
}

TEST_F(PeerAddress, OversizedTextIsRefusedBeforeDecoding) {
  expect_refused("p2pd1_" + std::string(max_peer_address_text, 'a'), errc::message_too_large,
                 "at most 2048");
}

TEST_F(PeerAddress, GarbageIsRefusedWithAReason) {
  expect_refused("", errc::malformed, "does not begin");
  expect_refused("hello world", errc::malformed, "does not begin");
  expect_refused("p2pd1_", errc::malformed, "too few");
  expect_refused("p2pd1_abc!def", errc::malformed, "character 9 is not base32");
  expect_refused("p2pd1_ABC", errc::malformed, "not base32");
}

TEST_F(PeerAddress, AnUnknownVersionIsToldApart) {
  expect_refused("p2pd2_aaaaaaaa", errc::unsupported_version, "version 2");
  expect_refused(signed_with([](peer_address&) {}).replace(4, 1, "7"),
                 errc::unsupported_version, "version 7");
}

TEST_F(PeerAddress, NonCanonicalBase32IsRefused) {
  auto t = text();
  // The last character carries bits past the last byte (the length is not
  // a multiple of 40 bits): setting one of them keeps the bytes the same.
  auto body_bits = (t.size() - 6) * 5;
  ASSERT_NE(body_bits % 8, 0u);
  auto last = net::base32_value(t.back());
  auto alphabet = std::string{"abcdefghijklmnopqrstuvwxyz234567"};
  t.back() = alphabet[static_cast<size_t>(last | 1)];
  if (net::base32_value(t.back()) == last)
    t.back() = alphabet[static_cast<size_t>(last ^ 1)];
  expect_refused(t, errc::malformed, "canonical");
}

TEST_F(PeerAddress, BytesAfterTheLastFieldAreRefusedEvenWhenSigned) {
  auto body = peer_address_body(addr);
  body.push_back(0);
  expect_refused(sign_peer_address_body(body, *me), errc::malformed, "1 bytes after");
}

TEST_F(PeerAddress, SignedFieldsOutOfRangeAreRefusedByName) {
  expect_refused(signed_with([](auto& a) { a.routes[0].port = 0; }), errc::malformed,
                 "route 0 (IPv4): port 0");
  expect_refused(signed_with([](auto& a) { a.routes[1].nat = static_cast<net::nat_type>(8); }),
                 errc::malformed, "route 1 (IPv6): NAT type 8");
  expect_refused(
    signed_with([](auto& a) { a.routes[0].delta.type = static_cast<net::delta_type>(9); }),
    errc::malformed, "delta type 9");
  expect_refused(signed_with([](auto& a) { a.routes[0].delta.value = 70000; }), errc::malformed,
                 "delta value 70000");
  expect_refused(signed_with([](auto& a) { a.routes[0].prefix = 33; }), errc::malformed,
                 "prefix length 33 is not in 0..32");
  expect_refused(signed_with([](auto& a) { a.routes[2].interface = 8; }), errc::malformed,
                 "interface 8");
  expect_refused(signed_with([](auto& a) { a.routes[1].link_local = ip("2001:db8::9"); }),
                 errc::malformed, "not in fe80::/10");
  expect_refused(signed_with([](auto& a) { a.routes[0].external = ip("0.0.0.0"); }),
                 errc::malformed, "external address");
  expect_refused(signed_with([](auto& a) { a.routes[0].nic = ip("224.0.0.1"); }),
                 errc::malformed, "cannot be a host's");
  expect_refused(signed_with([](auto& a) { a.routes[0].nic.reset(); }), errc::malformed,
                 "needs its NIC address");
  expect_refused(signed_with([](auto& a) { a.routes[2].interface = 0; }), errc::malformed,
                 "has a IPv4 route already");
  expect_refused(signed_with([](auto& a) { a.channels[0].name = "has space"; }),
                 errc::malformed, "channel 0");
  expect_refused(signed_with([](auto& a) {
                   a.channels[1].kind = static_cast<channel_kind>(3);
                 }),
                 errc::malformed, "kind 3");
}

TEST_F(PeerAddress, AtMostFourRoutesPerFamily) {
  for (uint8_t i = 1; i < 5; ++i) {
    auto r = addr.routes[0];
    r.interface = i;
    addr.routes.push_back(r);
  }
  addr.routes.erase(addr.routes.begin() + 2); // interface 1 came twice
  auto t = encode_peer_address(addr, *me);
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().what.find("more than 4 IPv4 routes"), std::string::npos) << t.error().what;
  expect_refused(sign_peer_address_body(peer_address_body(addr), *me), errc::malformed,
                 "more than 4 IPv4 routes");
}

TEST_F(PeerAddress, KeysOfSmallOrderAreRefused) {
  expect_refused(signed_with([](auto& a) { a.keys.agree = {}; }), errc::forged, "key");
}

TEST_F(PeerAddress, AnAddressWithNothingToReachIsRefused) {
  addr.routes.clear();
  addr.channels.clear();
  auto t = encode_peer_address(addr, *me);
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().what.find("needs a route or a signalling channel"), std::string::npos);
}

TEST_F(PeerAddress, ChannelsAloneAreEnoughForAReverseConnect) {
  addr.routes.clear();
  auto back = parse_peer_address(text());
  ASSERT_TRUE(back) << back.error().what;
  EXPECT_EQ(back->channels.size(), 2u);
}

TEST_F(PeerAddress, DescribeNamesEachRouteAndChannel) {
  auto d = describe(addr);
  EXPECT_NE(d.find(me->id().to_string()), std::string::npos) << d;
  EXPECT_NE(d.find("if0 IPv4: nic 192.168.1.20/24 ext 203.0.113.7 port 40123 nat port_restricted "
                   "delta independent -3"),
            std::string::npos)
    << d;
  EXPECT_NE(d.find("link-local fe80::1:2"), std::string::npos) << d;
  EXPECT_NE(d.find("signal hub lab"), std::string::npos) << d;
}
