#include "p2pd/proto/secure_envelope.hpp"

#include "p2pd/net/crypto/key_check.hpp"

#include <algorithm>
#include <string>

#include <openssl/rand.h>

#include "p2pd/net/crypto/seal.hpp"

namespace p2pd::wire {

using net::errc;

namespace {

template <size_t N>
uint8_t* put(uint8_t* out, const std::array<uint8_t, N>& x) {
  return std::copy(x.begin(), x.end(), out);
}

uint8_t* put_be(uint8_t* out, uint64_t x, size_t size) {
  for (size_t i = 0; i < size; ++i)
    out[i] = static_cast<uint8_t>(x >> (8 * (size - 1 - i)));
  return out + size;
}

std::string hex(const message_id& id) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (auto b : id) {
    out += digits[b >> 4];
    out += digits[b & 0x0f];
  }
  return out;
}

net::node_id as_node_id(const node_id& bytes) {
  net::node_id out;
  out.bytes = bytes;
  return out;
}

bool all_zero(const message_id& id) {
  return std::all_of(id.begin(), id.end(), [](uint8_t b) { return b == 0; });
}

} // namespace

std::array<uint8_t, envelope_aad_size> envelope_aad(const body& b) {
  std::array<uint8_t, envelope_aad_size> out{};
  uint8_t* p = std::copy(envelope_aad_label, envelope_aad_label + envelope_aad_label_size,
                         out.data());
  p = put(p, b.sender_id);
  p = put(p, b.recipient_id);
  p = put(p, b.message_id);
  p = put_be(p, static_cast<uint64_t>(b.timestamp_ms), 8);
  p = put_be(p, b.ttl_ms, 4);
  put_be(p, static_cast<uint32_t>(static_cast<int32_t>(b.type)), 4);
  return out;
}

result<sealed_message> seal_envelope(const net::identity& me, const net::public_keys& recipient,
                                     payload_type type, net::byte_view plaintext, int64_t now_ms,
                                     uint32_t ttl_ms, size_t max_bytes) {
  if (type == PAYLOAD_TYPE_UNSPECIFIED)
    return error{errc::invalid_argument, "cannot seal an envelope without a payload type"};
  if (auto err = net::check_public_keys(recipient))
    return error{errc::invalid_argument, "cannot seal to these keys: " + err.what};
  // Checked before any cryptography: the envelope can only be larger.
  if (plaintext.size() > max_bytes)
    return error{errc::message_too_large,
                 "payload of " + std::to_string(plaintext.size()) + " bytes exceeds the limit of "
                   + std::to_string(max_bytes) + " bytes"};
  body b;
  auto pub = me.pub();
  b.sender_id = me.id().bytes;
  b.sender_sign_key = pub.sign;
  b.sender_agree_key = pub.agree;
  b.recipient_id = net::node_id::of(recipient).bytes;
  // All zero is what the reader refuses as "no id"; redraw rather than fail.
  do {
    if (RAND_bytes(b.message_id.data(), static_cast<int>(b.message_id.size())) != 1)
      return error{errc::crypto_failed, "cannot choose a message id: the random generator failed"};
  } while (all_zero(b.message_id));
  b.timestamp_ms = now_ms;
  b.ttl_ms = ttl_ms;
  b.type = type;
  auto aad = envelope_aad(b);
  auto box = net::seal(recipient.agree, plaintext, aad);
  if (!box)
    return box.error();
  b.ephemeral_key = box->ephemeral;
  b.nonce = box->nonce;
  b.ciphertext = std::move(box->ciphertext);
  auto body_bytes = encode_body(b, max_bytes);
  if (!body_bytes)
    return body_bytes.error();
  auto env = encode_envelope(*body_bytes, sign_body(me, *body_bytes), current_version,
                             oldest_reader_version, max_bytes);
  if (!env)
    return env.error();
  return sealed_message{std::move(*env), b.message_id};
}

signature sign_body(const net::identity& me, const bytes& body_bytes, uint32_t version,
                    uint32_t min_version) {
  return me.sign(net::sign_purpose::envelope,
                 signed_bytes(version, min_version, me.pub().sign, body_bytes));
}

inbox::inbox(const net::identity& me, const net::replay_config& replay, size_t max_bytes)
  : me_(me), id_(me.id()), guard_(replay), max_bytes_(max_bytes) {}

result<opened_message> inbox::open(net::byte_view envelope, int64_t now_ms) {
  auto refuse = [](uint64_t& counter, error err) {
    ++counter;
    return err;
  };
  // 1. Size, before any parsing.
  if (envelope.size() > max_bytes_)
    return refuse(counters_.too_large,
                  error{errc::message_too_large,
                        "envelope of " + std::to_string(envelope.size())
                          + " bytes exceeds the limit of " + std::to_string(max_bytes_)
                          + " bytes"});
  // 2. The envelope and its version.
  auto dec = decode_envelope(envelope.data(), envelope.size(), max_bytes_);
  if (!dec) {
    switch (dec.error().code) {
      case errc::message_too_large: return refuse(counters_.too_large, dec.error());
      case errc::unsupported_version: return refuse(counters_.unsupported_version, dec.error());
      default: return refuse(counters_.malformed, dec.error());
    }
  }
  // 3. The signing key, before it vouches for anything: a small-order key
  // verifies signatures anyone can make.
  if (auto err = net::check_sign_key(dec->sign_key))
    return refuse(counters_.wrong_sender_key, error{errc::forged, "envelope with a weak "
                                                                  "signing key: " + err.what});
  // 4. The signature, over everything the receiver acts on, before a byte of
  // the body is parsed.
  if (!net::verify(net::sign_purpose::envelope, dec->sign_key,
                   signed_bytes(dec->version, dec->min_version, dec->sign_key, dec->body_bytes),
                   dec->signature))
    return refuse(counters_.bad_signature,
                  error{errc::forged, "forged: bad signature on an envelope"});
  // 5. The body, now known to be what the key's holder wrote.
  auto b = decode_body(dec->body_bytes, max_bytes_);
  if (!b)
    return refuse(counters_.malformed, b.error());
  // 6. The keys are the claimed sender's: the body names the key that signed
  // it, and the id commits to both keys.
  auto sender = as_node_id(b->sender_id);
  net::public_keys keys{b->sender_sign_key, b->sender_agree_key};
  if (keys.sign != dec->sign_key)
    return refuse(counters_.wrong_sender_key,
                  error{errc::forged, "message claiming node " + sender.to_string()
                                        + " names another signing key than the one that "
                                          "signed it"});
  if (auto err = net::check_agree_key(keys.agree))
    return refuse(counters_.wrong_sender_key,
                  error{errc::forged, "message claiming node " + sender.to_string()
                                        + " has a weak key: " + err.what});
  auto keys_id = net::node_id::of(keys);
  if (keys_id != sender)
    return refuse(counters_.wrong_sender_key,
                  error{errc::forged, "sender key does not belong to its id: message claims node "
                                        + sender.to_string() + ", its keys are node "
                                        + keys_id.to_string() + "'s"});
  // 7. Addressed to us.
  auto recipient = as_node_id(b->recipient_id);
  if (recipient != id_)
    return refuse(counters_.not_for_us,
                  error{errc::not_for_us, "message for node " + recipient.to_string()
                                            + ", this is node " + id_.to_string()});
  // 8. The payload, under the header it was sealed with. Before the replay
  // guard, which would remember the id of a message we then refuse.
  net::sealed box;
  box.ephemeral = b->ephemeral_key;
  box.nonce = b->nonce;
  box.ciphertext = std::move(b->ciphertext);
  auto plain = net::open(me_, box, envelope_aad(*b));
  if (!plain)
    return refuse(counters_.undecryptable,
                  error{errc::crypto_failed, "message " + hex(b->message_id) + " from node "
                                               + sender.to_string() + ": "
                                               + plain.error().what});
  // 9. Fresh and not seen before; accepting it remembers it.
  auto about = "message " + hex(b->message_id) + " from node " + sender.to_string();
  auto stamp = " stamped " + std::to_string(b->timestamp_ms) + " ms with ttl "
               + std::to_string(b->ttl_ms) + " ms, now is " + std::to_string(now_ms) + " ms";
  switch (guard_.check(sender, b->message_id, b->timestamp_ms, b->ttl_ms, now_ms)) {
    case net::replay_verdict::accepted: break;
    case net::replay_verdict::replayed:
      return refuse(counters_.replayed,
                    error{errc::replayed, "replayed: " + about + " was accepted before"});
    case net::replay_verdict::expired:
      return refuse(counters_.expired, error{errc::expired, "expired: " + about + stamp});
    case net::replay_verdict::from_future:
      return refuse(counters_.from_future,
                    error{errc::from_future,
                          "from the future: " + about + stamp + " (max clock skew "
                            + std::to_string(guard_.config().max_skew_ms) + " ms)"});
    case net::replay_verdict::too_old:
      return refuse(counters_.too_old,
                    error{errc::expired, "too old: " + about + stamp
                                           + "; it was stamped before this node started, or "
                                             "expires no later than messages the replay "
                                             "guard had to forget"});
  }
  ++counters_.accepted;
  opened_message out;
  out.sender = sender;
  out.sender_keys = keys;
  out.id = b->message_id;
  out.type = b->type;
  out.known_type = b->known_type();
  if (!out.known_type)
    ++counters_.unknown_type;
  out.timestamp_ms = b->timestamp_ms;
  out.ttl_ms = b->ttl_ms;
  out.plaintext = std::move(*plain);
  return out;
}

} // namespace p2pd::wire
