#include "p2pd/proto/envelope_codec.hpp"

#include <algorithm>
#include <string>

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include "support/expect.hpp"
#include "support/printers.hpp"
#include "proto/proto_test_util.hpp"

using namespace p2pd::wire;
using namespace p2pd::wire::test;
using google::protobuf::util::MessageDifferencer;
using p2pd::net::errc;
using p2pd::test::error_of;

namespace {

ip_endpoint v4(uint8_t last, uint32_t port) {
  ip_endpoint ep;
  ep.set_ip(std::string{'\xc0', '\x00', '\x02', static_cast<char>(last)});
  ep.set_port(port);
  return ep;
}

ip_endpoint v6_link_local(uint32_t port, uint32_t scope) {
  ip_endpoint ep;
  std::string ip(16, '\0');
  ip[0] = '\xfe';
  ip[1] = '\x80';
  ip[15] = '\x01';
  ep.set_ip(ip);
  ep.set_port(port);
  ep.set_scope_id(scope);
  return ep;
}

connect_request sample_connect_request() {
  connect_request m;
  m.set_request_id(0x0123456789abcdefull);
  m.set_protocol(TRANSPORT_UDP);
  auto* r4 = m.add_routes();
  r4->set_route_index(0);
  r4->set_family(IP_FAMILY_V4);
  *r4->add_nic() = v4(10, 40000);
  *r4->add_external() = v4(200, 51234);
  auto* r6 = m.add_routes();
  r6->set_route_index(1);
  r6->set_family(IP_FAMILY_V6);
  *r6->add_nic() = v6_link_local(40000, 3);
  m.add_strategies(STRATEGY_DIRECT);
  m.add_strategies(STRATEGY_PUNCH);
  m.add_strategies(STRATEGY_RELAY);
  return m;
}

/// encode_payload() then decode_payload<T>() gives back `m`, field for field.
template <class T>
void expect_round_trip(const T& m) {
  auto wire_bytes = encode_payload(m);
  auto back = decode_payload<T>(wire_bytes);
  ASSERT_OK(back);
  EXPECT_TRUE(MessageDifferencer::Equals(*back, m))
    << "sent:\n" << m.DebugString() << "got:\n" << back->DebugString();
}

} // namespace

// -- round trips --------------------------------------------------------------

TEST(payload, connect_request_round_trips) {
  expect_round_trip(sample_connect_request());
}

TEST(payload, hole_punch_request_round_trips) {
  hole_punch_request m;
  m.set_request_id(42);
  m.set_protocol(TRANSPORT_UDP);
  m.set_route_index(2);
  for (uint32_t port : {50001u, 50003u, 50005u})
    *m.add_predictions() = v4(7, port);
  m.set_nat(NAT_TYPE_SYMMETRIC);
  m.set_delta(DELTA_TYPE_DEPENDENT);
  m.set_delta_value(-2);
  m.set_start_time_ms(1'732'000'005'000);
  m.set_interval_ms(20);
  expect_round_trip(m);
}

TEST(payload, relay_offer_round_trips) {
  relay_offer m;
  m.set_request_id(7);
  *m.mutable_turn_server() = v4(1, 3478);
  m.set_turn_protocol(TRANSPORT_TCP);
  *m.mutable_relayed() = v4(2, 61000);
  m.set_realm("turn.example.org");
  m.set_username("1732000000:node");
  m.set_password("s3cret");
  m.set_lifetime_s(600);
  expect_round_trip(m);
}

TEST(payload, address_request_round_trips) {
  address_request m;
  m.set_request_id(9);
  m.add_families(IP_FAMILY_V4);
  m.add_families(IP_FAMILY_V6);
  expect_round_trip(m);
}

TEST(payload, address_reply_round_trips) {
  address_reply m;
  m.set_request_id(9);
  auto* nic = m.add_addresses();
  *nic->mutable_endpoint() = v6_link_local(0, 2);
  nic->set_family(IP_FAMILY_V6);
  nic->set_kind(ADDRESS_KIND_NIC);
  nic->set_route_index(1);
  auto* ext = m.add_addresses();
  *ext->mutable_endpoint() = v4(99, 40123);
  ext->set_family(IP_FAMILY_V4);
  ext->set_kind(ADDRESS_KIND_EXTERNAL);
  m.set_nat(NAT_TYPE_PORT_RESTRICTED);
  m.set_delta(DELTA_TYPE_INDEPENDENT);
  m.set_delta_value(1);
  expect_round_trip(m);
}

TEST(payload, each_payload_names_its_payload_type) {
  EXPECT_EQ(payload_type_of<connect_request>, PAYLOAD_TYPE_CONNECT_REQUEST);
  EXPECT_EQ(payload_type_of<hole_punch_request>, PAYLOAD_TYPE_HOLE_PUNCH_REQUEST);
  EXPECT_EQ(payload_type_of<relay_offer>, PAYLOAD_TYPE_RELAY_OFFER);
  EXPECT_EQ(payload_type_of<address_request>, PAYLOAD_TYPE_ADDRESS_REQUEST);
  EXPECT_EQ(payload_type_of<address_reply>, PAYLOAD_TYPE_ADDRESS_REPLY);
}

TEST(payload, enums_equal_the_net_enums_they_mirror) {
  // payloads.proto promises casts between these and p2pd::net's enums.
  EXPECT_EQ(IP_FAMILY_V4, static_cast<int>(p2pd::net::family::v4));
  EXPECT_EQ(IP_FAMILY_V6, static_cast<int>(p2pd::net::family::v6));
  EXPECT_EQ(NAT_TYPE_UNKNOWN, static_cast<int>(p2pd::net::nat_type::unknown));
  EXPECT_EQ(NAT_TYPE_UDP_FIREWALL, static_cast<int>(p2pd::net::nat_type::udp_firewall));
  EXPECT_EQ(NAT_TYPE_BLOCKED, static_cast<int>(p2pd::net::nat_type::blocked));
  EXPECT_EQ(DELTA_TYPE_UNKNOWN, static_cast<int>(p2pd::net::delta_type::unknown));
  EXPECT_EQ(DELTA_TYPE_INDEPENDENT, static_cast<int>(p2pd::net::delta_type::independent));
  EXPECT_EQ(DELTA_TYPE_RANDOM, static_cast<int>(p2pd::net::delta_type::random));
}

TEST(payload, payload_travels_in_an_envelope) {
  auto plain = encode_payload(sample_connect_request());
  // Stands in for the encryption: the plaintext and a 16-byte "tag".
  auto b = sample_body();
  b.type = payload_type_of<connect_request>;
  b.ciphertext = plain;
  b.ciphertext.insert(b.ciphertext.end(), aead_tag_size, 0x7a);
  auto body_bytes = encode_body(b);
  ASSERT_OK(body_bytes);
  auto env = encode_envelope(*body_bytes, fake_sign(*body_bytes));
  ASSERT_OK(env);

  auto dec = decode_envelope(*env);
  ASSERT_OK(dec);
  ASSERT_TRUE(fake_verify(dec->body_bytes, dec->signature));
  auto got = decode_body(dec->body_bytes);
  ASSERT_OK(got);
  ASSERT_EQ(got->type, PAYLOAD_TYPE_CONNECT_REQUEST);
  bytes decrypted(got->ciphertext.begin(), got->ciphertext.end() - aead_tag_size);
  auto req = decode_payload<connect_request>(decrypted);
  ASSERT_OK(req);
  EXPECT_TRUE(MessageDifferencer::Equals(*req, sample_connect_request()));
}

// -- compatibility ------------------------------------------------------------

TEST(payload, newer_payload_fields_are_ignored) {
  future_test::connect_request newer;
  newer.set_request_id(77);
  newer.set_protocol(TRANSPORT_TCP);
  newer.set_preferred_relay("relay-3");
  auto got = decode_payload<connect_request>(to_bytes(newer.SerializeAsString()));
  ASSERT_OK(got);
  EXPECT_EQ(got->request_id(), 77u);
  EXPECT_EQ(got->protocol(), TRANSPORT_TCP);
}

TEST(payload, unknown_enum_values_are_kept_as_numbers) {
  // A newer sender's strategy: proto3 keeps the number, so the receiver can
  // skip what it does not know rather than misread it.
  auto m = sample_connect_request();
  m.add_strategies(static_cast<strategy>(9));
  auto got = decode_payload<connect_request>(encode_payload(m));
  ASSERT_OK(got);
  ASSERT_EQ(got->strategies_size(), 4);
  EXPECT_EQ(static_cast<int>(got->strategies(3)), 9);
  EXPECT_FALSE(strategy_IsValid(got->strategies(3)));
}

// -- hostile input ------------------------------------------------------------

TEST(payload, size_limit_is_refused_before_parsing) {
  auto wire_bytes = encode_payload(sample_connect_request());
  auto err = error_of(decode_payload<connect_request>(wire_bytes, wire_bytes.size() - 1));
  EXPECT_EQ(err.code, errc::message_too_large) << to_string(err);
  EXPECT_TRUE(decode_payload<connect_request>(wire_bytes, wire_bytes.size()).has_value());
  // Garbage beyond the default limit: too large, not malformed, so unparsed.
  bytes big(max_envelope_bytes + 1, 0xff);
  err = error_of(decode_payload<relay_offer>(big));
  EXPECT_EQ(err.code, errc::message_too_large) << to_string(err);
  EXPECT_EQ(err.what, "p2pd.wire.relay_offer of 65537 bytes exceeds the limit of 65536 bytes");
}

TEST(payload, garbage_is_refused_as_malformed) {
  auto err = error_of(decode_payload<address_reply>(bytes{0x0a, 0x05, 0x01}));
  EXPECT_EQ(err.code, errc::malformed) << to_string(err);
  EXPECT_EQ(err.what, "3 bytes do not parse as p2pd.wire.address_reply (garbage or truncated)");
}

// Found by payload_fuzz: libprotobuf logs every string field that is not
// UTF-8 to stderr as it refuses it, so any sender could make a node write a
// line per message, from whatever thread decodes it.
int protobuf_log_lines = 0;

TEST(payload, text_that_is_not_utf8_is_refused_without_a_log_line) {
  relay_offer offer;
  offer.set_password("secret");
  auto wire_bytes = encode_payload(offer);
  auto at = std::find(wire_bytes.begin(), wire_bytes.end(), 's');
  ASSERT_NE(at, wire_bytes.end());
  *at = 0xff; // no UTF-8 sequence starts with 0xff
  protobuf_log_lines = 0;
  auto old = google::protobuf::SetLogHandler(
    [](google::protobuf::LogLevel, const char*, int, const std::string&) { ++protobuf_log_lines; });
  auto err = error_of(decode_payload<relay_offer>(wire_bytes));
  google::protobuf::SetLogHandler(old);
  EXPECT_EQ(err.code, errc::malformed) << to_string(err);
  EXPECT_EQ(protobuf_log_lines, 0);
}

TEST(payload, every_truncated_prefix_fails_cleanly_or_decodes) {
  // Payload fields are all optional, so a prefix that ends between fields is
  // a valid, shorter message; one that ends inside a field is malformed.
  auto wire_bytes = encode_payload(sample_connect_request());
  size_t decoded = 0;
  for (size_t n = 0; n < wire_bytes.size(); ++n) {
    auto r = decode_payload<connect_request>(wire_bytes.data(), n);
    if (r)
      ++decoded;
    else
      EXPECT_ERRC(r, errc::malformed) << "prefix of " << n << " bytes";
  }
  EXPECT_GT(decoded, 0u);
  EXPECT_LT(decoded, wire_bytes.size());
}
