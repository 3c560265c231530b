// Fuzz target for the envelope codec: any bytes decode or are refused with a
// message; what decodes re-encodes to the same envelope, and a body that
// decodes re-encodes to bytes that decode to the same body.

#include <cstring>

#include "fuzz_main.hpp"
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

// Seeds: sealed envelopes of each payload type (fresh keys: this target does
// not verify), and one of each version pair the codec knows.
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
