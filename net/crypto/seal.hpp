#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "p2pd/net/error.hpp"
#include "p2pd/net/crypto/identity.hpp"

// Public-key encryption to a node's X25519 key (an ECIES / HPKE-base style
// construction):
//
//   e, E   = fresh X25519 key pair, one per message
//   shared = X25519(e, recipient)                  (all zero: refused)
//   key    = HKDF-SHA256(ikm = shared, salt = E || recipient,
//                        info = "p2pd seal v1", 32 bytes)
//   ct     = ChaCha20-Poly1305(key, nonce = 12 random bytes, aad) (tag appended)
//
// The fresh ephemeral key makes every message's key new, so the random nonce
// only guards against a broken random generator repeating an ephemeral key.
// Binding both public keys into the salt ties the key to this exchange: the
// same shared secret reached with other public keys gives another key.
//
// The sender is anonymous: a sealed message says nothing about who sent it.
// Sign the plaintext (identity::sign) or put the sender in the associated data
// and sign that when the recipient must know. A sealed message can be replayed
// as it is; net/replay_guard.hpp is for that.

namespace p2pd::net {

/// A sealed message. Its wire form is the caller's choice; the three fields
/// are all a recipient needs besides its identity and the associated data.
struct sealed {
  std::array<uint8_t, 32> ephemeral{}; ///< the sender's one-time X25519 public key
  std::array<uint8_t, 12> nonce{};     ///< ChaCha20-Poly1305 nonce
  std::vector<uint8_t> ciphertext;     ///< the encrypted plaintext, then the 16-byte tag
};

/// Size of the authentication tag at the end of sealed::ciphertext.
inline constexpr size_t seal_tag_size = 16;

/// Encrypts `plaintext` so that only the holder of the private key of
/// `recipient_agree_key` (public_keys::agree) can read it, authenticating
/// `aad` too (sent separately, e.g. a header; open() needs the same bytes).
/// Errors: errc::crypto_failed for a recipient key of small order (no secret
/// can be agreed with it) or an OpenSSL failure, errc::message_too_large for a
/// plaintext or aad beyond what OpenSSL takes in one call (2 GiB).
result<sealed> seal(const std::array<uint8_t, 32>& recipient_agree_key, byte_view plaintext,
                    byte_view aad = {});

/// Decrypts a message sealed to `me`, checking that neither it nor `aad` was
/// changed. Fails with errc::crypto_failed, "cannot decrypt: authentication
/// failed", for every reason a message may not be opened: another recipient,
/// a changed bit anywhere, other aad, a ciphertext shorter than the tag, an
/// ephemeral key of small order. One message for all of them, so the answer
/// tells a prober nothing.
result<std::vector<uint8_t>> open(const identity& me, const sealed& box, byte_view aad = {});

} // namespace p2pd::net
