#include "p2pd/net/replay_guard.hpp"

#include <algorithm>
#include <limits>

namespace p2pd::net {

namespace {

constexpr int64_t int64_max = std::numeric_limits<int64_t>::max();

// x + d without overflow: timestamps come from the network and can be anything.
int64_t saturating_add(int64_t x, uint32_t d) {
  return x > int64_max - static_cast<int64_t>(d) ? int64_max : x + static_cast<int64_t>(d);
}

} // namespace

const char* to_string(replay_verdict x) {
  switch (x) {
    case replay_verdict::accepted: return "accepted";
    case replay_verdict::replayed: return "replayed";
    case replay_verdict::expired: return "expired";
    case replay_verdict::from_future: return "from_future";
    case replay_verdict::too_old: return "too_old";
  }
  return "unknown";
}

replay_guard::replay_guard(const replay_config& cfg)
  : cfg_(cfg), floor_(std::numeric_limits<int64_t>::min()) {}

void replay_guard::drop_first() {
  auto later = [](const entry& x, const entry& y) { return x.expiry > y.expiry; };
  std::pop_heap(by_expiry_.begin(), by_expiry_.end(), later);
  const entry& e = by_expiry_.back();
  floor_ = std::max(floor_, e.expiry);
  seen_.erase(e.k);
  by_expiry_.pop_back();
}

replay_verdict replay_guard::check(const node_id& sender, const message_id& id,
                                   int64_t timestamp_ms, uint32_t ttl_ms, int64_t now_ms) {
  auto give = [this](replay_verdict v) {
    switch (v) {
      case replay_verdict::accepted: ++counters_.accepted; break;
      case replay_verdict::replayed: ++counters_.replayed; break;
      case replay_verdict::expired: ++counters_.expired; break;
      case replay_verdict::from_future: ++counters_.from_future; break;
      case replay_verdict::too_old: ++counters_.too_old; break;
    }
    return v;
  };
  // A message stamped further ahead than clocks drift would stay in the cache
  // (and be accepted) for longer than max_ttl; it is refused outright.
  if (timestamp_ms > saturating_add(now_ms, cfg_.max_skew_ms))
    return give(replay_verdict::from_future);
  int64_t expiry = saturating_add(timestamp_ms, std::min(ttl_ms, cfg_.max_ttl_ms));
  if (now_ms > expiry)
    return give(replay_verdict::expired);
  // Forget what has expired: a copy of it is refused by the rule above. The
  // floor rises with it in case `now_ms` ever goes back.
  while (!by_expiry_.empty() && by_expiry_.front().expiry < now_ms)
    drop_first();
  key k{sender, id};
  if (seen_.count(k) != 0)
    return give(replay_verdict::replayed);
  // We may have forgotten this message: refuse rather than risk a replay.
  if (expiry <= floor_)
    return give(replay_verdict::too_old);
  auto later = [](const entry& x, const entry& y) { return x.expiry > y.expiry; };
  seen_.insert(k);
  by_expiry_.push_back(entry{expiry, k});
  std::push_heap(by_expiry_.begin(), by_expiry_.end(), later);
  // Over capacity: drop what expires first, which may be this message itself
  // (then the floor covers it). Entries at or below the new floor are dropped
  // too: the floor refuses their copies already.
  if (seen_.size() > cfg_.capacity) {
    drop_first();
    ++counters_.evicted;
    while (!by_expiry_.empty() && by_expiry_.front().expiry <= floor_) {
      drop_first();
      ++counters_.evicted;
    }
  }
  return give(replay_verdict::accepted);
}

} // namespace p2pd::net
