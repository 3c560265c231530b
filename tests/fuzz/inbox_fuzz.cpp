// Fuzz target for inbox::open, the whole receive path of a signalling
// message. The first byte picks what the rest is:
//   - even: an envelope as it came off the wire (what anyone can send; it
//     rarely gets past the signature, which is the point: nothing before
//     the signature may break on any bytes);
//   - odd: envelope body bytes, which the target signs with the sender's key
//     and wraps, so the checks after the signature (body fields, keys,
//     recipient, decryption, replay) see any body too.
// Every answer is an accepted message or a refusal with a message, and the
// inbox counts each exactly once. Keys and the clock are fixed, so a run is
// deterministic.
//
// `inbox_fuzz_corpus --seeds <dir>` writes seeds: sealed messages between the
// fixed identities, both as envelopes and as bodies.

#include <string>

#include "fuzz_main.hpp"
#include "p2pd/proto/secure_envelope.hpp"

using namespace p2pd;
using namespace p2pd::wire;

namespace {

constexpr int64_t now_ms = 1'800'000'000'000;

void check(bool ok, const char* what) {
  if (!ok)
    fuzz::broken("inbox_fuzz", what);
}

net::identity fixed_identity(uint8_t seed) {
  std::array<uint8_t, 32> sign{}, agree{};
  for (size_t i = 0; i < 32; ++i) {
    sign[i] = static_cast<uint8_t>(seed + i);
    agree[i] = static_cast<uint8_t>(seed * 3 + i);
  }
  auto id = net::identity::from_private_keys(sign, agree);
  if (!id)
    fuzz::broken("inbox_fuzz", "the fixed keys do not load");
  return std::move(*id);
}

const net::identity& sender() {
  static const auto id = fixed_identity(1);
  return id;
}

const net::identity& recipient() {
  static const auto id = fixed_identity(101);
  return id;
}

void write_seeds(const std::string& dir) {
  auto plain = encode_payload(address_request{});
  for (uint32_t ttl : {1000u, 30000u}) {
    auto sealed = seal_envelope(sender(), recipient().pub(), PAYLOAD_TYPE_ADDRESS_REQUEST, plain,
                                now_ms, ttl);
    if (!sealed)
      fuzz::broken("inbox_fuzz", "cannot seal a seed");
    auto env = sealed->envelope;
    auto name = "sealed_ttl" + std::to_string(ttl);
    std::vector<uint8_t> as_envelope{0};
    as_envelope.insert(as_envelope.end(), env.begin(), env.end());
    fuzz::write_seed(dir, name + "_envelope.bin", as_envelope);
    auto dec = decode_envelope(env);
    if (!dec)
      fuzz::broken("inbox_fuzz", "a seed does not decode");
    std::vector<uint8_t> as_body{1};
    as_body.insert(as_body.end(), dec->body_bytes.begin(), dec->body_bytes.end());
    fuzz::write_seed(dir, name + "_body.bin", as_body);
  }
  fuzz::write_seed(dir, "empty_envelope.bin", {0});
  fuzz::write_seed(dir, "empty_body.bin", {1});
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  bytes rest(data + 1, data + size);
  bytes env;
  if (data[0] % 2 == 0) {
    env = std::move(rest);
  } else {
    auto sig = sign_body(sender(), rest);
    auto wrapped = encode_envelope(rest, sig);
    if (!wrapped) { // bytes that are no body: the sender's own encoder refuses them
      check(!wrapped.error().what.empty(), "an encoder error without a message");
      return 0;
    }
    env = std::move(*wrapped);
  }
  inbox box{recipient()};
  auto r = box.open(net::byte_view{env.data(), env.size()}, now_ms);
  auto& c = box.counters();
  if (r) {
    check(c.accepted == 1 && c.refused() == 0, "an accepted message not counted once");
    check(r->sender == sender().id(), "accepted from another sender than the one that signed");
  } else {
    check(!r.error().what.empty(), "a refusal without a message");
    check(c.accepted == 0 && c.refused() == 1, "a refusal not counted once");
  }
  // The same envelope again: never accepted twice.
  if (r) {
    auto again = box.open(net::byte_view{env.data(), env.size()}, now_ms);
    check(!again, "a message accepted twice");
  }
  return 0;
}

P2PD_FUZZ_MAIN_WITH_SEEDS("inbox_fuzz", write_seeds)
