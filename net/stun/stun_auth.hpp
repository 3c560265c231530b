#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "p2pd/net/error.hpp"

// STUN message authentication (RFC 8489 §9, §14.5, §14.6, §14.7).
//
// Passwords go through SASLprep (RFC 4013) / OpaqueString (RFC 8265) before
// they become keys. For ASCII both are the identity, except that control
// characters are forbidden; non-ASCII text needs Unicode normalisation (NFKC)
// and mapping tables, which this codec does not carry. So the key functions
// accept printable ASCII passwords and refuse anything else with
// errc::invalid_argument: a caller with a non-ASCII password passes its
// prepared form (RFC 5769 §2.4's "The\u00adM\u00aatr\u2168" is "TheMatrIX").

namespace p2pd::net {

/// The HMAC key of MESSAGE-INTEGRITY and MESSAGE-INTEGRITY-SHA256.
struct stun_key {
  std::vector<uint8_t> bytes;

  /// Short-term credentials: the key is the password itself.
  static result<stun_key> short_term(std::string_view password);

  /// Long-term credentials: MD5(username ":" realm ":" password). Username and
  /// realm are used as given (UTF-8 bytes, as they appear in the message).
  static result<stun_key> long_term(std::string_view username, std::string_view realm,
                                    std::string_view password);
};

/// HMAC-SHA1 of `data` with `key` (MESSAGE-INTEGRITY).
std::array<uint8_t, 20> stun_hmac_sha1(const stun_key& key, const uint8_t* data, size_t size);

/// HMAC-SHA256 of `data` with `key` (MESSAGE-INTEGRITY-SHA256, first 16 to 32
/// bytes used).
std::array<uint8_t, 32> stun_hmac_sha256(const stun_key& key, const uint8_t* data, size_t size);

/// The FINGERPRINT value: CRC-32 (ISO 3309, as zlib) XOR 0x5354554e.
uint32_t stun_fingerprint(const uint8_t* data, size_t size);

/// Compares in time independent of where the first difference is, so that a
/// forger learns nothing from how fast a MESSAGE-INTEGRITY is refused.
bool stun_equal_ct(const uint8_t* a, const uint8_t* b, size_t size);

} // namespace p2pd::net
