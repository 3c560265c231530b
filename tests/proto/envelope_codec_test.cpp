#include "p2pd/proto/envelope_codec.hpp"

#include <random>
#include <string>

#include <gtest/gtest.h>

#include "support/expect.hpp"
#include "support/printers.hpp"
#include "proto/proto_test_util.hpp"

using namespace p2pd::wire;
using namespace p2pd::wire::test;
using p2pd::net::errc;
using p2pd::test::error_of;

namespace {

bytes encode_ok(const body& b) {
  auto r = encode_body(b);
  EXPECT_OK(r);
  return r ? *r : bytes{};
}

/// A valid envelope around sample_body(), signed with fake_sign().
bytes sample_envelope() {
  auto body_bytes = encode_ok(sample_body());
  auto r = encode_envelope(body_bytes, fake_sign(body_bytes));
  EXPECT_OK(r);
  return r ? *r : bytes{};
}

/// decode_body() of `b` as the "version 3" message after `change` edited it.
template <class F>
p2pd::net::error decode_changed(F change) {
  auto m = as_future(sample_body());
  change(m);
  return error_of(decode_body(to_bytes(m.SerializeAsString())));
}

/// A field of `size` bytes where the format wants `want`, must be refused
/// with a message that names it and both lengths.
template <class F>
void expect_wrong_length_refused(const char* name, size_t want, F set_field) {
  for (size_t size : {want - 1, want + 1, size_t{1}, 2 * want}) {
    auto err = decode_changed([&](future_test::envelope_body& m) { set_field(m, std::string(size, 'x')); });
    EXPECT_EQ(err.code, errc::malformed) << name << " of " << size << " bytes: " << to_string(err);
    auto expected = std::string{name} + " has " + std::to_string(size) + " bytes, must have "
                    + std::to_string(want);
    EXPECT_NE(err.what.find(expected), std::string::npos) << to_string(err);
  }
  auto err = decode_changed([&](future_test::envelope_body& m) { set_field(m, std::string{}); });
  EXPECT_EQ(err.code, errc::malformed) << name << " missing: " << to_string(err);
  EXPECT_NE(err.what.find(std::string{"has no "} + name), std::string::npos) << to_string(err);
}

} // namespace

// -- round trips --------------------------------------------------------------

TEST(envelope, one_step_encode_round_trips_every_field) {
  envelope_parts parts;
  parts.body = sample_body();
  auto body_bytes = encode_ok(parts.body);
  parts.signature = fake_sign(body_bytes);
  auto env = encode_envelope(parts);
  ASSERT_OK(env);
  auto dec = decode_envelope(*env);
  ASSERT_OK(dec);
  EXPECT_EQ(dec->version, current_version);
  EXPECT_EQ(dec->min_version, oldest_reader_version);
  EXPECT_EQ(dec->body_bytes, body_bytes);
  EXPECT_TRUE(fake_verify(dec->body_bytes, dec->signature));
  auto b = decode_body(dec->body_bytes);
  ASSERT_OK(b);
  expect_same(*b, parts.body);
  EXPECT_TRUE(b->known_type());
}

TEST(envelope, two_step_encode_wraps_the_signed_bytes_unchanged) {
  auto body_bytes = encode_ok(sample_body());
  auto sig = fake_sign(body_bytes);
  auto env = encode_envelope(body_bytes, sig);
  ASSERT_OK(env);
  auto dec = decode_envelope(env->data(), env->size());
  ASSERT_OK(dec);
  EXPECT_EQ(dec->body_bytes, body_bytes);
  EXPECT_EQ(dec->signature, sig);
}

TEST(envelope, body_encoding_is_stable_so_the_one_step_signature_matches) {
  EXPECT_EQ(encode_ok(sample_body()), encode_ok(sample_body()));
}

// -- the signature covers the bytes as sent -----------------------------------

TEST(envelope, receiver_gets_the_body_bytes_as_sent_not_a_reserialization) {
  // Valid protobuf that no encoder of ours writes: the ttl twice (the last
  // one counts) and a field nobody defines. A receiver that re-serialized the
  // parsed body would verify other bytes than the sender signed.
  auto sent = encode_ok(sample_body());
  put_tag(sent, 7, varint);
  put_varint(sent, 5000);
  put_tag(sent, 77, varint);
  put_varint(sent, 1);
  auto sig = fake_sign(sent);
  auto env = encode_envelope(sent, sig);
  ASSERT_OK(env);

  auto dec = decode_envelope(*env);
  ASSERT_OK(dec);
  EXPECT_EQ(dec->body_bytes, sent);
  EXPECT_TRUE(fake_verify(dec->body_bytes, dec->signature));
  auto b = decode_body(dec->body_bytes);
  ASSERT_OK(b);
  EXPECT_EQ(b->ttl_ms, 5000u);
  EXPECT_NE(encode_ok(*b), sent) << "re-encoding must differ, or this test proves nothing";
}

TEST(envelope, a_changed_body_byte_reaches_the_verifier) {
  auto env = sample_envelope();
  auto dec = decode_envelope(env);
  ASSERT_OK(dec);
  // The last byte of the envelope's body is the last ciphertext byte: change
  // it in transit and the receiver verifies the changed bytes.
  // The signature (field 4) and the signing key (field 5) follow the body,
  // each after a tag and a length byte.
  auto body_end = env.size() - (sign_key_size + 2) - (signature_size + 2);
  env[body_end - 1] ^= 0x01;
  auto tampered = decode_envelope(env);
  ASSERT_OK(tampered);
  EXPECT_NE(tampered->body_bytes, dec->body_bytes);
  EXPECT_FALSE(fake_verify(tampered->body_bytes, tampered->signature));
}

// -- versions -----------------------------------------------------------------

TEST(envelope, newer_version_with_new_fields_decodes_when_min_version_is_met) {
  auto body_v3 = as_future(sample_body());
  body_v3.set_sender_certificate(std::string(300, 'c'));
  body_v3.mutable_note()->set_text("via broker 2");
  body_v3.mutable_note()->set_weight(-7);
  body_v3.set_flags(0xdeadbeefcafef00dull);
  auto body_bytes = to_bytes(body_v3.SerializeAsString());

  future_test::envelope env_v3;
  env_v3.set_version(3);
  env_v3.set_min_version(2);
  env_v3.set_sender_sign_key(to_string(sample_body().sender_sign_key));
  env_v3.set_signed_body(std::string(body_bytes.begin(), body_bytes.end()));
  auto sig = fake_sign(body_bytes);
  env_v3.set_signature(to_string(sig));
  env_v3.set_routing_hint("eu-west");
  env_v3.add_broker_hops(1);
  env_v3.add_broker_hops(2);

  auto dec = decode_envelope(to_bytes(env_v3.SerializeAsString()));
  ASSERT_OK(dec);
  EXPECT_EQ(dec->version, 3u);
  EXPECT_EQ(dec->min_version, 2u);
  EXPECT_EQ(dec->sign_key, sample_body().sender_sign_key);
  EXPECT_EQ(dec->body_bytes, body_bytes);
  EXPECT_TRUE(fake_verify(dec->body_bytes, dec->signature));
  auto b = decode_body(dec->body_bytes);
  ASSERT_OK(b);
  expect_same(*b, sample_body());
}

TEST(envelope, raw_unknown_fields_are_ignored_in_envelope_and_body) {
  auto body_bytes = encode_ok(sample_body());
  put_unknown_fields(body_bytes);
  auto env = encode_envelope(body_bytes, fake_sign(body_bytes), 5, 2);
  ASSERT_OK(env);
  put_unknown_fields(*env);

  auto dec = decode_envelope(*env);
  ASSERT_OK(dec);
  EXPECT_EQ(dec->version, 5u);
  EXPECT_EQ(dec->body_bytes, body_bytes);
  auto b = decode_body(dec->body_bytes);
  ASSERT_OK(b);
  expect_same(*b, sample_body());
}

TEST(envelope, min_version_above_ours_is_refused_as_unsupported_version) {
  auto body_bytes = encode_ok(sample_body());
  for (uint32_t min : {3u, 4u}) {
    auto env = encode_envelope(body_bytes, fake_sign(body_bytes), 4, min);
    ASSERT_OK(env);
    auto err = error_of(decode_envelope(*env));
    EXPECT_EQ(err.code, errc::unsupported_version) << to_string(err);
    EXPECT_EQ(err.what, "envelope needs reader version " + std::to_string(min)
                          + ", this is version 2");
  }
}

TEST(envelope, version_1_is_refused_as_unsupported_version) {
  // Format 1 signed the body alone: its version fields could be changed in
  // transit. Its signature means nothing to this reader.
  auto body_bytes = encode_ok(sample_body());
  auto env = raw_envelope(body_bytes, to_string(fake_sign(body_bytes)), 1, 1);
  auto err = error_of(decode_envelope(env));
  EXPECT_EQ(err.code, errc::unsupported_version) << to_string(err);
  EXPECT_NE(err.what.find("version 1 is no longer accepted"), std::string::npos) << err.what;
}

TEST(envelope, signed_bytes_are_the_versions_big_endian_the_key_and_the_body) {
  sign_key key{};
  for (size_t i = 0; i < key.size(); ++i)
    key[i] = static_cast<uint8_t>(0xa0 + i);
  bytes body_bytes{0x01, 0x02, 0x03};
  auto out = signed_bytes(0x01020304, 0x00000002, key, body_bytes);
  bytes expected{0x01, 0x02, 0x03, 0x04, 0x00, 0x00, 0x00, 0x02};
  expected.insert(expected.end(), key.begin(), key.end());
  expected.insert(expected.end(), body_bytes.begin(), body_bytes.end());
  EXPECT_EQ(out, expected);
}

TEST(envelope, signing_key_of_wrong_length_is_refused) {
  auto body_bytes = encode_ok(sample_body());
  auto sig = to_string(fake_sign(body_bytes));
  for (size_t size : {size_t{0}, size_t{31}, size_t{33}}) {
    auto err = error_of(decode_envelope(raw_envelope(body_bytes, sig, 2, 2, std::string(size, 'k'))));
    EXPECT_EQ(err.code, errc::malformed) << size << " bytes: " << to_string(err);
    EXPECT_EQ(err.what, "envelope signing key has " + std::to_string(size) + " bytes, must have 32");
  }
}

TEST(envelope, unsupported_version_is_reported_before_field_checks) {
  // A future format may sign differently: a reader that cannot read it must
  // say "too new", not "bad signature length".
  auto env = raw_envelope(encode_ok(sample_body()), std::string(100, 's'), 3, 3);
  EXPECT_EQ(error_of(decode_envelope(env)).code, errc::unsupported_version);
  auto no_body = raw_envelope({}, "", 4, 3, "");
  EXPECT_EQ(error_of(decode_envelope(no_body)).code, errc::unsupported_version);
}

TEST(envelope, missing_or_inconsistent_versions_are_malformed) {
  auto body_bytes = encode_ok(sample_body());
  auto sig = to_string(fake_sign(body_bytes));
  struct {
    uint32_t version, min_version;
    const char* what;
  } cases[] = {
    {0, 0, "envelope has no version"},
    {0, 1, "envelope has no version"},
    {1, 0, "envelope has no min_version"},
    {1, 2, "envelope min_version 2 is above its version 1"},
  };
  for (auto& c : cases) {
    auto err = error_of(decode_envelope(raw_envelope(body_bytes, sig, c.version, c.min_version)));
    EXPECT_EQ(err.code, errc::malformed) << to_string(err);
    EXPECT_EQ(err.what, c.what);
  }
}

TEST(envelope, encoder_refuses_versions_a_reader_would_refuse) {
  auto body_bytes = encode_ok(sample_body());
  auto sig = fake_sign(body_bytes);
  EXPECT_EQ(error_of(encode_envelope(body_bytes, sig, 0, 0)).code, errc::invalid_argument);
  EXPECT_EQ(error_of(encode_envelope(body_bytes, sig, 1, 0)).code, errc::invalid_argument);
  EXPECT_EQ(error_of(encode_envelope(body_bytes, sig, 1, 2)).code, errc::invalid_argument);
  EXPECT_EQ(error_of(encode_envelope(bytes{}, sig)).code, errc::invalid_argument);
}

// -- hostile input ------------------------------------------------------------

TEST(envelope, every_truncated_prefix_is_refused_as_malformed) {
  // The signature is the last field and must have 64 bytes, so no strict
  // prefix is a valid envelope.
  auto env = sample_envelope();
  ASSERT_FALSE(env.empty());
  for (size_t n = 0; n < env.size(); ++n) {
    auto err = error_of(decode_envelope(env.data(), n));
    EXPECT_EQ(err.code, errc::malformed) << "prefix of " << n << " bytes: " << to_string(err);
  }
  EXPECT_TRUE(decode_envelope(env).has_value());
}

TEST(envelope_body, every_truncated_prefix_is_refused_as_malformed) {
  // The ciphertext is the last field and must hold at least its tag.
  auto body_bytes = encode_ok(sample_body());
  for (size_t n = 0; n < body_bytes.size(); ++n) {
    bytes prefix(body_bytes.begin(), body_bytes.begin() + static_cast<std::ptrdiff_t>(n));
    auto r = decode_body(prefix);
    // A cut inside the ciphertext that leaves 16 or more bytes breaks its
    // length prefix, so protobuf refuses it; nothing here may decode.
    EXPECT_EQ(error_of(r).code, errc::malformed) << "prefix of " << n << " bytes";
  }
}

TEST(envelope, random_garbage_is_refused_without_crashing) {
  std::mt19937 rng(0x9e3779b9);
  std::uniform_int_distribution<size_t> length(0, 400);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int i = 0; i < 20000; ++i) {
    bytes junk(length(rng));
    for (auto& b : junk)
      b = static_cast<uint8_t>(byte(rng));
    auto r = decode_envelope(junk);
    if (r) {
      // Improbable, but garbage that passes must still be body-checked.
      (void) decode_body(r->body_bytes);
      continue;
    }
    EXPECT_TRUE(r.error().code == errc::malformed || r.error().code == errc::unsupported_version)
      << to_string(r.error());
    auto b = decode_body(junk);
    EXPECT_FALSE(b.has_value());
  }
}

TEST(envelope, random_byte_changes_to_a_valid_envelope_never_crash) {
  auto env = sample_envelope();
  std::mt19937 rng(20241121);
  std::uniform_int_distribution<size_t> pos(0, env.size() - 1);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<int> count(1, 4);
  size_t decoded = 0;
  for (int i = 0; i < 20000; ++i) {
    auto copy = env;
    for (int k = count(rng); k > 0; --k)
      copy[pos(rng)] = static_cast<uint8_t>(byte(rng));
    auto r = decode_envelope(copy);
    if (r && decode_body(r->body_bytes))
      ++decoded; // e.g. a changed ciphertext or timestamp byte: only the signature can tell
  }
  EXPECT_GT(decoded, 0u);
}

TEST(envelope, oversized_input_is_refused_before_parsing) {
  // Garbage that would be malformed: message_too_large shows it was not parsed.
  bytes big(max_envelope_bytes + 1, 0xff);
  auto err = error_of(decode_envelope(big));
  EXPECT_EQ(err.code, errc::message_too_large) << to_string(err);
  EXPECT_EQ(err.what, "p2pd.wire.envelope of 65537 bytes exceeds the limit of 65536 bytes");
}

TEST(envelope, size_limit_is_a_parameter) {
  auto env = sample_envelope();
  EXPECT_EQ(error_of(decode_envelope(env, env.size() - 1)).code, errc::message_too_large);
  EXPECT_TRUE(decode_envelope(env, env.size()).has_value());
  bytes big_ct(max_envelope_bytes, 0x11);
  auto b = sample_body();
  b.ciphertext = big_ct;
  auto body_bytes = encode_body(b, 2 * max_envelope_bytes);
  ASSERT_OK(body_bytes);
  auto big_env = encode_envelope(*body_bytes, fake_sign(*body_bytes), current_version,
                                 oldest_reader_version, 2 * max_envelope_bytes);
  ASSERT_OK(big_env);
  EXPECT_EQ(error_of(decode_envelope(*big_env)).code, errc::message_too_large);
  EXPECT_TRUE(decode_envelope(*big_env, 2 * max_envelope_bytes).has_value());
}

TEST(envelope, encoder_refuses_output_above_the_limit) {
  auto b = sample_body();
  b.ciphertext.assign(max_envelope_bytes, 0x22);
  EXPECT_EQ(error_of(encode_body(b)).code, errc::message_too_large);
  envelope_parts parts;
  parts.body = b;
  EXPECT_EQ(error_of(encode_envelope(parts)).code, errc::message_too_large);
  // A body that fits, in an envelope that (with its signature) does not.
  b.ciphertext.resize(max_envelope_bytes - 200);
  auto body_bytes = encode_body(b);
  ASSERT_OK(body_bytes);
  EXPECT_EQ(error_of(encode_envelope(*body_bytes, signature{})).code, errc::message_too_large);
}

// -- envelope fields ----------------------------------------------------------

TEST(envelope, signature_of_wrong_length_is_refused) {
  auto body_bytes = encode_ok(sample_body());
  for (size_t size : {size_t{0}, size_t{1}, signature_size - 1, signature_size + 1}) {
    auto err = error_of(decode_envelope(raw_envelope(body_bytes, std::string(size, 's'))));
    EXPECT_EQ(err.code, errc::malformed) << size << " bytes: " << to_string(err);
    EXPECT_EQ(err.what, "envelope signature has " + std::to_string(size) + " bytes, must have 64");
  }
}

TEST(envelope, envelope_without_body_is_refused) {
  auto err = error_of(decode_envelope(raw_envelope({}, std::string(signature_size, 's'))));
  EXPECT_EQ(err.code, errc::malformed) << to_string(err);
  EXPECT_EQ(err.what, "envelope has no body");
}

// -- body fields --------------------------------------------------------------

TEST(envelope_body, sender_id_of_wrong_length_is_refused) {
  expect_wrong_length_refused("sender_id", node_id_size,
                              [](auto& m, std::string v) { m.set_sender_id(v); });
}

TEST(envelope_body, sender_sign_key_of_wrong_length_is_refused) {
  expect_wrong_length_refused("sender_sign_key", sign_key_size,
                              [](auto& m, std::string v) { m.set_sender_sign_key(v); });
}

TEST(envelope_body, sender_agree_key_of_wrong_length_is_refused) {
  expect_wrong_length_refused("sender_agree_key", agree_key_size,
                              [](auto& m, std::string v) { m.set_sender_agree_key(v); });
}

TEST(envelope_body, recipient_id_of_wrong_length_is_refused) {
  expect_wrong_length_refused("recipient_id", node_id_size,
                              [](auto& m, std::string v) { m.set_recipient_id(v); });
}

TEST(envelope_body, message_id_of_wrong_length_is_refused) {
  expect_wrong_length_refused("message_id", message_id_size,
                              [](auto& m, std::string v) { m.set_message_id(v); });
}

TEST(envelope_body, ephemeral_key_of_wrong_length_is_refused) {
  expect_wrong_length_refused("ephemeral_key", agree_key_size,
                              [](auto& m, std::string v) { m.set_ephemeral_key(v); });
}

TEST(envelope_body, nonce_of_wrong_length_is_refused) {
  expect_wrong_length_refused("nonce", nonce_size,
                              [](auto& m, std::string v) { m.set_nonce(v); });
}

TEST(envelope_body, missing_message_id_is_refused) {
  auto err = decode_changed([](future_test::envelope_body& m) { m.clear_message_id(); });
  EXPECT_EQ(err.code, errc::malformed) << to_string(err);
  EXPECT_EQ(err.what, "envelope body has no message_id");
}

TEST(envelope_body, all_zero_message_id_is_refused) {
  auto err = decode_changed(
    [](future_test::envelope_body& m) { m.set_message_id(std::string(message_id_size, '\0')); });
  EXPECT_EQ(err.code, errc::malformed) << to_string(err);
  EXPECT_EQ(err.what, "envelope body: message_id is all zero");
}

TEST(envelope_body, missing_payload_type_is_refused) {
  auto err = decode_changed([](future_test::envelope_body& m) { m.clear_type(); });
  EXPECT_EQ(err.code, errc::malformed) << to_string(err);
  EXPECT_EQ(err.what, "envelope body has no payload type");
}

TEST(envelope_body, ciphertext_shorter_than_its_tag_is_refused) {
  auto err = decode_changed(
    [](future_test::envelope_body& m) { m.set_ciphertext(std::string(aead_tag_size - 1, 'c')); });
  EXPECT_EQ(err.code, errc::malformed) << to_string(err);
  auto ok = decode_changed(
    [](future_test::envelope_body& m) { m.set_ciphertext(std::string(aead_tag_size, 'c')); });
  EXPECT_OK(ok);
}

TEST(envelope_body, unknown_payload_type_decodes_and_is_reported_unknown) {
  auto b = sample_body();
  b.type = static_cast<payload_type>(4242);
  auto body_bytes = encode_ok(b);
  auto dec = decode_body(body_bytes);
  ASSERT_OK(dec);
  EXPECT_EQ(static_cast<int>(dec->type), 4242);
  EXPECT_FALSE(dec->known_type());
}

TEST(envelope_body, every_known_payload_type_is_reported_known) {
  for (auto t : {PAYLOAD_TYPE_CONNECT_REQUEST, PAYLOAD_TYPE_HOLE_PUNCH_REQUEST,
                 PAYLOAD_TYPE_RELAY_OFFER, PAYLOAD_TYPE_ADDRESS_REQUEST,
                 PAYLOAD_TYPE_ADDRESS_REPLY}) {
    auto b = sample_body();
    b.type = t;
    auto dec = decode_body(encode_ok(b));
    ASSERT_OK(dec);
    EXPECT_EQ(dec->type, t);
    EXPECT_TRUE(dec->known_type());
  }
}

TEST(envelope_body, encoder_refuses_a_body_the_reader_would_refuse) {
  auto b = sample_body();
  b.type = PAYLOAD_TYPE_UNSPECIFIED;
  EXPECT_EQ(error_of(encode_body(b)).code, errc::malformed);
  b = sample_body();
  b.message_id = {};
  EXPECT_EQ(error_of(encode_body(b)).code, errc::malformed);
  b = sample_body();
  b.ciphertext.resize(aead_tag_size - 1);
  EXPECT_EQ(error_of(encode_body(b)).code, errc::malformed);
}

TEST(envelope_body, oversized_body_is_refused_before_parsing) {
  bytes big(max_envelope_bytes + 1, 0xff);
  EXPECT_EQ(error_of(decode_body(big)).code, errc::message_too_large);
  auto body_bytes = encode_ok(sample_body());
  EXPECT_EQ(error_of(decode_body(body_bytes, body_bytes.size() - 1)).code,
            errc::message_too_large);
}

TEST(envelope_body, garbage_is_refused_as_malformed) {
  auto err = error_of(decode_body(bytes{0xff, 0xff, 0xff, 0xff}));
  EXPECT_EQ(err.code, errc::malformed) << to_string(err);
  EXPECT_EQ(err.what, "4 bytes do not parse as p2pd.wire.envelope_body (garbage or truncated)");
}
