#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "p2pd/net/error.hpp"
#include "p2pd/proto/wire_limits.hpp"
#include "p2pd/proto/payloads.pb.h"

/// The checked codec of p2pd's signalling wire format (envelope.proto,
/// payloads.proto). It does no cryptography: the caller signs the bytes
/// encode_body() returns and verifies the bytes decode_envelope() returns.
///
/// Sending:   body -> encode_body() -> sign signed_bytes() -> encode_envelope(bytes, signature)
/// Receiving: decode_envelope() -> verify over signed_bytes() -> decode_body()
namespace p2pd::wire {

using net::error;
using net::result;

using bytes = std::vector<uint8_t>;
using node_id = std::array<uint8_t, node_id_size>;
using sign_key = std::array<uint8_t, sign_key_size>;
using agree_key = std::array<uint8_t, agree_key_size>;
using message_id = std::array<uint8_t, message_id_size>;
using nonce = std::array<uint8_t, nonce_size>;
using signature = std::array<uint8_t, signature_size>;

/// envelope_body as a plain struct: what the signature covers.
struct body {
  node_id sender_id{};
  sign_key sender_sign_key{};
  agree_key sender_agree_key{};
  node_id recipient_id{};
  /// Must not be all zero: it is how a receiver spots a replay.
  wire::message_id message_id{};
  int64_t timestamp_ms = 0;
  uint32_t ttl_ms = 0;
  /// May hold a value this build does not know (a newer sender); see known_type().
  payload_type type = PAYLOAD_TYPE_UNSPECIFIED;
  agree_key ephemeral_key{};
  wire::nonce nonce{};
  /// The encrypted payload with its tag: at least aead_tag_size bytes.
  bytes ciphertext;

  /// Whether this build knows `type`. An unknown type is not a decode error: a
  /// newer sender may use a payload this build has no handler for, and the
  /// receiver decides what to answer.
  bool known_type() const { return payload_type_IsValid(static_cast<int>(type)); }
};

/// Everything an envelope carries, for the one-step encode_envelope().
struct envelope_parts {
  uint32_t version = current_version;
  uint32_t min_version = oldest_reader_version;
  wire::body body;
  /// Over the bytes of encode_body(body). Serialization is deterministic for
  /// the same body within one build, so that is what this encoder writes.
  wire::signature signature{};
};

/// What decode_envelope() found: the body still as bytes, to verify first.
struct decoded_envelope {
  uint32_t version = 0;
  uint32_t min_version = 0;
  /// The key to verify with; the body must name the same one.
  wire::sign_key sign_key{};
  /// The signed_body field exactly as received: verify the signature over
  /// these bytes, then hand them to decode_body().
  bytes body_bytes;
  wire::signature signature{};
};

/// The bytes to sign: `b` serialized as an envelope_body.
/// Errors: errc::malformed for a body the reader would refuse (unspecified
/// type, all-zero message id, ciphertext shorter than its tag),
/// errc::message_too_large when the bytes exceed `max_bytes`.
result<bytes> encode_body(const body& b, size_t max_bytes = max_envelope_bytes);

/// The bytes a signature covers (to sign or verify under the envelope
/// purpose): version and min_version big-endian, the signing key, the body.
bytes signed_bytes(uint32_t version, uint32_t min_version, const sign_key& key,
                   const bytes& body_bytes);

/// The envelope around already signed body bytes, written as `version`
/// with `min_version`; the signing key is the one the body names (these are
/// the caller's own bytes, from encode_body()).
/// Errors: errc::invalid_argument for versions a reader would refuse (0, or
/// min_version > version) and for body bytes that do not decode,
/// errc::message_too_large beyond `max_bytes`.
result<bytes> encode_envelope(const bytes& body_bytes, const signature& sig,
                              uint32_t version = current_version,
                              uint32_t min_version = oldest_reader_version,
                              size_t max_bytes = max_envelope_bytes);

/// encode_body() and encode_envelope() in one step; `parts.signature` must be
/// over encode_body(parts.body).
result<bytes> encode_envelope(const envelope_parts& parts, size_t max_bytes = max_envelope_bytes);

/// Parses an envelope without touching its body.
/// Errors, checked in this order:
/// - errc::message_too_large: more than `max_bytes` (refused before parsing);
/// - errc::malformed: not an envelope (garbage, truncated), version or
///   min_version 0, min_version above version;
/// - errc::unsupported_version: min_version above current_version
///   ("envelope needs reader version 3, this is version 1"); checked before
///   the fields below, whose rules a future version may change;
/// - errc::unsupported_version: a version below oldest_accepted_version;
/// - errc::malformed: no body, a signature that is not signature_size bytes,
///   a signing key that is not sign_key_size bytes.
/// A newer version whose min_version we meet decodes; fields we do not know
/// are ignored.
result<decoded_envelope> decode_envelope(const uint8_t* data, size_t size,
                                         size_t max_bytes = max_envelope_bytes);
result<decoded_envelope> decode_envelope(const bytes& data, size_t max_bytes = max_envelope_bytes);

/// Parses body bytes (after their signature was verified).
/// Errors: errc::message_too_large beyond `max_bytes`; errc::malformed for
/// bytes that do not parse, a missing message id, an unspecified type, an
/// id, key, nonce or message id of the wrong length, or a ciphertext shorter
/// than its tag. Unknown fields are ignored; an unknown type is kept (see
/// body::known_type()).
result<body> decode_body(const bytes& body_bytes, size_t max_bytes = max_envelope_bytes);

/// The payload_type value of each payload message.
template <class T>
struct payload_traits;

template <>
struct payload_traits<connect_request> {
  static constexpr payload_type type = PAYLOAD_TYPE_CONNECT_REQUEST;
};
template <>
struct payload_traits<hole_punch_request> {
  static constexpr payload_type type = PAYLOAD_TYPE_HOLE_PUNCH_REQUEST;
};
template <>
struct payload_traits<relay_offer> {
  static constexpr payload_type type = PAYLOAD_TYPE_RELAY_OFFER;
};
template <>
struct payload_traits<address_request> {
  static constexpr payload_type type = PAYLOAD_TYPE_ADDRESS_REQUEST;
};
template <>
struct payload_traits<address_reply> {
  static constexpr payload_type type = PAYLOAD_TYPE_ADDRESS_REPLY;
};

/// The type to put in body::type for payload message T.
template <class T>
inline constexpr payload_type payload_type_of = payload_traits<T>::type;

namespace detail {

bytes serialize(const google::protobuf::MessageLite& msg);
/// Parses into `out` after checking the size limit; the error names out's type.
error parse(google::protobuf::MessageLite& out, const uint8_t* data, size_t size,
            size_t max_bytes);

} // namespace detail

/// A payload's plaintext bytes, to be encrypted into body::ciphertext.
template <class T, class = decltype(payload_traits<T>::type)>
bytes encode_payload(const T& payload) {
  return detail::serialize(payload);
}

/// Parses decrypted payload bytes as T. Errors: errc::message_too_large
/// beyond `max_bytes` (refused before parsing), errc::malformed for bytes
/// that do not parse. Unknown fields (a newer sender) are ignored.
template <class T, class = decltype(payload_traits<T>::type)>
result<T> decode_payload(const uint8_t* data, size_t size, size_t max_bytes = max_envelope_bytes) {
  T out;
  if (auto err = detail::parse(out, data, size, max_bytes))
    return err;
  return out;
}

template <class T, class = decltype(payload_traits<T>::type)>
result<T> decode_payload(const bytes& data, size_t max_bytes = max_envelope_bytes) {
  return decode_payload<T>(data.data(), data.size(), max_bytes);
}

} // namespace p2pd::wire
