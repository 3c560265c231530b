#pragma once

#include <cstddef>
#include <cstdint>

#include "p2pd/net/crypto/identity.hpp"

namespace p2pd::net::detail {

/// HKDF-SHA256 (RFC 5869), extract and expand in one: `out_size` bytes
/// from `ikm`, `salt` and `info` into `out`. An empty salt is left out
/// rather than passed empty (OpenSSL 3.0 fails on a zero-length salt
/// parameter without saying why); RFC 5869 then uses a salt of zeros, the
/// same thing. False when OpenSSL refuses (its error queue says why).
bool hkdf_sha256(byte_view ikm, byte_view salt, byte_view info, uint8_t* out, size_t out_size);

} // namespace p2pd::net::detail
