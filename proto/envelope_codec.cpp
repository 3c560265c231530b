#include "p2pd/proto/envelope_codec.hpp"

#include <algorithm>
#include <climits>
#include <string>

#include <google/protobuf/stubs/logging.h>

#include "p2pd/proto/envelope.pb.h"

namespace p2pd::wire {

using net::errc;

namespace {

std::string as_string(const uint8_t* data, size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

template <size_t N>
std::string as_string(const std::array<uint8_t, N>& x) {
  return as_string(x.data(), x.size());
}

template <size_t N>
bool all_zero(const std::array<uint8_t, N>& x) {
  return std::all_of(x.begin(), x.end(), [](uint8_t b) { return b == 0; });
}

// The limit comes first so that an oversized input costs no parsing; the int
// check because protobuf takes sizes as int.
error check_size(size_t size, size_t max_bytes, const std::string& what) {
  if (size > max_bytes || size > static_cast<size_t>(INT_MAX))
    return error{errc::message_too_large, what + " of " + std::to_string(size)
                                            + " bytes exceeds the limit of "
                                            + std::to_string(max_bytes) + " bytes"};
  return {};
}

// Copies a fixed-size field, refusing any other length; an empty field is
// reported as missing since that is what proto3 makes of an unset one.
template <size_t N>
error take_fixed(const std::string& field, const char* name, std::array<uint8_t, N>& out) {
  if (field.empty())
    return error{errc::malformed, std::string{"envelope body has no "} + name};
  if (field.size() != N)
    return error{errc::malformed, std::string{"envelope body: "} + name + " has "
                                    + std::to_string(field.size()) + " bytes, must have "
                                    + std::to_string(N)};
  std::copy(field.begin(), field.end(), out.begin());
  return {};
}

// The rules a writer and a reader share, so that we never send what we
// would refuse.
error check_body(const body& b) {
  if (b.type == PAYLOAD_TYPE_UNSPECIFIED)
    return error{errc::malformed, "envelope body has no payload type"};
  if (all_zero(b.message_id))
    return error{errc::malformed, "envelope body: message_id is all zero"};
  if (b.ciphertext.size() < aead_tag_size)
    return error{errc::malformed, "envelope body: ciphertext has "
                                    + std::to_string(b.ciphertext.size())
                                    + " bytes, less than its " + std::to_string(aead_tag_size)
                                    + "-byte tag"};
  return {};
}

error check_versions(uint32_t version, uint32_t min_version, errc code) {
  if (version == 0)
    return error{code, "envelope has no version"};
  if (min_version == 0)
    return error{code, "envelope has no min_version"};
  if (min_version > version)
    return error{code, "envelope min_version " + std::to_string(min_version)
                         + " is above its version " + std::to_string(version)};
  return {};
}

} // namespace

namespace detail {

bytes serialize(const google::protobuf::MessageLite& msg) {
  bytes out(msg.ByteSizeLong());
  if (!out.empty())
    msg.SerializeWithCachedSizesToArray(out.data());
  return out;
}

error parse(google::protobuf::MessageLite& out, const uint8_t* data, size_t size,
            size_t max_bytes) {
  if (auto err = check_size(size, max_bytes, out.GetTypeName()))
    return err;
  // libprotobuf logs each string field that is not UTF-8 as it refuses it:
  // untrusted bytes must not make us write a line each (the refusal is the
  // error returned). The silencer is process-wide while it lives, which is
  // this one parse.
  google::protobuf::LogSilencer quiet;
  if (!out.ParseFromArray(data, static_cast<int>(size)))
    return error{errc::malformed, std::to_string(size) + " bytes do not parse as "
                                    + out.GetTypeName() + " (garbage or truncated)"};
  return {};
}

} // namespace detail

result<bytes> encode_body(const body& b, size_t max_bytes) {
  if (auto err = check_body(b))
    return err;
  envelope_body msg;
  msg.set_sender_id(as_string(b.sender_id));
  msg.set_sender_sign_key(as_string(b.sender_sign_key));
  msg.set_sender_agree_key(as_string(b.sender_agree_key));
  msg.set_recipient_id(as_string(b.recipient_id));
  msg.set_message_id(as_string(b.message_id));
  msg.set_timestamp_ms(b.timestamp_ms);
  msg.set_ttl_ms(b.ttl_ms);
  msg.set_type(b.type);
  msg.set_ephemeral_key(as_string(b.ephemeral_key));
  msg.set_nonce(as_string(b.nonce));
  msg.set_ciphertext(as_string(b.ciphertext.data(), b.ciphertext.size()));
  auto out = detail::serialize(msg);
  if (auto err = check_size(out.size(), max_bytes, "envelope body"))
    return err;
  return out;
}

bytes signed_bytes(uint32_t version, uint32_t min_version, const sign_key& key,
                   const bytes& body_bytes) {
  bytes out;
  out.reserve(8 + key.size() + body_bytes.size());
  for (auto v : {version, min_version})
    for (int shift = 24; shift >= 0; shift -= 8)
      out.push_back(static_cast<uint8_t>(v >> shift));
  out.insert(out.end(), key.begin(), key.end());
  out.insert(out.end(), body_bytes.begin(), body_bytes.end());
  return out;
}

result<bytes> encode_envelope(const bytes& body_bytes, const signature& sig, uint32_t version,
                              uint32_t min_version, size_t max_bytes) {
  if (auto err = check_versions(version, min_version, errc::invalid_argument))
    return err;
  if (body_bytes.empty())
    return error{errc::invalid_argument, "envelope without a body"};
  auto b = decode_body(body_bytes, max_bytes);
  if (!b)
    return error{errc::invalid_argument, "envelope around a body that does not decode: "
                                           + b.error().what};
  envelope msg;
  msg.set_sender_sign_key(as_string(b->sender_sign_key));
  msg.set_version(version);
  msg.set_min_version(min_version);
  msg.set_signed_body(as_string(body_bytes.data(), body_bytes.size()));
  msg.set_signature(as_string(sig));
  auto out = detail::serialize(msg);
  if (auto err = check_size(out.size(), max_bytes, "envelope"))
    return err;
  return out;
}

result<bytes> encode_envelope(const envelope_parts& parts, size_t max_bytes) {
  auto body_bytes = encode_body(parts.body, max_bytes);
  if (!body_bytes)
    return body_bytes.error();
  return encode_envelope(*body_bytes, parts.signature, parts.version, parts.min_version,
                         max_bytes);
}

result<decoded_envelope> decode_envelope(const uint8_t* data, size_t size, size_t max_bytes) {
  envelope msg;
  if (auto err = detail::parse(msg, data, size, max_bytes))
    return err;
  if (auto err = check_versions(msg.version(), msg.min_version(), errc::malformed))
    return err;
  if (msg.min_version() > current_version)
    return error{errc::unsupported_version,
                 "envelope needs reader version " + std::to_string(msg.min_version())
                   + ", this is version " + std::to_string(current_version)};
  if (msg.version() < oldest_accepted_version)
    return error{errc::unsupported_version,
                 "envelope version " + std::to_string(msg.version())
                   + " is no longer accepted: its signature does not cover its version "
                     "fields (this reader accepts version "
                   + std::to_string(oldest_accepted_version) + " and later)"};
  if (msg.signed_body().empty())
    return error{errc::malformed, "envelope has no body"};
  if (msg.sender_sign_key().size() != sign_key_size)
    return error{errc::malformed, "envelope signing key has "
                                    + std::to_string(msg.sender_sign_key().size())
                                    + " bytes, must have " + std::to_string(sign_key_size)};
  if (msg.signature().size() != signature_size)
    return error{errc::malformed, "envelope signature has " + std::to_string(msg.signature().size())
                                    + " bytes, must have " + std::to_string(signature_size)};
  decoded_envelope out;
  out.version = msg.version();
  out.min_version = msg.min_version();
  std::copy(msg.sender_sign_key().begin(), msg.sender_sign_key().end(), out.sign_key.begin());
  const auto& sb = msg.signed_body();
  out.body_bytes.assign(sb.begin(), sb.end());
  std::copy(msg.signature().begin(), msg.signature().end(), out.signature.begin());
  return out;
}

result<decoded_envelope> decode_envelope(const bytes& data, size_t max_bytes) {
  return decode_envelope(data.data(), data.size(), max_bytes);
}

result<body> decode_body(const bytes& body_bytes, size_t max_bytes) {
  envelope_body msg;
  if (auto err = detail::parse(msg, body_bytes.data(), body_bytes.size(), max_bytes))
    return err;
  body out;
  // The message id first: "no message_id" says more than a length complaint.
  if (auto err = take_fixed(msg.message_id(), "message_id", out.message_id))
    return err;
  if (auto err = take_fixed(msg.sender_id(), "sender_id", out.sender_id))
    return err;
  if (auto err = take_fixed(msg.sender_sign_key(), "sender_sign_key", out.sender_sign_key))
    return err;
  if (auto err = take_fixed(msg.sender_agree_key(), "sender_agree_key", out.sender_agree_key))
    return err;
  if (auto err = take_fixed(msg.recipient_id(), "recipient_id", out.recipient_id))
    return err;
  if (auto err = take_fixed(msg.ephemeral_key(), "ephemeral_key", out.ephemeral_key))
    return err;
  if (auto err = take_fixed(msg.nonce(), "nonce", out.nonce))
    return err;
  out.timestamp_ms = msg.timestamp_ms();
  out.ttl_ms = msg.ttl_ms();
  out.type = msg.type();
  out.ciphertext.assign(msg.ciphertext().begin(), msg.ciphertext().end());
  if (auto err = check_body(out))
    return err;
  return out;
}

} // namespace p2pd::wire
