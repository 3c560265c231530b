#pragma once

#include <algorithm>
#include <cstdint>
#include <string>

#include <gtest/gtest.h>

#include "p2pd/proto/envelope_codec.hpp"
#include "p2pd/tests/proto/envelope_future_test.pb.h"

// Shared by the proto tests: sample values, a stand-in for the signature
// (the codec does no crypto, the tests only need bytes that depend on every
// signed byte) and raw protobuf writers for what no generated class writes.

namespace p2pd::wire::test {

template <size_t N>
std::array<uint8_t, N> filled(uint8_t first) {
  std::array<uint8_t, N> out{};
  for (size_t i = 0; i < N; ++i)
    out[i] = static_cast<uint8_t>(first + i);
  return out;
}

/// A body with every field set to a distinct value.
inline body sample_body() {
  body b;
  b.sender_id = filled<node_id_size>(0x10);
  b.sender_sign_key = filled<sign_key_size>(0x30);
  b.sender_agree_key = filled<agree_key_size>(0x50);
  b.recipient_id = filled<node_id_size>(0x70);
  b.message_id = filled<message_id_size>(0x90);
  b.timestamp_ms = 1'732'000'000'123;
  b.ttl_ms = 30'000;
  b.type = PAYLOAD_TYPE_HOLE_PUNCH_REQUEST;
  b.ephemeral_key = filled<agree_key_size>(0xa0);
  b.nonce = filled<nonce_size>(0xc0);
  b.ciphertext.assign(40, 0xee);
  return b;
}

/// Not a signature: 64 bytes that change with any byte of `data`, so a test
/// can tell whether the bytes a receiver verifies are the bytes that were signed.
inline signature fake_sign(const bytes& data) {
  signature out{};
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < out.size(); ++i) {
    for (auto b : data) {
      h ^= b + i;
      h *= 1099511628211ull;
    }
    out[i] = static_cast<uint8_t>(h >> 56);
  }
  return out;
}

inline bool fake_verify(const bytes& data, const signature& sig) {
  return fake_sign(data) == sig;
}

inline bytes to_bytes(const std::string& s) {
  return bytes(s.begin(), s.end());
}

template <size_t N>
std::string to_string(const std::array<uint8_t, N>& x) {
  return std::string(x.begin(), x.end());
}

/// `b` as the "version 3" body message, to change or add fields freely.
inline future_test::envelope_body as_future(const body& b) {
  future_test::envelope_body m;
  m.set_sender_id(to_string(b.sender_id));
  m.set_sender_sign_key(to_string(b.sender_sign_key));
  m.set_sender_agree_key(to_string(b.sender_agree_key));
  m.set_recipient_id(to_string(b.recipient_id));
  m.set_message_id(to_string(b.message_id));
  m.set_timestamp_ms(b.timestamp_ms);
  m.set_ttl_ms(b.ttl_ms);
  m.set_type(static_cast<uint32_t>(b.type));
  m.set_ephemeral_key(to_string(b.ephemeral_key));
  m.set_nonce(to_string(b.nonce));
  m.set_ciphertext(std::string(b.ciphertext.begin(), b.ciphertext.end()));
  return m;
}

/// An envelope around `body_bytes` with the given fields, written by the
/// "version 3" class so that the codec's own checks do not stand in the way.
inline bytes raw_envelope(const bytes& body_bytes, const std::string& sig, uint32_t version = 2,
                          uint32_t min_version = 2,
                          const std::string& sign_key = std::string(32, 'k')) {
  future_test::envelope e;
  e.set_version(version);
  e.set_min_version(min_version);
  e.set_signed_body(std::string(body_bytes.begin(), body_bytes.end()));
  e.set_signature(sig);
  e.set_sender_sign_key(sign_key);
  return to_bytes(e.SerializeAsString());
}

// Raw protobuf encoding (https://protobuf.dev/programming-guides/encoding/).
enum wire_type : uint32_t { varint = 0, fixed64 = 1, length_delimited = 2, fixed32 = 5 };

inline void put_varint(bytes& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<uint8_t>(v));
}

inline void put_tag(bytes& out, uint32_t field, wire_type type) {
  put_varint(out, (uint64_t{field} << 3) | type);
}

/// Fields no version of the format defines, one of each wire type.
inline void put_unknown_fields(bytes& out) {
  put_tag(out, 99, varint);
  put_varint(out, 123456789);
  put_tag(out, 1000, length_delimited);
  put_varint(out, 5);
  out.insert(out.end(), {'h', 'e', 'l', 'l', 'o'});
  put_tag(out, 4321, fixed32);
  out.insert(out.end(), {1, 2, 3, 4});
  put_tag(out, 536'870'911, fixed64); // the highest field number
  out.insert(out.end(), {1, 2, 3, 4, 5, 6, 7, 8});
}

inline void expect_same(const body& x, const body& y) {
  EXPECT_EQ(x.sender_id, y.sender_id);
  EXPECT_EQ(x.sender_sign_key, y.sender_sign_key);
  EXPECT_EQ(x.sender_agree_key, y.sender_agree_key);
  EXPECT_EQ(x.recipient_id, y.recipient_id);
  EXPECT_EQ(x.message_id, y.message_id);
  EXPECT_EQ(x.timestamp_ms, y.timestamp_ms);
  EXPECT_EQ(x.ttl_ms, y.ttl_ms);
  EXPECT_EQ(x.type, y.type);
  EXPECT_EQ(x.ephemeral_key, y.ephemeral_key);
  EXPECT_EQ(x.nonce, y.nonce);
  EXPECT_EQ(x.ciphertext, y.ciphertext);
}

} // namespace p2pd::wire::test
