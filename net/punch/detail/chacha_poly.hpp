#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "p2pd/net/crypto/identity.hpp"

// OpenSSL's name for EVP_CIPHER_CTX, declared so that this header does not
// pull in <openssl/evp.h>.
struct evp_cipher_ctx_st;

namespace p2pd::net::detail {

/// ChaCha20-Poly1305 (RFC 8439) with one key, for many messages: the
/// context is set up with the key once and each message gives only its
/// nonce. One direction: seal or open, never both.
class chacha_poly {
public:
  static constexpr size_t tag_size = 16;

  /// Sets up for `key`; ready() says whether OpenSSL took it.
  chacha_poly(const std::array<uint8_t, 32>& key, bool seal);
  ~chacha_poly();
  chacha_poly(const chacha_poly&) = delete;
  chacha_poly& operator=(const chacha_poly&) = delete;

  /// False when the constructor could not set up OpenSSL.
  bool ready() const { return ctx_ != nullptr; }

  /// Encrypts `plain` into `out` (plain.size() bytes, then the tag), with
  /// `aad` authenticated too. `out` may not overlap `plain`.
  bool seal(const std::array<uint8_t, 12>& nonce, byte_view aad, byte_view plain, uint8_t* out);

  /// Decrypts `sealed` (ciphertext, then the tag) into `out`
  /// (sealed.size() - tag_size bytes) if it and `aad` are authentic; on
  /// failure `out` is cleared, so no unauthenticated byte escapes.
  bool open(const std::array<uint8_t, 12>& nonce, byte_view aad, byte_view sealed,
            uint8_t* out);

private:
  struct ctx_free {
    void operator()(evp_cipher_ctx_st* p) const;
  };
  std::unique_ptr<evp_cipher_ctx_st, ctx_free> ctx_;
};

/// A frame's nonce: a 32-bit constant, then the 64-bit counter, both
/// big-endian (RFC 8439's constant || IV layout).
std::array<uint8_t, 12> frame_nonce(uint32_t constant, uint64_t counter);

} // namespace p2pd::net::detail
