#include "p2pd/net/crypto/replay_guard.hpp"

#include <algorithm>
#include <limits>

namespace p2pd::net {

namespace {

constexpr int64_t int64_max = std::numeric_limits<int64_t>::max();
constexpr int64_t int64_min = std::numeric_limits<int64_t>::min();

// x + d without overflow: timestamps come from the network and can be anything.
int64_t saturating_add(int64_t x, uint32_t d) {
  return x > int64_max - static_cast<int64_t>(d) ? int64_max : x + static_cast<int64_t>(d);
}

template <class T>
bool later(const T& x, const T& y) {
  return x.expiry > y.expiry;
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

replay_guard::replay_guard(const replay_config& cfg) : cfg_(cfg), strangers_floor_(int64_min) {
  cfg_.per_sender = std::max<size_t>(cfg_.per_sender, 1);
  cfg_.max_entries = std::max<size_t>(cfg_.max_entries, 1);
  cfg_.max_senders = std::max<size_t>(cfg_.max_senders, 1);
}

int64_t replay_guard::floor(const node_id& sender) const {
  auto i = senders_.find(sender);
  return i == senders_.end() ? strangers_floor_ : i->second.floor;
}

void replay_guard::drop_first(sender_state& s) {
  std::pop_heap(s.by_expiry.begin(), s.by_expiry.end(), later<entry>);
  const entry& e = s.by_expiry.back();
  s.floor = std::max(s.floor, e.expiry);
  s.ids.erase(e.id);
  s.by_expiry.pop_back();
  --entries_;
}

void replay_guard::evict_from(sender_state& s) {
  drop_first(s);
  ++counters_.evicted;
  // Ids at or below the new floor go too: the floor refuses their copies.
  while (!s.by_expiry.empty() && s.by_expiry.front().expiry <= s.floor) {
    drop_first(s);
    ++counters_.evicted;
  }
}

void replay_guard::forget_one_sender() {
  // Strangers go first: a flood of new identities must not push out the
  // peers the node talks to.
  auto& from = strangers_.empty() ? known_ : strangers_;
  auto i = senders_.find(from.front());
  // What it may still have in flight is covered by the strangers' floor.
  strangers_floor_ = std::max({strangers_floor_, i->second.last_expiry, i->second.floor});
  entries_ -= i->second.ids.size();
  from.pop_front();
  senders_.erase(i);
  ++counters_.senders_evicted;
}

replay_guard::sender_state& replay_guard::touch(const node_id& sender) {
  auto i = senders_.find(sender);
  if (i != senders_.end()) {
    auto& list = i->second.known ? known_ : strangers_;
    list.splice(list.end(), list, i->second.lru);
    return i->second;
  }
  if (senders_.size() >= cfg_.max_senders)
    forget_one_sender();
  auto& s = senders_[sender];
  s.floor = strangers_floor_;
  s.last_expiry = int64_min;
  s.lru = strangers_.insert(strangers_.end(), sender);
  return s;
}

void replay_guard::mark_known(const node_id& sender) {
  auto& s = touch(sender);
  if (s.known)
    return;
  s.known = true;
  known_.splice(known_.end(), strangers_, s.lru);
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
  // Stamped before the start: it may have been accepted by the guard that
  // was lost with the last run.
  if (timestamp_ms < cfg_.not_before_ms)
    return give(replay_verdict::too_old);
  // A stranger whose message the strangers' floor refuses does not get a
  // place in the table (and cannot push anyone out with it).
  if (senders_.count(sender) == 0 && expiry <= strangers_floor_)
    return give(replay_verdict::too_old);
  auto& s = touch(sender);
  // Forget what has expired: a copy of it is refused by the rule above. The
  // floor rises with it in case `now_ms` ever goes back.
  while (!s.by_expiry.empty() && s.by_expiry.front().expiry < now_ms)
    drop_first(s);
  if (s.ids.count(id) != 0)
    return give(replay_verdict::replayed);
  // We may have forgotten this message: refuse rather than risk a replay.
  if (expiry <= s.floor)
    return give(replay_verdict::too_old);
  s.ids.insert(id);
  s.by_expiry.push_back(entry{expiry, id});
  std::push_heap(s.by_expiry.begin(), s.by_expiry.end(), later<entry>);
  s.last_expiry = std::max(s.last_expiry, expiry);
  ++entries_;
  // Over this sender's capacity: drop what expires first, which may be this
  // message itself (then the floor covers it). Ids at or below the new floor
  // go too: the floor refuses their copies already.
  if (s.ids.size() > cfg_.per_sender)
    evict_from(s);
  // Over the shared budget: the largest cache gives one up. A scan of at
  // most max_senders, only while the budget is exceeded (a flood, whose
  // signature checks cost far more per message).
  if (entries_ > cfg_.max_entries) {
    auto largest = std::max_element(senders_.begin(), senders_.end(),
                                    [](const auto& x, const auto& y) {
                                      return x.second.ids.size() < y.second.ids.size();
                                    });
    evict_from(largest->second);
  }
  return give(replay_verdict::accepted);
}

} // namespace p2pd::net
