#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "p2pd/net/addr/address.hpp"

namespace p2pd::actors::turn_srv {

/// The TURN server's nonces, kept by nobody: a nonce carries its expiry and
/// an HMAC of it and the client's IP under a secret drawn at start, so that
/// the server checks one without remembering it and a flood of Allocates
/// costs no memory. Times are the caller's clock in ns (the actor clock).
class turn_nonces {
public:
  /// A fresh secret from OpenSSL's generator.
  turn_nonces();

  /// A nonce for `client` good until `expires_ns`.
  std::string mint(const net::ip_address& client, int64_t expires_ns) const;

  enum class verdict : uint8_t { ok, stale, forged };

  /// Whether `nonce` is one we gave `client` (forged otherwise) and is
  /// still good at `now_ns` (stale otherwise).
  verdict check(std::string_view nonce, const net::ip_address& client, int64_t now_ns) const;

private:
  std::string tag(const net::ip_address& client, uint64_t expires) const;

  std::array<uint8_t, 32> secret_{};
};

} // namespace p2pd::actors::turn_srv
