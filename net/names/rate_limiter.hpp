#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>

// Token buckets keyed by a client's address or key, with the time passed in
// (sans-IO: the server gives its actor clock, tests give numbers).

namespace p2pd::net::names {

/// A bucket per key: `burst` requests at once, refilled at `per_s` a
/// second. At most `max_keys` buckets: past that the least recently used is
/// forgotten (it starts full again), so that a flood of addresses costs
/// bounded memory.
class rate_limiter {
public:
  rate_limiter(double per_s, double burst, size_t max_keys = 65536);

  /// Takes a token from `key`'s bucket at `now_ms`: whether there was one.
  bool allow(const std::string& key, int64_t now_ms);

  /// Buckets held now.
  size_t size() const { return buckets_.size(); }

private:
  struct bucket {
    double tokens = 0;
    int64_t last_ms = 0;
  };

  void evict_oldest();

  double per_s_;
  double burst_;
  size_t max_keys_;
  std::unordered_map<std::string, bucket> buckets_;
};

} // namespace p2pd::net::names
