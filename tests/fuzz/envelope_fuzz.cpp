// Fuzz target for the envelope codec: any bytes decode or are refused with a
// message; what decodes re-encodes to the same envelope, and a body that
// decodes re-encodes to bytes that decode to the same body.

#include <cstring>

#include "fuzz_main.hpp"
#include "p2pd/proto/envelope.pb.h"
#include "p2pd/proto/secure_envelope.hpp"

using namespace p2pd::wire;

namespace {

void check(bool ok, const char* what) {
  if (!ok)
    p2pd::fuzz::broken("envelope_fuzz", what);
}

bool same_body(const body& x, const body& y) {
  return x.sender_id == y.sender_id && x.sender_sign_key == y.sender_sign_key
         && x.sender_agree_key == y.sender_agree_key && x.recipient_id == y.recipient_id
         && x.message_id == y.message_id && x.timestamp_ms == y.timestamp_ms
         && x.ttl_ms == y.ttl_ms && x.type == y.type && x.ephemeral_key == y.ephemeral_key
         && x.nonce == y.nonce && x.ciphertext == y.ciphertext;
}

// An envelope as a sender that does not use our encoder may write it.
bytes raw_envelope(uint32_t version, uint32_t min_version, const bytes& body_bytes,
                   size_t sig_size, size_t key_size) {
  envelope e;
  e.set_version(version);
  e.set_min_version(min_version);
  e.set_signed_body(body_bytes.data(), body_bytes.size());
  e.set_signature(std::string(sig_size, '\x11'));
  e.set_sender_sign_key(std::string(key_size, '\x22'));
  return p2pd::wire::detail::serialize(e);
}

// Malformed seeds, one per refusal decode_envelope() documents, each built
// from a valid envelope so that the fuzzer starts next to the check.
void write_malformed_seeds(const std::string& dir, const bytes& sealed) {
  auto dec = decode_envelope(sealed);
  if (!dec)
    p2pd::fuzz::broken("envelope_fuzz", "a seed does not decode");
  auto& b = dec->body_bytes;
  auto put = [&](const std::string& name, const bytes& x) {
    p2pd::fuzz::write_seed(dir, "bad_" + name + ".bin", x);
  };
  put("truncated", bytes(sealed.begin(), sealed.begin() + sealed.size() / 2));
  put("newer_reader", raw_envelope(3, 3, b, signature_size, sign_key_size));
  put("old_version", raw_envelope(1, 1, b, signature_size, sign_key_size));
  put("min_above_version", raw_envelope(2, 3, b, signature_size, sign_key_size));
  put("short_signature", raw_envelope(2, 2, b, signature_size - 1, sign_key_size));
  put("long_key", raw_envelope(2, 2, b, signature_size, sign_key_size + 1));
  put("no_body", raw_envelope(2, 2, {}, signature_size, sign_key_size));
  // A body that is not one: the envelope decodes, decode_body refuses it.
  put("garbage_body", raw_envelope(2, 2, {0x0a, 0xff, 0x01}, signature_size, sign_key_size));
}

// Seeds: sealed envelopes of each payload type (fresh keys: this target does
// not verify), and malformed ones.
void write_seeds(const std::string& dir) {
  auto a = p2pd::net::identity::generate();
  auto b = p2pd::net::identity::generate();
  if (!a || !b)
    p2pd::fuzz::broken("envelope_fuzz", "cannot make identities");
  int n = 0;
  for (auto type : {PAYLOAD_TYPE_ADDRESS_REQUEST, PAYLOAD_TYPE_CONNECT_REQUEST,
                    PAYLOAD_TYPE_RELAY_OFFER}) {
    auto sealed = seal_envelope(*a, b->pub(), type, bytes(40, 0x5a), 1'800'000'000'000, 30000);
    if (!sealed)
      p2pd::fuzz::broken("envelope_fuzz", "cannot seal a seed");
    p2pd::fuzz::write_seed(dir, "sealed_" + std::to_string(n++) + ".bin", sealed->envelope);
    if (n == 1)
      write_malformed_seeds(dir, sealed->envelope);
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto env = decode_envelope(data, size);
  if (!env) {
    check(!env.error().what.empty(), "an error without a message");
    return 0;
  }
  check(env->min_version <= env->version, "min_version above version decoded");
  check(env->min_version <= current_version, "an envelope for a newer reader decoded");
  // The body is parsed on its own too (a receiver does so after verifying).
  auto b = decode_body(env->body_bytes);
  if (!b) {
    check(!b.error().what.empty(), "a body error without a message");
    return 0;
  }
  // A body may name another key than the envelope: decoding does not care,
  // the inbox refuses it after the signature (secure_envelope.cpp).
  auto again = encode_body(*b);
  check(again.has_value(), "a decoded body does not re-encode");
  auto b2 = decode_body(*again);
  check(b2.has_value(), "a re-encoded body does not decode");
  check(same_body(*b, *b2), "a body changed through re-encoding");
  auto wrapped = encode_envelope(env->body_bytes, env->signature, env->version, env->min_version);
  check(wrapped.has_value(), "a decoded envelope does not re-encode");
  auto env2 = decode_envelope(*wrapped);
  check(env2.has_value(), "a re-encoded envelope does not decode");
  check(env2->body_bytes == env->body_bytes && env2->signature == env->signature
          && env2->version == env->version && env2->min_version == env->min_version
          && env2->sign_key == b->sender_sign_key, // the encoder takes the body's key
        "an envelope changed through re-encoding");
  return 0;
}

P2PD_FUZZ_MAIN_WITH_SEEDS("envelope_fuzz", write_seeds)
