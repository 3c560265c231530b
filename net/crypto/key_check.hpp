#pragma once

#include <array>
#include <cstdint>

#include "p2pd/net/error.hpp"
#include "p2pd/net/crypto/identity.hpp"

// Public keys from outside are checked before they are trusted for anything.
//
// An Ed25519 key of small order (the identity, the points of order 2, 4 and
// 8) verifies signatures that anyone can make without a private key, so a
// node id derived from one could be spoken for by anyone. A key whose y is
// not reduced (y >= p) is a second spelling of another key, and would give
// the same key a second node id. X25519 keys of small order make every
// shared secret one of eight values known in advance. All are refused. The
// lists were computed on the curves (edwards25519 and curve25519) and match
// libsodium's.

namespace p2pd::net {

/// Refuses an Ed25519 public key of small order or not canonically encoded
/// (errc::forged, saying which).
error check_sign_key(const std::array<uint8_t, 32>& key);

/// Refuses an X25519 public key of small order or not canonically encoded
/// (errc::forged, saying which).
error check_agree_key(const std::array<uint8_t, 32>& key);

/// Both keys of a peer: the first refusal, naming the key.
error check_public_keys(const public_keys& keys);

} // namespace p2pd::net
