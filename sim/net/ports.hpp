#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "p2pd/net/addr/address.hpp"
#include "p2pd/net/error.hpp"
#include "p2pd/net/util/splitmix64.hpp"

namespace p2pd::sim {

/// Linux's default ephemeral range (net.ipv4.ip_local_port_range).
constexpr uint16_t ephemeral_min = 32768;
constexpr uint16_t ephemeral_max = 60999;

/// Whether two local bindings claim the same port: one family, one port,
/// and the same address or the any address on either side.
inline bool bindings_overlap(const net::endpoint& x, const net::endpoint& y) {
  return x.port == y.port && x.fam() == y.fam() &&
         (x.ip.is_any() || y.ip.is_any() || x.ip == y.ip);
}

/// Hands out ephemeral ports: sequentially from a seeded start, skipping the
/// ones `in_use` says are taken; deterministic for a seed.
class ephemeral_ports {
public:
  explicit ephemeral_ports(uint64_t seed)
    : next_(static_cast<uint16_t>(net::splitmix64{seed}.between(ephemeral_min, ephemeral_max))) {}

  /// A free port, or nullopt when the whole range is taken.
  std::optional<uint16_t> pick(const std::function<bool(uint16_t)>& in_use) {
    for (uint32_t i = 0; i <= ephemeral_max - ephemeral_min; ++i) {
      const uint16_t p = next_;
      next_ = p == ephemeral_max ? ephemeral_min : static_cast<uint16_t>(p + 1);
      if (!in_use(p))
        return p;
    }
    return std::nullopt;
  }

  /// `local` with its port chosen when it is 0 (one that `in_use` says is
  /// free). `ours`: whether the address is the host's (any always is).
  /// Errors, as bind_failed with `what` ("bind", "listen", "connect") in
  /// the text: not the host's address (EADDRNOTAVAIL), the range is full.
  net::result<net::endpoint> resolve(net::endpoint local, bool ours, const char* what,
                                     const std::function<bool(const net::endpoint&)>& in_use) {
    if (!local.ip.is_any() && !ours)
      return net::error{net::errc::bind_failed, std::string{what} + " " + local.to_string() +
                                                  ": not an address of this host (EADDRNOTAVAIL)"};
    if (local.port != 0)
      return local;
    auto p = pick([&](uint16_t port) { return in_use(net::endpoint{local.ip, port}); });
    if (!p)
      return net::error{net::errc::bind_failed, std::string{what} + " " + local.to_string() +
                                                  ": no free ephemeral port (EADDRINUSE)"};
    local.port = *p;
    return local;
  }

private:
  uint16_t next_;
};

} // namespace p2pd::sim
