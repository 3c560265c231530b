#include "p2pd/net/names/rate_limiter.hpp"

#include <algorithm>

namespace p2pd::net::names {

rate_limiter::rate_limiter(double per_s, double burst, size_t max_keys)
  : per_s_(per_s), burst_(burst), max_keys_(std::max<size_t>(max_keys, 1)) {
}

bool rate_limiter::allow(const std::string& key, int64_t now_ms) {
  auto i = buckets_.find(key);
  if (i == buckets_.end()) {
    if (buckets_.size() >= max_keys_)
      evict_oldest();
    i = buckets_.emplace(key, bucket{burst_, now_ms}).first;
  }
  auto& b = i->second;
  // A clock that went back refills nothing rather than a negative amount.
  auto elapsed = std::max<int64_t>(now_ms - b.last_ms, 0);
  b.tokens = std::min(burst_, b.tokens + static_cast<double>(elapsed) * per_s_ / 1000.0);
  b.last_ms = std::max(b.last_ms, now_ms);
  if (b.tokens < 1.0)
    return false;
  b.tokens -= 1.0;
  return true;
}

void rate_limiter::evict_oldest() {
  // A linear scan, only when the table is full: bounded by max_keys.
  auto oldest = std::min_element(buckets_.begin(), buckets_.end(), [](auto& x, auto& y) {
    return x.second.last_ms < y.second.last_ms;
  });
  if (oldest != buckets_.end())
    buckets_.erase(oldest);
}

} // namespace p2pd::net::names
