#pragma once

#include <cstdint>
#include <functional>
#include <optional>

#include "p2pd/net/util/splitmix64.hpp"

namespace p2pd::sim {

/// Linux's default ephemeral range (net.ipv4.ip_local_port_range).
constexpr uint16_t ephemeral_min = 32768;
constexpr uint16_t ephemeral_max = 60999;

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

private:
  uint16_t next_;
};

} // namespace p2pd::sim
