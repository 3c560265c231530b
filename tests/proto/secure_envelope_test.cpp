#include "p2pd/proto/secure_envelope.hpp"

#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "support/expect.hpp"
#include "support/printers.hpp"
#include "proto/proto_test_util.hpp"

using namespace p2pd::wire;
namespace net = p2pd::net;
using net::errc;
using p2pd::test::error_of;

namespace {

constexpr int64_t t0 = 1'732'000'000'000;
constexpr uint32_t ttl = 30'000;

net::identity new_identity() {
  auto r = net::identity::generate();
  if (!r)
    throw std::runtime_error(to_string(r.error()));
  return std::move(*r);
}

// Plain RFC 8032 Ed25519, no context: what identity::sign never produces.
std::array<uint8_t, 64> raw_ed25519_sign(const std::array<uint8_t, 32>& priv, const bytes& msg) {
  std::array<uint8_t, 64> sig{};
  EVP_PKEY* key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, priv.data(), priv.size());
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t len = sig.size();
  bool ok = key && ctx && EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, key) == 1
            && EVP_DigestSign(ctx, sig.data(), &len, msg.data(), msg.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  if (!ok)
    throw std::runtime_error("raw Ed25519 signing failed");
  return sig;
}

bytes sample_plaintext() {
  address_request req;
  req.set_request_id(42);
  req.add_families(IP_FAMILY_V6);
  return encode_payload(req);
}

sealed_message seal_ok(const net::identity& from, const net::identity& to, int64_t now = t0,
                       uint32_t ttl_ms = ttl, payload_type type = PAYLOAD_TYPE_ADDRESS_REQUEST) {
  auto r = seal_envelope(from, to.pub(), type, sample_plaintext(), now, ttl_ms);
  if (!r)
    throw std::runtime_error(to_string(r.error()));
  return std::move(*r);
}

/// The body inside an envelope, to change and re-encode.
body body_of(const bytes& env) {
  auto dec = decode_envelope(env);
  if (!dec)
    throw std::runtime_error(to_string(dec.error()));
  auto b = decode_body(dec->body_bytes);
  if (!b)
    throw std::runtime_error(to_string(b.error()));
  return std::move(*b);
}

/// `b` signed by `signer`: what a sender (or a thief of its key) could send.
bytes signed_by(const body& b, const net::identity& signer) {
  auto body_bytes = encode_body(b);
  if (!body_bytes)
    throw std::runtime_error(to_string(body_bytes.error()));
  auto env = encode_envelope(*body_bytes, sign_body(signer, *body_bytes));
  if (!env)
    throw std::runtime_error(to_string(env.error()));
  return std::move(*env);
}

/// `b` under the signature of the original envelope `env`: what a relay that
/// changed a byte of the body could send.
bytes with_old_signature(const body& b, const bytes& env) {
  auto body_bytes = encode_body(b);
  auto dec = decode_envelope(env);
  if (!body_bytes || !dec)
    throw std::runtime_error("cannot re-encode the test body");
  auto out = encode_envelope(*body_bytes, dec->signature);
  if (!out)
    throw std::runtime_error(to_string(out.error()));
  return std::move(*out);
}

void expect_refused(inbox& box, const bytes& env, int64_t now, errc code,
                    const std::string& text) {
  auto r = box.open(env, now);
  auto err = error_of(r);
  EXPECT_EQ(err.code, code) << to_string(err);
  EXPECT_NE(err.what.find(text), std::string::npos)
    << "'" << err.what << "' does not say '" << text << "'";
}

void expect_opens(inbox& box, const sealed_message& msg, int64_t now = t0) {
  auto r = box.open(msg.envelope, now);
  ASSERT_OK(r);
  EXPECT_EQ(r->id, msg.id);
  EXPECT_EQ(r->plaintext, sample_plaintext());
}

class secure_envelope : public ::testing::Test {
protected:
  net::identity a = new_identity();
  net::identity b = new_identity();
  net::identity c = new_identity();
};

} // namespace

// -- sealing and opening ------------------------------------------------------

TEST_F(secure_envelope, round_trip_a_to_b_gives_sender_header_and_payload) {
  address_request req;
  req.set_request_id(7);
  req.add_families(IP_FAMILY_V4);
  auto msg = seal_payload(a, b.pub(), req, t0, ttl);
  ASSERT_OK(msg);
  inbox box{b};
  auto r = box.open(msg->envelope, t0 + 5);
  ASSERT_OK(r);
  EXPECT_EQ(r->sender, a.id());
  EXPECT_EQ(r->sender_keys, a.pub());
  EXPECT_EQ(r->id, msg->id);
  EXPECT_EQ(r->type, PAYLOAD_TYPE_ADDRESS_REQUEST);
  EXPECT_TRUE(r->known_type);
  EXPECT_EQ(r->timestamp_ms, t0);
  EXPECT_EQ(r->ttl_ms, ttl);
  auto got = decode_payload<address_request>(r->plaintext);
  ASSERT_OK(got);
  EXPECT_EQ(got->request_id(), 7u);
  ASSERT_EQ(got->families_size(), 1);
  EXPECT_EQ(got->families(0), IP_FAMILY_V4);
  EXPECT_EQ(box.counters().accepted, 1u);
  EXPECT_EQ(box.counters().refused(), 0u);
}

TEST_F(secure_envelope, recipients_inbox_opens_and_another_nodes_refuses_as_not_for_us) {
  auto msg = seal_ok(a, b);
  inbox box_c{c};
  expect_refused(box_c, msg.envelope, t0, errc::not_for_us,
                 "message for node " + b.id().to_string() + ", this is node "
                   + c.id().to_string());
  EXPECT_EQ(box_c.counters().not_for_us, 1u);
  EXPECT_EQ(box_c.counters().refused(), 1u);
  EXPECT_EQ(box_c.replay().size(), 0u);
  inbox box_b{b};
  expect_opens(box_b, msg);
}

TEST_F(secure_envelope, two_seals_of_the_same_payload_differ_in_bytes_and_id) {
  auto x = seal_ok(a, b);
  auto y = seal_ok(a, b);
  EXPECT_NE(x.envelope, y.envelope);
  EXPECT_NE(x.id, y.id);
  EXPECT_NE(body_of(x.envelope).ephemeral_key, body_of(y.envelope).ephemeral_key);
  inbox box{b};
  expect_opens(box, x);
  expect_opens(box, y);
}

TEST_F(secure_envelope, unknown_payload_type_from_a_newer_sender_opens_and_is_reported_unknown) {
  auto newer = static_cast<payload_type>(150);
  auto msg = seal_ok(a, b, t0, ttl, newer);
  inbox box{b};
  auto r = box.open(msg.envelope, t0);
  ASSERT_OK(r);
  EXPECT_EQ(r->type, newer);
  EXPECT_FALSE(r->known_type);
  EXPECT_EQ(r->plaintext, sample_plaintext());
  EXPECT_EQ(box.counters().accepted, 1u);
  EXPECT_EQ(box.counters().unknown_type, 1u);
}

TEST_F(secure_envelope, seal_refuses_an_unspecified_type) {
  auto r = seal_envelope(a, b.pub(), PAYLOAD_TYPE_UNSPECIFIED, sample_plaintext(), t0, ttl);
  EXPECT_EQ(error_of(r).code, errc::invalid_argument) << to_string(error_of(r));
}

TEST_F(secure_envelope, seal_refuses_a_recipient_key_of_small_order) {
  auto keys = b.pub();
  keys.agree = {}; // the all-zero point: every shared secret with it is zero
  auto r = seal_envelope(a, keys, PAYLOAD_TYPE_ADDRESS_REQUEST, sample_plaintext(), t0, ttl);
  EXPECT_EQ(error_of(r).code, errc::invalid_argument) << to_string(error_of(r));
  EXPECT_NE(error_of(r).what.find("small order"), std::string::npos) << error_of(r).what;
}

// The identity point as a signing key verifies (R = identity, S = 0) for any
// message: with it anyone could speak for the node id it makes. Refused
// before the signature is looked at.
TEST_F(secure_envelope, sender_with_a_small_order_signing_key_is_refused_as_forged) {
  auto h = body_of(seal_ok(a, b).envelope);
  h.sender_sign_key = {};
  h.sender_sign_key[0] = 1; // y = 1: the identity point
  h.sender_id = net::node_id::of({h.sender_sign_key, h.sender_agree_key}).bytes;
  auto body_bytes = encode_body(h);
  ASSERT_TRUE(body_bytes);
  signature forged{};
  forged[0] = 1;
  auto env = encode_envelope(*body_bytes, forged);
  ASSERT_TRUE(env);
  inbox box{b};
  expect_refused(box, *env, t0, errc::forged, "envelope with a weak signing key");
  EXPECT_EQ(box.counters().wrong_sender_key, 1u);
  EXPECT_EQ(box.counters().accepted, 0u);
}

TEST_F(secure_envelope, seal_refuses_a_payload_over_the_size_limit) {
  bytes big(max_envelope_bytes + 1, 0x55);
  auto r = seal_envelope(a, b.pub(), PAYLOAD_TYPE_ADDRESS_REQUEST, big, t0, ttl);
  EXPECT_EQ(error_of(r).code, errc::message_too_large) << to_string(error_of(r));
  // Near the limit the envelope's overhead pushes it over: refused, not cut.
  bytes almost(max_envelope_bytes - 10, 0x55);
  r = seal_envelope(a, b.pub(), PAYLOAD_TYPE_ADDRESS_REQUEST, almost, t0, ttl);
  EXPECT_EQ(error_of(r).code, errc::message_too_large) << to_string(error_of(r));
}

TEST(secure_envelope_aad, encodes_the_documented_fixed_layout) {
  body h;
  h.sender_id = test::filled<node_id_size>(0x10);
  h.recipient_id = test::filled<node_id_size>(0x70);
  h.message_id = test::filled<message_id_size>(0x90);
  h.timestamp_ms = 0x0102030405060708;
  h.ttl_ms = 0x0a0b0c0d;
  h.type = PAYLOAD_TYPE_ADDRESS_REPLY;
  bytes want;
  for (char ch : std::string{"p2pd envelope v1"})
    want.push_back(static_cast<uint8_t>(ch));
  want.insert(want.end(), h.sender_id.begin(), h.sender_id.end());
  want.insert(want.end(), h.recipient_id.begin(), h.recipient_id.end());
  want.insert(want.end(), h.message_id.begin(), h.message_id.end());
  want.insert(want.end(), {1, 2, 3, 4, 5, 6, 7, 8, 0x0a, 0x0b, 0x0c, 0x0d, 0, 0, 0, 5});
  auto aad = envelope_aad(h);
  ASSERT_EQ(aad.size(), 88u);
  EXPECT_EQ(bytes(aad.begin(), aad.end()), want);
  // Negative values are two's complement: the encoding has no sign rules.
  h.timestamp_ms = -2;
  h.type = static_cast<payload_type>(-1);
  aad = envelope_aad(h);
  EXPECT_EQ(bytes(aad.begin() + 72, aad.begin() + 80),
            bytes({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe}));
  EXPECT_EQ(bytes(aad.begin() + 84, aad.end()), bytes({0xff, 0xff, 0xff, 0xff}));
}

// -- authenticity -------------------------------------------------------------

TEST_F(secure_envelope, any_flipped_signature_byte_is_refused_as_forged) {
  auto msg = seal_ok(a, b);
  inbox box{b};
  // The signature is the envelope's field 4, followed only by field 5 (the
  // signing key with its tag and length byte).
  auto sig_end = msg.envelope.size() - (sign_key_size + 2);
  for (size_t i = 1; i <= signature_size; ++i) {
    auto env = msg.envelope;
    env[sig_end - i] ^= 0x01;
    expect_refused(box, env, t0, errc::forged, "forged: bad signature");
  }
  EXPECT_EQ(box.counters().bad_signature, signature_size);
  EXPECT_EQ(box.replay().size(), 0u);
  expect_opens(box, msg);
}

TEST_F(secure_envelope, versions_changed_under_the_same_signature_are_refused_as_forged) {
  auto msg = seal_ok(a, b);
  auto dec = decode_envelope(msg.envelope);
  ASSERT_TRUE(dec);
  inbox box{b};
  for (auto [version, min_version] : {std::pair{3u, 2u}, std::pair{2u, 1u}, std::pair{9u, 2u}}) {
    auto changed = encode_envelope(dec->body_bytes, dec->signature, version, min_version);
    ASSERT_OK(changed);
    expect_refused(box, *changed, t0, errc::forged, "forged: bad signature");
  }
  EXPECT_EQ(box.counters().bad_signature, 3u);
  expect_opens(box, msg);
}

TEST_F(secure_envelope, a_signature_over_the_body_alone_is_refused_as_forged) {
  // What format 1 signed: the body without the versions and the key.
  auto msg = seal_ok(a, b);
  auto dec = decode_envelope(msg.envelope);
  ASSERT_TRUE(dec);
  auto env = encode_envelope(dec->body_bytes, a.sign(net::sign_purpose::envelope, dec->body_bytes));
  ASSERT_TRUE(env);
  inbox box{b};
  expect_refused(box, *env, t0, errc::forged, "forged: bad signature");
  EXPECT_EQ(box.counters().bad_signature, 1u);
}

TEST(secure_envelope_raw, a_raw_ed25519_signature_without_the_context_is_refused) {
  // The sender's key signs exactly the covered bytes, but as plain Ed25519
  // with no context: a signature made for another protocol under the same key.
  std::array<uint8_t, 32> sign_priv{}, agree_priv{};
  std::mt19937 rng{7};
  for (auto& x : sign_priv)
    x = static_cast<uint8_t>(rng());
  for (auto& x : agree_priv)
    x = static_cast<uint8_t>(rng());
  auto a = net::identity::from_private_keys(sign_priv, agree_priv);
  ASSERT_OK(a);
  auto b = new_identity();
  auto sealed = seal_ok(*a, b);
  auto dec = decode_envelope(sealed.envelope);
  ASSERT_TRUE(dec);
  auto covered = signed_bytes(dec->version, dec->min_version, dec->sign_key, dec->body_bytes);
  auto raw = raw_ed25519_sign(sign_priv, covered);
  ASSERT_TRUE(net::verify(a->pub().sign, covered, raw)) << "the raw signature itself is good";
  auto env = test::raw_envelope(dec->body_bytes, test::to_string(raw), dec->version,
                                dec->min_version, test::to_string(dec->sign_key));
  inbox box{b};
  auto r = box.open(env, t0);
  ASSERT_FALSE(r);
  EXPECT_ERRC(r, errc::forged);
  EXPECT_EQ(box.counters().bad_signature, 1u);
}

TEST_F(secure_envelope, garbage_body_under_a_bad_signature_is_refused_before_parsing) {
  // The body is not parsed until the signature holds: garbage under a bad
  // signature counts as forged, never reaches the protobuf parser.
  bytes garbage(200, 0xff);
  auto env = test::raw_envelope(garbage, std::string(signature_size, 's'), 2, 2,
                                test::to_string(a.pub().sign));
  inbox box{b};
  expect_refused(box, env, t0, errc::forged, "forged: bad signature");
  EXPECT_EQ(box.counters().bad_signature, 1u);
  EXPECT_EQ(box.counters().malformed, 0u);
}

TEST_F(secure_envelope, a_body_naming_another_key_than_the_one_that_signed_it_is_refused) {
  // C signs A's body (A's id and keys) with C's own key in the envelope.
  auto h = body_of(seal_ok(a, b).envelope);
  auto body_bytes = encode_body(h);
  ASSERT_TRUE(body_bytes);
  auto sig = c.sign(net::sign_purpose::envelope,
                    signed_bytes(current_version, oldest_reader_version, c.pub().sign, *body_bytes));
  auto env = test::raw_envelope(*body_bytes, test::to_string(sig), current_version,
                                oldest_reader_version, test::to_string(c.pub().sign));
  inbox box{b};
  expect_refused(box, env, t0, errc::forged, "names another signing key than the one that signed it");
  EXPECT_EQ(box.counters().wrong_sender_key, 1u);
  EXPECT_EQ(box.counters().accepted, 0u);
}

TEST_F(secure_envelope, body_resigned_by_another_key_under_the_senders_id_is_refused) {
  auto msg = seal_ok(a, b);
  auto h = body_of(msg.envelope);
  h.sender_sign_key = c.pub().sign; // A's id and agreement key, C's signing key
  inbox box{b};
  expect_refused(box, signed_by(h, c), t0, errc::forged,
                 "sender key does not belong to its id: message claims node "
                   + a.id().to_string());
  EXPECT_EQ(box.counters().wrong_sender_key, 1u);
  EXPECT_EQ(box.counters().bad_signature, 0u);
  EXPECT_EQ(box.replay().size(), 0u);
  expect_opens(box, msg);
}

TEST_F(secure_envelope, body_with_another_nodes_keys_under_the_senders_id_is_refused) {
  auto msg = seal_ok(a, b);
  auto h = body_of(msg.envelope);
  h.sender_sign_key = c.pub().sign;
  h.sender_agree_key = c.pub().agree;
  inbox box{b};
  expect_refused(box, signed_by(h, c), t0, errc::forged,
                 "its keys are node " + c.id().to_string());
  EXPECT_EQ(box.counters().wrong_sender_key, 1u);
  expect_opens(box, msg);
}

TEST_F(secure_envelope, ciphertext_bit_flip_without_resigning_is_forged_and_not_remembered) {
  auto msg = seal_ok(a, b);
  auto h = body_of(msg.envelope);
  h.ciphertext[3] ^= 0x20;
  inbox box{b};
  expect_refused(box, with_old_signature(h, msg.envelope), t0, errc::forged,
                 "forged: bad signature");
  EXPECT_EQ(box.replay().size(), 0u);
  expect_opens(box, msg);
}

TEST_F(secure_envelope, ciphertext_bit_flip_signed_by_the_sender_is_undecryptable_and_not_remembered) {
  auto msg = seal_ok(a, b);
  auto h = body_of(msg.envelope);
  h.ciphertext[3] ^= 0x20;
  inbox box{b};
  expect_refused(box, signed_by(h, a), t0, errc::crypto_failed, "cannot decrypt");
  EXPECT_EQ(box.counters().undecryptable, 1u);
  EXPECT_EQ(box.replay().size(), 0u);
  expect_opens(box, msg);
}

TEST_F(secure_envelope, header_changed_and_resigned_by_the_sender_does_not_decrypt) {
  auto msg = seal_ok(a, b);
  auto original = body_of(msg.envelope);
  std::vector<std::pair<const char*, body>> changed;
  auto h = original;
  h.message_id[0] ^= 0x01;
  changed.emplace_back("message_id", h);
  h = original;
  h.timestamp_ms += 1;
  changed.emplace_back("timestamp_ms", h);
  h = original;
  h.ttl_ms += 60'000;
  changed.emplace_back("ttl_ms", h);
  h = original;
  h.type = PAYLOAD_TYPE_CONNECT_REQUEST;
  changed.emplace_back("type", h);
  inbox box{b};
  for (const auto& [field, changed_body] : changed) {
    SCOPED_TRACE(field);
    expect_refused(box, signed_by(changed_body, a), t0, errc::crypto_failed, "cannot decrypt");
  }
  EXPECT_EQ(box.counters().undecryptable, changed.size());
  EXPECT_EQ(box.replay().size(), 0u);
  expect_opens(box, msg);
}

// -- freshness ----------------------------------------------------------------

TEST_F(secure_envelope, replayed_bytes_are_refused_after_the_first_time) {
  auto msg = seal_ok(a, b);
  inbox box{b};
  expect_opens(box, msg);
  expect_refused(box, msg.envelope, t0 + 1, errc::replayed, "replayed: message ");
  expect_refused(box, msg.envelope, t0 + 2, errc::replayed, "from node " + a.id().to_string());
  EXPECT_EQ(box.counters().accepted, 1u);
  EXPECT_EQ(box.counters().replayed, 2u);
}

TEST_F(secure_envelope, message_past_its_ttl_is_refused_as_expired) {
  auto last_moment = seal_ok(a, b);
  auto late = seal_ok(a, b);
  inbox box{b};
  expect_opens(box, last_moment, t0 + ttl);
  expect_refused(box, late.envelope, t0 + ttl + 1, errc::expired, "expired: message ");
  EXPECT_EQ(box.counters().expired, 1u);
}

TEST_F(secure_envelope, message_from_the_future_is_refused) {
  net::replay_config cfg;
  cfg.max_skew_ms = 10'000;
  auto at_skew = seal_ok(a, b, t0 + 10'000);
  auto beyond = seal_ok(a, b, t0 + 10'001);
  inbox box{b, cfg};
  expect_opens(box, at_skew, t0);
  expect_refused(box, beyond.envelope, t0, errc::from_future, "from the future: message ");
  EXPECT_EQ(box.counters().from_future, 1u);
}

TEST_F(secure_envelope, message_older_than_what_a_full_replay_cache_forgot_is_refused_as_too_old) {
  net::replay_config cfg;
  cfg.per_sender = 1;
  inbox box{b, cfg};
  expect_opens(box, seal_ok(a, b, t0, 20'000));
  // Room for one: the first message is forgotten, and whatever expires no
  // later than it can no longer be told from a replay.
  expect_opens(box, seal_ok(a, b, t0, 30'000));
  expect_refused(box, seal_ok(a, b, t0, 10'000).envelope, t0, errc::expired, "too old: message ");
  EXPECT_EQ(box.counters().too_old, 1u);
}

// -- hostile bytes ------------------------------------------------------------

TEST_F(secure_envelope, oversized_envelope_is_refused_before_parsing) {
  auto msg = seal_ok(a, b);
  inbox small{b, {}, msg.envelope.size() - 1};
  expect_refused(small, msg.envelope, t0, errc::message_too_large, "exceeds the limit");
  // Garbage too: the size decides before the parser could call it malformed.
  inbox box{b};
  bytes garbage(max_envelope_bytes + 1, 0xff);
  expect_refused(box, garbage, t0, errc::message_too_large, "exceeds the limit");
  EXPECT_EQ(small.counters().too_large, 1u);
  EXPECT_EQ(box.counters().too_large, 1u);
  EXPECT_EQ(box.counters().malformed, 0u);
}

TEST_F(secure_envelope, every_truncation_is_refused_as_malformed) {
  auto msg = seal_ok(a, b);
  inbox box{b};
  for (size_t len = 0; len < msg.envelope.size(); ++len) {
    auto err = error_of(box.open(net::byte_view{msg.envelope.data(), len}, t0));
    EXPECT_EQ(err.code, errc::malformed) << len << " bytes: " << to_string(err);
  }
  EXPECT_EQ(box.counters().malformed, msg.envelope.size());
  EXPECT_EQ(box.replay().size(), 0u);
  expect_opens(box, msg);
}

TEST_F(secure_envelope, random_garbage_is_refused) {
  std::mt19937 rng{20241119};
  std::uniform_int_distribution<size_t> length{0, 600};
  std::uniform_int_distribution<int> byte{0, 255};
  inbox box{b};
  constexpr size_t rounds = 3000;
  for (size_t i = 0; i < rounds; ++i) {
    bytes junk(length(rng));
    for (auto& x : junk)
      x = static_cast<uint8_t>(byte(rng));
    EXPECT_FALSE(box.open(junk, t0).has_value()) << "round " << i;
  }
  EXPECT_EQ(box.counters().refused(), rounds);
  EXPECT_EQ(box.counters().accepted, 0u);
}

TEST_F(secure_envelope, damaged_envelopes_never_open_to_other_content) {
  auto msg = seal_ok(a, b);
  std::mt19937 rng{7};
  std::uniform_int_distribution<size_t> where{0, msg.envelope.size() - 1};
  std::uniform_int_distribution<int> flips{1, 4};
  std::uniform_int_distribution<int> bit{0, 7};
  for (size_t i = 0; i < 500; ++i) {
    auto env = msg.envelope;
    for (int n = flips(rng); n > 0; --n)
      env[where(rng)] ^= static_cast<uint8_t>(1u << bit(rng));
    // A fresh inbox: the damage may hit only the unsigned version fields,
    // and then the message is still the genuine one and opens.
    inbox box{b};
    auto r = box.open(env, t0);
    if (r) {
      EXPECT_EQ(r->id, msg.id) << "round " << i;
      EXPECT_EQ(r->sender, a.id()) << "round " << i;
      EXPECT_EQ(r->plaintext, sample_plaintext()) << "round " << i;
    }
  }
}

// -- counters -----------------------------------------------------------------

TEST_F(secure_envelope, counters_count_each_case_once) {
  net::replay_config cfg;
  cfg.per_sender = 1;
  inbox box{b, cfg};
  auto msg = seal_ok(a, b, t0, 30'000);
  auto h = body_of(msg.envelope);
  auto expect_code = [&](const bytes& env, errc code) {
    EXPECT_EQ(error_of(box.open(env, t0)).code, code);
  };

  expect_opens(box, msg);                                                  // accepted
  expect_code(msg.envelope, errc::replayed);                               // replayed
  // A second accepted message, of an unknown type, pushes the first out of the
  // full cache: the floor is now t0 + 30'000.
  ASSERT_TRUE(box.open(seal_ok(a, b, t0, 40'000, static_cast<payload_type>(150)).envelope, t0));
  expect_code(seal_ok(a, b, t0, 10'000).envelope, errc::expired);          // too_old
  expect_code(seal_ok(a, b, t0 - 60'000).envelope, errc::expired);         // expired
  expect_code(seal_ok(a, b, t0 + 60'000).envelope, errc::from_future);     // from_future
  expect_code(bytes(max_envelope_bytes + 1, 0), errc::message_too_large);  // too_large
  expect_code(bytes{0x08}, errc::malformed);                               // malformed
  auto dec = decode_envelope(msg.envelope);
  ASSERT_TRUE(dec.has_value());
  auto v9 = encode_envelope(dec->body_bytes, dec->signature, 9, 9);
  ASSERT_TRUE(v9.has_value());
  expect_code(*v9, errc::unsupported_version);                             // unsupported_version
  expect_code(seal_ok(a, c).envelope, errc::not_for_us);                   // not_for_us
  auto stolen = h;
  stolen.sender_sign_key = c.pub().sign;
  expect_code(signed_by(stolen, c), errc::forged);                         // wrong_sender_key
  auto env = msg.envelope;
  env.back() ^= 0x80;
  expect_code(env, errc::forged);                                          // bad_signature
  auto damaged = h;
  damaged.ciphertext[0] ^= 0x01;
  expect_code(signed_by(damaged, a), errc::crypto_failed);                 // undecryptable

  inbox_counters want;
  want.accepted = 2;
  want.unknown_type = 1;
  want.too_large = 1;
  want.malformed = 1;
  want.unsupported_version = 1;
  want.not_for_us = 1;
  want.wrong_sender_key = 1;
  want.bad_signature = 1;
  want.undecryptable = 1;
  want.replayed = 1;
  want.expired = 1;
  want.too_old = 1;
  want.from_future = 1;
  const auto& got = box.counters();
  EXPECT_EQ(got.accepted, want.accepted);
  EXPECT_EQ(got.unknown_type, want.unknown_type);
  EXPECT_EQ(got.too_large, want.too_large);
  EXPECT_EQ(got.malformed, want.malformed);
  EXPECT_EQ(got.unsupported_version, want.unsupported_version);
  EXPECT_EQ(got.not_for_us, want.not_for_us);
  EXPECT_EQ(got.wrong_sender_key, want.wrong_sender_key);
  EXPECT_EQ(got.bad_signature, want.bad_signature);
  EXPECT_EQ(got.undecryptable, want.undecryptable);
  EXPECT_EQ(got.replayed, want.replayed);
  EXPECT_EQ(got.expired, want.expired);
  EXPECT_EQ(got.too_old, want.too_old);
  EXPECT_EQ(got.from_future, want.from_future);
  EXPECT_EQ(got.refused(), 11u);
}
