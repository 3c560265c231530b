#include "p2pd/net/stun/stun.hpp"

#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "support/expect.hpp"
#include "support/printers.hpp"
#include "support/values.hpp"
#include "net/stun/stun_vectors.hpp"

using namespace p2pd::net;
using p2pd::test::ep;

namespace {

const char* rfc5769_password = "VOkJxbRl1RmTxUk/WvJxBt";
const std::string katakana = "\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9";

stun_txid txid(const std::vector<uint8_t>& msg, bool rfc3489 = false) {
  return *stun_txid::from_bytes(msg.data() + (rfc3489 ? 4 : 8), rfc3489 ? 16 : 12);
}

stun_key short_key(std::string_view pw) {
  return *stun_key::short_term(pw);
}

std::vector<uint8_t> build(stun_builder& b) {
  auto r = b.finish();
  EXPECT_OK(r);
  return r ? *r : std::vector<uint8_t>{};
}

stun_message decode_ok(const std::vector<uint8_t>& bytes, const stun_decode_options& opts = {}) {
  auto r = decode_stun(bytes, opts);
  EXPECT_OK(r);
  return r ? *r : stun_message{};
}

// Expects decoding to fail with `code` and a message containing `what`.
void expect_bad(const std::vector<uint8_t>& bytes, const std::string& what,
                errc code = errc::malformed, const stun_decode_options& opts = {}) {
  auto r = decode_stun(bytes, opts);
  ASSERT_FALSE(r.has_value()) << "decoded, expected: " << what;
  EXPECT_EQ(r.error().code, code) << to_string(r.error());
  EXPECT_NE(r.error().what.find(what), std::string::npos)
    << "got: " << r.error().what << "\nwant: " << what;
}

void put16(std::vector<uint8_t>& b, size_t at, uint16_t x) {
  b[at] = static_cast<uint8_t>(x >> 8);
  b[at + 1] = static_cast<uint8_t>(x);
}

// A binding request with the given raw attributes, length field right.
std::vector<uint8_t> request_with(std::initializer_list<std::pair<uint16_t, std::string>> attrs) {
  stun_builder b(stun_class::request, stun_method::binding, stun_txid::random());
  for (auto& [type, value] : attrs)
    b.add_raw(type, value);
  return build(b);
}

} // namespace

// --- RFC 5769 test vectors -------------------------------------------------------

TEST(StunRfc5769, sample_request_with_short_term_auth) {
  auto& bytes = stun_vectors::rfc5769_request;
  auto m = decode_ok(bytes);
  EXPECT_EQ(m.cls(), stun_class::request);
  EXPECT_EQ(m.method(), stun_method::binding);
  EXPECT_FALSE(m.rfc3489());
  EXPECT_EQ(m.txid().to_string(), "b7e7a701bc34d686fa87dfae");
  EXPECT_EQ(m.software(), "STUN test client");
  EXPECT_EQ(m.username(), "evtj:h6vY");
  EXPECT_TRUE(m.unknown_comprehension_required().empty()); // PRIORITY is known
  EXPECT_TRUE(m.has_fingerprint());
  EXPECT_TRUE(m.integrity_ok(short_key(rfc5769_password)));
  EXPECT_FALSE(m.integrity_ok(short_key("VOkJxbRl1RmTxUk/WvJxBT")));
  ASSERT_EQ(m.attributes().size(), 6u);

  // The RFC pads with spaces; with that, the builder writes the same bytes.
  stun_builder b(stun_class::request, stun_method::binding, txid(bytes));
  b.padding(0x20)
    .add_software("STUN test client")
    .add_raw(stun_attr::priority, std::string("\x6e\x00\x01\xff", 4))
    .add_raw(stun_attr::ice_controlled, "\x93\x2f\xf9\xb1\x51\x26\x3b\x36")
    .add_text(stun_attr::username, "evtj:h6vY")
    .add_integrity(short_key(rfc5769_password))
    .add_fingerprint();
  EXPECT_EQ(build(b), bytes);
}

TEST(StunRfc5769, sample_ipv4_response) {
  auto& bytes = stun_vectors::rfc5769_ipv4_response;
  auto m = decode_ok(bytes);
  EXPECT_EQ(m.cls(), stun_class::success);
  EXPECT_EQ(m.method(), stun_method::binding);
  EXPECT_EQ(m.software(), "test vector");
  EXPECT_EQ(m.xor_mapped_address(), ep("192.0.2.1:32853"));
  EXPECT_FALSE(m.mapped_address());
  EXPECT_TRUE(m.integrity_ok(short_key(rfc5769_password)));
  EXPECT_TRUE(m.has_fingerprint());

  stun_builder b(stun_class::success, stun_method::binding, txid(bytes));
  b.padding(0x20)
    .add_software("test vector")
    .add_xor_address(stun_attr::xor_mapped_address, ep("192.0.2.1:32853"))
    .add_integrity(short_key(rfc5769_password))
    .add_fingerprint();
  EXPECT_EQ(build(b), bytes);
}

TEST(StunRfc5769, sample_ipv6_response) {
  auto& bytes = stun_vectors::rfc5769_ipv6_response;
  auto m = decode_ok(bytes);
  EXPECT_EQ(m.cls(), stun_class::success);
  EXPECT_EQ(m.xor_mapped_address(), ep("[2001:db8:1234:5678:11:2233:4455:6677]:32853"));
  EXPECT_TRUE(m.integrity_ok(short_key(rfc5769_password)));

  stun_builder b(stun_class::success, stun_method::binding, txid(bytes));
  b.padding(0x20)
    .add_software("test vector")
    .add_xor_address(stun_attr::xor_mapped_address,
                     ep("[2001:db8:1234:5678:11:2233:4455:6677]:32853"))
    .add_integrity(short_key(rfc5769_password))
    .add_fingerprint();
  EXPECT_EQ(build(b), bytes);
}

TEST(StunRfc5769, sample_request_with_long_term_auth) {
  auto& bytes = stun_vectors::rfc5769_long_term_request;
  auto m = decode_ok(bytes);
  EXPECT_EQ(m.cls(), stun_class::request);
  EXPECT_EQ(m.username(), katakana);
  EXPECT_EQ(m.nonce(), "f//499k954d6OL34oL9FSTvy64sA");
  EXPECT_EQ(m.realm(), "example.org");
  EXPECT_FALSE(m.has_fingerprint());
  auto key = stun_key::long_term(katakana, "example.org", "TheMatrIX");
  ASSERT_TRUE(key.has_value());
  EXPECT_TRUE(m.integrity_ok(*key));
  EXPECT_FALSE(m.integrity_ok(*stun_key::long_term(katakana, "example.com", "TheMatrIX")));
  EXPECT_FALSE(m.integrity_ok(short_key("TheMatrIX")));

  stun_builder b(stun_class::request, stun_method::binding, txid(bytes));
  b.add_text(stun_attr::username, katakana)
    .add_text(stun_attr::nonce, "f//499k954d6OL34oL9FSTvy64sA")
    .add_text(stun_attr::realm, "example.org")
    .add_integrity(*key);
  EXPECT_EQ(build(b), bytes);
}

TEST(StunRfc5769, non_ascii_passwords_need_their_saslprep_form) {
  // "The<U+00AD>M<U+00AA>tr<U+2168>": only ASCII passwords are prepared here
  // (see stun_auth.hpp); the caller passes the SASLprep form "TheMatrIX".
  auto key = stun_key::long_term(katakana, "example.org", "The\xc2\xad" "M\xc2\xaatr\xe2\x85\xa8");
  ASSERT_FALSE(key.has_value());
  EXPECT_ERRC(key, errc::invalid_argument);
  EXPECT_NE(key.error().what.find("byte 0xc2 at 3"), std::string::npos) << key.error().what;
  EXPECT_FALSE(stun_key::short_term(std::string("a\tb")).has_value());
  EXPECT_TRUE(stun_key::short_term("").has_value());
}

// --- header ------------------------------------------------------------------------

TEST(StunHeader, class_and_method_encoding) {
  EXPECT_EQ(stun_message_type(stun_class::request, stun_method::binding), 0x0001);
  EXPECT_EQ(stun_message_type(stun_class::indication, stun_method::binding), 0x0011);
  EXPECT_EQ(stun_message_type(stun_class::success, stun_method::binding), 0x0101);
  EXPECT_EQ(stun_message_type(stun_class::error, stun_method::binding), 0x0111);
  EXPECT_EQ(stun_message_type(stun_class::request, stun_method::allocate), 0x0003);
  EXPECT_EQ(stun_message_type(stun_class::error, 0xFFF), 0x3FFF);
  for (auto c : {stun_class::request, stun_class::indication, stun_class::success,
                 stun_class::error}) {
    for (uint16_t method : {0x000, 0x001, 0x00F, 0x010, 0x070, 0x080, 0xABC, 0xFFF}) {
      stun_builder b(c, method, stun_txid::random());
      auto m = decode_ok(build(b));
      EXPECT_EQ(m.cls(), c) << to_string(c) << " " << method;
      EXPECT_EQ(m.method(), method);
    }
  }
}

TEST(StunHeader, transaction_ids) {
  auto a = stun_txid::random();
  auto b = stun_txid::random();
  EXPECT_EQ(a.size(), 12u);
  EXPECT_NE(a, b);
  EXPECT_EQ(stun_txid::random(true).size(), 16u);
  uint8_t bytes[13] = {};
  EXPECT_FALSE(stun_txid::from_bytes(bytes, 13).has_value());
  EXPECT_TRUE(stun_txid::from_bytes(bytes, 12).has_value());
}

TEST(StunHeader, expected_transaction_id) {
  auto& bytes = stun_vectors::rfc5769_ipv4_response;
  stun_decode_options opts;
  opts.expect_txid = txid(bytes);
  EXPECT_TRUE(decode_stun(bytes, opts).has_value());
  opts.expect_txid = stun_txid::random();
  expect_bad(bytes, "transaction id b7e7a701bc34d686fa87dfae is not the expected",
             errc::malformed, opts);
}

TEST(StunHeader, message_size_for_streams) {
  auto& bytes = stun_vectors::rfc5769_request;
  EXPECT_FALSE(stun_message_size(bytes.data(), 19));
  EXPECT_EQ(stun_message_size(bytes.data(), 20), bytes.size());
}

// --- round trips -----------------------------------------------------------------

TEST(StunRoundTrip, every_address_attribute_both_families) {
  for (auto text : {"203.0.113.7:3478", "[2001:db8::42]:65535", "0.0.0.0:0", "[::ffff:1.2.3.4]:1"}) {
    auto addr = ep(text);
    stun_builder b(stun_class::success, stun_method::binding, stun_txid::random());
    b.add_xor_address(stun_attr::xor_mapped_address, addr)
      .add_address(stun_attr::mapped_address, addr)
      .add_address(stun_attr::response_origin, addr)
      .add_address(stun_attr::other_address, addr)
      .add_address(stun_attr::changed_address, addr)
      .add_address(stun_attr::source_address, addr)
      .add_address(stun_attr::alternate_server, addr)
      .add_xor_address(stun_attr::xor_relayed_address, addr);
    auto m = decode_ok(build(b));
    EXPECT_EQ(m.xor_mapped_address(), addr) << text;
    EXPECT_EQ(m.mapped_address(), addr);
    EXPECT_EQ(m.response_origin(), addr);
    EXPECT_EQ(m.other_address(), addr);
    EXPECT_EQ(m.changed_address(), addr);
    EXPECT_EQ(m.source_address(), addr);
    EXPECT_EQ(m.address(stun_attr::alternate_server), addr);
    EXPECT_EQ(m.address(stun_attr::xor_relayed_address), addr);
    EXPECT_FALSE(m.address(stun_attr::software)); // not an address type
  }
}

TEST(StunRoundTrip, xor_address_is_really_xored) {
  auto id = *stun_txid::from_bytes(stun_vectors::rfc5769_ipv4_response.data() + 8, 12);
  stun_builder b(stun_class::success, stun_method::binding, id);
  b.add_xor_address(stun_attr::xor_mapped_address, ep("192.0.2.1:32853"));
  auto bytes = build(b);
  const uint8_t want[] = {0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43};
  ASSERT_EQ(bytes.size(), 32u);
  EXPECT_EQ(std::memcmp(bytes.data() + 24, want, 8), 0);
}

TEST(StunRoundTrip, legacy_xor_mapped_address) {
  stun_builder b(stun_class::success, stun_method::binding, stun_txid::random());
  b.add_xor_address(stun_attr::xor_mapped_address_legacy, ep("198.51.100.1:4000"));
  EXPECT_EQ(decode_ok(build(b)).xor_mapped_address(), ep("198.51.100.1:4000"));
}

TEST(StunRoundTrip, error_code) {
  for (uint16_t code : {300, 400, 401, 420, 438, 487, 500, 699}) {
    stun_builder b(stun_class::error, stun_method::binding, stun_txid::random());
    b.add_error_code(code, "Unauthorized \xc3\xa9");
    auto m = decode_ok(build(b));
    ASSERT_TRUE(m.error_code()) << code;
    EXPECT_EQ(m.error_code()->code, code);
    EXPECT_EQ(m.error_code()->reason, "Unauthorized \xc3\xa9");
  }
  stun_builder b(stun_class::error, stun_method::binding, stun_txid::random());
  b.add_error_code(500, std::string(stun_max_text, 'r'));
  EXPECT_EQ(decode_ok(build(b)).error_code()->reason.size(), stun_max_text);
}

TEST(StunRoundTrip, change_request) {
  const std::pair<bool, bool> cases[] = {{false, false}, {false, true}, {true, false}, {true, true}};
  for (auto [ip, port] : cases) {
    stun_builder b(stun_class::request, stun_method::binding, stun_txid::random());
    b.add_change_request({ip, port});
    auto bytes = build(b);
    // RFC 3489 / upstream values: 00 00 00 02 port, 00 00 00 06 both.
    EXPECT_EQ(bytes[27], (ip ? 4 : 0) | (port ? 2 : 0));
    auto cr = decode_ok(bytes).change_request();
    ASSERT_TRUE(cr);
    EXPECT_EQ(cr->change_ip, ip);
    EXPECT_EQ(cr->change_port, port);
  }
}

TEST(StunRoundTrip, text_attributes_and_unknown_attributes) {
  stun_builder b(stun_class::error, stun_method::binding, stun_txid::random());
  b.add_software("p2pd 0.1")
    .add_text(stun_attr::username, "user")
    .add_text(stun_attr::realm, "example.org")
    .add_text(stun_attr::nonce, "nonce")
    .add_error_code(420, "Unknown Attribute")
    .add_unknown_attributes({0x0031, 0x7f00, 0x0032});
  auto m = decode_ok(build(b));
  EXPECT_EQ(m.software(), "p2pd 0.1");
  EXPECT_EQ(m.username(), "user");
  EXPECT_EQ(m.realm(), "example.org");
  EXPECT_EQ(m.nonce(), "nonce");
  EXPECT_EQ(m.unknown_attributes(), (std::vector<uint16_t>{0x0031, 0x7f00, 0x0032}));
  EXPECT_EQ(m.software(), std::string("p2pd 0.1"));
  EXPECT_EQ(decode_ok(build(b)).attributes().size(), 6u);
}

TEST(StunRoundTrip, integrity_sha1_sha256_and_fingerprint) {
  auto key = short_key("secret");
  stun_builder b(stun_class::request, stun_method::binding, stun_txid::random());
  b.add_text(stun_attr::username, "alice").add_integrity(key).add_integrity_sha256(key)
    .add_fingerprint();
  auto bytes = build(b);
  auto m = decode_ok(bytes);
  EXPECT_TRUE(m.has_integrity());
  EXPECT_TRUE(m.has_fingerprint());
  EXPECT_TRUE(m.integrity_ok(key));
  EXPECT_FALSE(m.integrity_ok(short_key("Secret")));

  // SHA-256 alone.
  stun_builder b2(stun_class::request, stun_method::binding, stun_txid::random());
  b2.add_integrity_sha256(key);
  auto m2 = decode_ok(build(b2));
  EXPECT_TRUE(m2.integrity_ok(key));
  EXPECT_FALSE(m2.integrity_ok(short_key("x")));

  // One flipped bit anywhere before MESSAGE-INTEGRITY breaks it (the
  // FINGERPRINT is made again so that decoding still succeeds).
  std::vector<uint8_t> t = bytes;
  t[24] ^= 1; // in USERNAME
  auto without_fp = std::vector<uint8_t>(t.begin(), t.end() - 8);
  put16(without_fp, 2, static_cast<uint16_t>(without_fp.size() - 20));
  auto m3 = decode_ok(without_fp);
  EXPECT_FALSE(m3.integrity_ok(key));
}

TEST(StunRoundTrip, builder_from_a_decoded_message) {
  auto m = decode_ok(stun_vectors::rfc5769_request);
  auto b = stun_builder::from(m);
  b.add_integrity(short_key(rfc5769_password)).add_fingerprint();
  auto m2 = decode_ok(build(b));
  EXPECT_EQ(m2.txid(), m.txid());
  EXPECT_EQ(m2.attributes().size(), m.attributes().size());
  for (size_t i = 0; i < 4; ++i)
    EXPECT_EQ(m2.attributes()[i], m.attributes()[i]);
  EXPECT_TRUE(m2.integrity_ok(short_key(rfc5769_password)));
}

// --- RFC 3489 ----------------------------------------------------------------------

TEST(StunRfc3489, sixteen_byte_ids_without_cookie) {
  auto id = stun_txid::random(true);
  stun_builder b(stun_class::success, stun_method::binding, id);
  b.add_address(stun_attr::mapped_address, ep("203.0.113.5:40000"))
    .add_address(stun_attr::source_address, ep("198.51.100.1:3478"))
    .add_address(stun_attr::changed_address, ep("198.51.100.2:3479"))
    .add_xor_address(stun_attr::xor_mapped_address_legacy, ep("203.0.113.5:40000"));
  auto bytes = build(b);
  EXPECT_EQ(std::memcmp(bytes.data() + 4, id.data(), 16), 0);

  // Only with RFC 3489 allowed; a 5389 decoder sees a wrong cookie.
  expect_bad(bytes, "magic cookie");
  stun_decode_options opts;
  opts.allow_rfc3489 = true;
  auto m = decode_ok(bytes, opts);
  EXPECT_TRUE(m.rfc3489());
  EXPECT_EQ(m.txid(), id);
  EXPECT_EQ(m.txid().size(), 16u);
  EXPECT_EQ(m.mapped_address(), ep("203.0.113.5:40000"));
  EXPECT_EQ(m.source_address(), ep("198.51.100.1:3478"));
  EXPECT_EQ(m.changed_address(), ep("198.51.100.2:3479"));
  EXPECT_EQ(m.xor_mapped_address(), ep("203.0.113.5:40000"));
  // An RFC 5389 message is still read as one when 3489 is allowed.
  EXPECT_FALSE(decode_ok(stun_vectors::rfc5769_request, opts).rfc3489());
}

TEST(StunRfc3489, a_classic_binding_response_by_hand) {
  // Binding Response to the upstream's "1234"-id request: MAPPED-ADDRESS
  // 1.2.3.4:5678, SOURCE-ADDRESS 5.6.7.8:3478, CHANGED-ADDRESS 5.6.7.9:3479.
  std::vector<uint8_t> bytes = {
    0x01, 0x01, 0x00, 0x24, '1', '2', '3', '4', 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
    0x00, 0x01, 0x00, 0x08, 0x00, 0x01, 0x16, 0x2e, 1, 2, 3, 4,
    0x00, 0x04, 0x00, 0x08, 0x00, 0x01, 0x0d, 0x96, 5, 6, 7, 8,
    0x00, 0x05, 0x00, 0x08, 0x00, 0x01, 0x0d, 0x97, 5, 6, 7, 9,
  };
  stun_decode_options opts;
  opts.allow_rfc3489 = true;
  auto m = decode_ok(bytes, opts);
  EXPECT_TRUE(m.rfc3489());
  EXPECT_EQ(m.cls(), stun_class::success);
  EXPECT_EQ(m.txid().to_string(), "3132333400010203040506070809" "0a0b");
  EXPECT_EQ(m.mapped_address(), ep("1.2.3.4:5678"));
  EXPECT_EQ(m.source_address(), ep("5.6.7.8:3478"));
  EXPECT_EQ(m.changed_address(), ep("5.6.7.9:3479"));
  EXPECT_FALSE(m.xor_mapped_address());
  EXPECT_FALSE(m.other_address());
}

// --- RFC 8489 attribute rules ------------------------------------------------------

TEST(StunRules, a_duplicate_attribute_only_the_first_counts) {
  stun_builder b(stun_class::success, stun_method::binding, stun_txid::random());
  b.add_software("first")
    .add_address(stun_attr::mapped_address, ep("1.1.1.1:1"))
    .add_software("second")
    .add_address(stun_attr::mapped_address, ep("2.2.2.2:2"))
    .add_raw(stun_attr::error_code, "bad"); // first ERROR-CODE is checked...
  expect_bad(build(b), "ERROR-CODE (0x0009) at offset");

  stun_builder c(stun_class::success, stun_method::binding, stun_txid::random());
  c.add_address(stun_attr::mapped_address, ep("1.1.1.1:1"))
    .add_raw(stun_attr::mapped_address, "bad"); // ...a duplicate is not
  auto m = decode_ok(build(c));
  EXPECT_EQ(m.mapped_address(), ep("1.1.1.1:1"));
  EXPECT_EQ(m.attributes().size(), 2u);

  stun_builder d(stun_class::success, stun_method::binding, stun_txid::random());
  d.add_software("first").add_software("second");
  EXPECT_EQ(decode_ok(build(d)).software(), "first");
}

TEST(StunRules, attributes_after_message_integrity_are_ignored) {
  auto key = short_key("pw");
  stun_builder b(stun_class::success, stun_method::binding, stun_txid::random());
  b.add_software("before").add_integrity(key);
  // add_raw skips the builder's order rules, as an attacker would.
  b.add_raw(stun_attr::mapped_address, std::string("\0\x01\0\x01\x01\x01\x01\x01", 8))
    .add_raw(stun_attr::message_integrity, std::string(20, 'x'))
    .add_raw(0x0031, "unknown but ignored")
    .add_fingerprint();
  auto m = decode_ok(build(b));
  EXPECT_FALSE(m.mapped_address());
  EXPECT_TRUE(m.unknown_comprehension_required().empty());
  EXPECT_EQ(m.attributes().size(), 3u); // SOFTWARE, MESSAGE-INTEGRITY, FINGERPRINT
  EXPECT_TRUE(m.integrity_ok(key));

  // And the builder refuses to write what would be ignored.
  stun_builder c(stun_class::success, stun_method::binding, stun_txid::random());
  c.add_integrity(key).add_software("late");
  auto r = c.finish();
  ASSERT_FALSE(r.has_value());
  EXPECT_ERRC(r, errc::invalid_argument);
  EXPECT_NE(r.error().what.find("after MESSAGE-INTEGRITY"), std::string::npos);
}

TEST(StunRules, unknown_comprehension_required_attributes_are_reported) {
  auto m = decode_ok(request_with({{0x0031, "a"},
                                    {0xC001, "optional"},
                                    {0x7ffe, ""},
                                    {0x0031, "again"},
                                    {stun_attr::software, "x"}}));
  EXPECT_EQ(m.unknown_comprehension_required(), (std::vector<uint16_t>{0x0031, 0x7ffe}));
  EXPECT_EQ(m.attributes().size(), 5u);
  EXPECT_NE(m.find(0xC001), nullptr);
}

TEST(StunRules, builder_refuses_bad_values) {
  auto fails = [](stun_builder& b, errc code) {
    auto r = b.finish();
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, code) << to_string(r.error());
  };
  auto id = stun_txid::random();
  {
    stun_builder b(stun_class::error, 1, id);
    b.add_error_code(299, "x");
    fails(b, errc::invalid_argument);
  }
  {
    stun_builder b(stun_class::error, 1, id);
    b.add_error_code(700, "x");
    fails(b, errc::invalid_argument);
  }
  {
    stun_builder b(stun_class::error, 1, id);
    b.add_error_code(400, std::string(stun_max_text + 1, 'x'));
    fails(b, errc::invalid_argument);
  }
  {
    stun_builder b(stun_class::error, 1, id);
    b.add_software("\xff");
    fails(b, errc::invalid_argument);
  }
  {
    stun_builder b(stun_class::error, 1, id);
    b.add_text(stun_attr::username, std::string(stun_max_username + 1, 'u'));
    fails(b, errc::invalid_argument);
  }
  {
    stun_builder b(stun_class::error, 1, id);
    b.add_fingerprint().add_fingerprint();
    fails(b, errc::invalid_argument);
  }
  {
    stun_builder b(stun_class::error, 1, id);
    std::string big(60000, 'd');
    b.add_raw(stun_attr::data, big).add_raw(stun_attr::data, big);
    fails(b, errc::message_too_large);
  }
}

// --- bad input -------------------------------------------------------------------

TEST(StunBadInput, truncated_header) {
  auto bytes = stun_vectors::rfc5769_request;
  for (size_t n : {0, 1, 4, 19}) {
    bytes.resize(n);
    expect_bad(bytes, "shorter than the 20-byte header");
  }
}

TEST(StunBadInput, truncated_message) {
  auto bytes = stun_vectors::rfc5769_request;
  bytes.resize(bytes.size() - 4);
  expect_bad(bytes, "length field says 88 bytes follow the header, 84 do");
}

TEST(StunBadInput, truncated_attribute) {
  // The length field is made to agree with the cut: the attribute itself lies.
  auto bytes = stun_vectors::rfc5769_ipv4_response;
  bytes.resize(20 + 16 + 8); // SOFTWARE and half of XOR-MAPPED-ADDRESS
  put16(bytes, 2, 24);
  expect_bad(bytes, "XOR-MAPPED-ADDRESS (0x0020) at offset 36 claims 8 bytes, 4 remain");
}

TEST(StunBadInput, length_field_lies) {
  auto bytes = stun_vectors::rfc5769_ipv4_response;
  auto v = bytes;
  put16(v, 2, 0x40); // too long
  expect_bad(v, "length field says 64 bytes follow the header, 60 do");
  v = bytes;
  put16(v, 2, 0x38); // too short
  expect_bad(v, "length field says 56 bytes follow the header, 60 do");
  v = bytes;
  put16(v, 2, 0x3d); // not a multiple of 4
  expect_bad(v, "length field 61 is not a multiple of 4");
}

TEST(StunBadInput, attribute_length_lies) {
  auto bytes = stun_vectors::rfc5769_ipv4_response;
  auto v = bytes;
  put16(v, 38, 12); // XOR-MAPPED-ADDRESS claims 4 bytes of MESSAGE-INTEGRITY's header
  expect_bad(v, "XOR-MAPPED-ADDRESS (0x0020) at offset 36 an IPv4 address value has 12 bytes");
  v = bytes;
  put16(v, 38, 4); // and now 4 too few: the walk would go on inside its value
  expect_bad(v, "XOR-MAPPED-ADDRESS (0x0020) at offset 36 has 4 bytes, must have 8 to 20");
  v = bytes;
  put16(v, 74, 8); // FINGERPRINT claims 8 bytes, 4 remain
  expect_bad(v, "FINGERPRINT (0x8028) at offset 72 claims 8 bytes, 4 remain");
  v = bytes;
  put16(v, 74, 5); // 5 bytes, padded to 8
  expect_bad(v, "claims 5 bytes (8 padded), 4 remain");
  v = bytes;
  put16(v, 22, 0xFFFF); // SOFTWARE claims 65535
  expect_bad(v, "SOFTWARE (0x8022) at offset 20 claims 65535 bytes (65536 padded), 56 remain");
}

TEST(StunBadInput, wrong_magic_cookie) {
  auto v = stun_vectors::rfc5769_ipv4_response;
  v[4] = 0x22;
  expect_bad(v, "magic cookie is 0x2212a442, not 0x2112a442");
}

TEST(StunBadInput, top_bits_set) {
  for (uint8_t top : {0x80, 0x40, 0xC0}) {
    auto v = stun_vectors::rfc5769_ipv4_response;
    v[0] |= top;
    expect_bad(v, "has a top bit set");
  }
}

TEST(StunBadInput, oversized) {
  // A buffer over the limit is refused unread...
  std::vector<uint8_t> big(70000, 0);
  expect_bad(big, "70000 bytes is over the limit of 65552", errc::message_too_large);
  stun_decode_options opts;
  opts.max_size = 64;
  expect_bad(stun_vectors::rfc5769_ipv4_response, "80 bytes is over the limit of 64",
             errc::message_too_large, opts);
  // ...and a message claiming more than the buffer holds is malformed.
  auto v = stun_vectors::rfc5769_ipv4_response;
  put16(v, 2, 0xFFFC);
  expect_bad(v, "length field says 65532 bytes follow the header, 60 do");
  // The largest legal message decodes.
  std::vector<uint8_t> max = request_with({{stun_attr::padding, std::string(65528, 'p')}});
  EXPECT_EQ(max.size(), stun_max_message);
  EXPECT_TRUE(decode_stun(max).has_value());
}

TEST(StunBadInput, attribute_value_lengths_per_type) {
  struct bad_case {
    uint16_t type;
    std::string value;
    std::string what;
  };
  const std::string v4_addr("\0\x01\0\x50\x01\x02\x03\x04", 8);
  const bad_case cases[] = {
    {stun_attr::mapped_address, v4_addr.substr(0, 7), "has 7 bytes, must have 8 to 20"},
    {stun_attr::mapped_address, v4_addr + std::string(4, '\0'),
     "an IPv4 address value has 12 bytes, not 8"},
    {stun_attr::xor_mapped_address, std::string("\0\x02\0\x50", 4) + std::string(4, 'a'),
     "an IPv6 address value has 8 bytes, not 20"},
    {stun_attr::other_address, std::string("\0\x03\0\x50\1\2\3\4", 8),
     "address family 3 is neither 1 (IPv4) nor 2 (IPv6)"},
    {stun_attr::response_origin, std::string(10, '\0'), "not a multiple of 4"},
    {stun_attr::changed_address, std::string(24, '\0'), "must have 8 to 20"},
    {stun_attr::source_address, std::string("\0\0\0\0\0\0\0\0", 8), "address family 0"},
    {stun_attr::change_request, std::string(8, '\0'), "CHANGE-REQUEST (0x0003) at offset 20 has 8 bytes, must have 4"},
    {stun_attr::message_integrity, std::string(16, '\0'), "has 16 bytes, must have 20"},
    {stun_attr::message_integrity_sha256, std::string(12, '\0'), "must have 16 to 32"},
    {stun_attr::message_integrity_sha256, std::string(18, '\0'), "not a multiple of 4"},
    {stun_attr::fingerprint, std::string(8, '\0'), "has 8 bytes, must have 4"},
    {stun_attr::error_code, std::string(3, '\0'), "must have 4 to 767"},
    {stun_attr::error_code, std::string("\0\0\x02\x01", 4), "has class 2, not 3 to 6"},
    {stun_attr::error_code, std::string("\0\0\x07\x01", 4), "has class 7, not 3 to 6"},
    {stun_attr::error_code, std::string("\0\0\x04\x64", 4), "has number 100, not 0 to 99"},
    {stun_attr::error_code, std::string("\0\0\x04\x01\xc3\x28", 6), "reason phrase that is not valid UTF-8"},
    {stun_attr::error_code, std::string("\0\0\x04\x01", 4) + std::string(764, 'r'), "has 768 bytes, must have 4 to 767"},
    {stun_attr::software, std::string(764, 's'), "SOFTWARE (0x8022) at offset 20 has 764 bytes, must have 0 to 763"},
    {stun_attr::software, "\xed\xa0\x80", "is not valid UTF-8"}, // a surrogate
    {stun_attr::software, "\xc0\xaf", "is not valid UTF-8"},     // overlong '/'
    {stun_attr::username, std::string(514, 'u'), "must have 0 to 513"},
    {stun_attr::unknown_attributes, "abc", "not a multiple of 2"},
    {stun_attr::priority, "ab", "has 2 bytes, must have 4"},
  };
  for (auto& c : cases) {
    SCOPED_TRACE(stun_attr_name(c.type) + ": " + c.what);
    expect_bad(request_with({{c.type, c.value}}), c.what);
  }
}

TEST(StunBadInput, bad_fingerprint) {
  auto v = stun_vectors::rfc5769_request;
  v.back() ^= 1;
  expect_bad(v, "FINGERPRINT at offset 100 is 0xe57a3bce, the message's is 0xe57a3bcf");
  // Any change to the message breaks it too.
  v = stun_vectors::rfc5769_request;
  v[30] ^= 0x20; // SOFTWARE text
  expect_bad(v, "FINGERPRINT at offset 100 is 0xe57a3bcf");
}

TEST(StunBadInput, fingerprint_not_last) {
  stun_builder b(stun_class::request, stun_method::binding, stun_txid::random());
  b.add_fingerprint().add_raw(stun_attr::software, "late");
  expect_bad(build(b), "FINGERPRINT at offset 20 is not the last attribute: SOFTWARE (0x8022) "
                       "follows at offset 28");
}

TEST(StunBadInput, bad_integrity) {
  // A flipped bit in the HMAC itself, FINGERPRINT dropped so decoding passes.
  auto v = stun_vectors::rfc5769_long_term_request;
  v[100] ^= 0x80;
  auto m = decode_ok(v);
  auto key = *stun_key::long_term(katakana, "example.org", "TheMatrIX");
  EXPECT_FALSE(m.integrity_ok(key));
  // A flipped bit in what it covers (NONCE).
  v = stun_vectors::rfc5769_long_term_request;
  v[50] ^= 0x01;
  EXPECT_FALSE(decode_ok(v).integrity_ok(key));
  // No integrity at all is not ok either.
  EXPECT_FALSE(decode_ok(request_with({})).integrity_ok(key));
}

TEST(StunBadInput, integrity_with_wrong_key) {
  auto m = decode_ok(stun_vectors::rfc5769_ipv4_response);
  EXPECT_FALSE(m.integrity_ok(short_key("VOkJxbRl1RmTxUk/WvJxB")));
  EXPECT_FALSE(m.integrity_ok(*stun_key::long_term("evtj:h6vY", "", rfc5769_password)));
  EXPECT_FALSE(m.integrity_ok(short_key("")));
}

TEST(StunBadInput, built_in_memory_messages_with_bad_values_have_no_typed_value) {
  stun_message m(stun_class::error, 1, stun_txid::random());
  m.push_back({stun_attr::error_code, {0, 0, 9, 1}});
  m.push_back({stun_attr::mapped_address, {0, 1, 0}});
  m.push_back({stun_attr::change_request, {0}});
  EXPECT_FALSE(m.error_code());
  EXPECT_FALSE(m.mapped_address());
  EXPECT_FALSE(m.change_request());
  EXPECT_FALSE(m.integrity_ok(short_key("x")));
}
