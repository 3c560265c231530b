#pragma once

#include <array>
#include <cstdint>
#include <memory>

#include "p2pd/net/crypto/identity.hpp"
#include "p2pd/net/error.hpp"

// The keys of one punched session (net/punch/datagram_seal.hpp). Each side
// makes a fresh X25519 key pair for the punch and sends its public half in
// the signed and sealed signalling payload, so only the peer node learns
// it; both then derive the same keys:
//
//   shared = X25519(own private, peer public)            (all zero: refused)
//   okm    = HKDF-SHA256(ikm  = shared,
//                        salt = initiator public || responder public,
//                        info = "p2pd udp punch v1"
//                               || u8 len || initiator node id
//                               || u8 len || responder node id
//                               || u64 request id (big-endian),
//                        68 bytes)
//   okm[0, 32)  initiator -> responder key
//   okm[32, 64) responder -> initiator key
//   okm[64, 68) session tag (big-endian u32), the same on both sides
//
// Keys are fresh per punch (forward secrecy: the node keys never encrypt a
// datagram), one per direction (a frame reflected back to its sender does
// not open), and bound to both nodes and the request, so that keys agreed
// for one punch cannot serve another.

namespace p2pd::net {

/// The keys of one session, as one side holds them: what it seals with,
/// what it opens with, and the tag both sides put in every frame. Wiped
/// when destroyed.
struct session_keys {
  std::array<uint8_t, 32> send{}; ///< seals what this side sends
  std::array<uint8_t, 32> recv{}; ///< opens what the peer sends
  uint32_t tag = 0;               ///< names the session in every frame

  session_keys() = default;
  session_keys(const session_keys&) = default;
  session_keys& operator=(const session_keys&) = default;
  ~session_keys();
};

/// A fresh X25519 key pair for one punch. Movable, not copyable: the
/// private key has one owner and is freed (and wiped by OpenSSL) with it.
class ephemeral_key {
public:
  /// A fresh random key pair.
  static result<ephemeral_key> generate();

  /// The key pair of a known private scalar (RFC 7748): for test vectors.
  /// errc::crypto_failed if OpenSSL refuses it.
  static result<ephemeral_key> from_private(const std::array<uint8_t, 32>& scalar);

  ephemeral_key(ephemeral_key&&) noexcept;
  ephemeral_key& operator=(ephemeral_key&&) noexcept;
  ephemeral_key(const ephemeral_key&) = delete;
  ephemeral_key& operator=(const ephemeral_key&) = delete;
  ~ephemeral_key();

  /// The public key (32 bytes, RFC 7748): what travels to the peer.
  const std::array<uint8_t, 32>& pub() const { return pub_; }

private:
  friend result<session_keys> derive_session(const ephemeral_key&,
                                             const std::array<uint8_t, 32>&, byte_view,
                                             byte_view, uint64_t, bool);
  struct pkey_free {
    void operator()(evp_pkey_st* p) const;
  };
  using pkey_ptr = std::unique_ptr<evp_pkey_st, pkey_free>;

  ephemeral_key(pkey_ptr key, const std::array<uint8_t, 32>& pub);
  // The key pair `key`, or `what` went wrong (key is null).
  static result<ephemeral_key> adopt(pkey_ptr key, const char* what);

  pkey_ptr key_;
  std::array<uint8_t, 32> pub_{};
};

/// This side's session keys, from its own key pair and the peer's public
/// key (see the top of this header). `initiator_id` and `responder_id` are
/// the two nodes' ids (node_id::bytes), the same on both sides;
/// `we_are_initiator` says which of them this side is. Errors:
/// errc::crypto_failed for a peer key of small order (the all-zero secret,
/// which anyone could compute) or an OpenSSL failure; errc::invalid_argument
/// when the peer's key is our own (a reflected key), or for an id longer
/// than 255 bytes.
result<session_keys> derive_session(const ephemeral_key& own,
                                    const std::array<uint8_t, 32>& peer_public,
                                    byte_view initiator_id, byte_view responder_id,
                                    uint64_t request_id, bool we_are_initiator);

} // namespace p2pd::net
