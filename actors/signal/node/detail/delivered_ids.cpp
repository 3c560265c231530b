#include "p2pd/actors/signal/node/detail/delivered_ids.hpp"

namespace p2pd::actors {

delivered_ids::delivered_ids(size_t capacity, int64_t window_ms)
  : capacity_(capacity), window_ms_(window_ms) {
}

void delivered_ids::add(const net::node_id& sender, const net::message_id& id,
                        int64_t now_ms) {
  if (capacity_ == 0)
    return;
  key k{sender, id};
  // The inbox accepts a (sender, id) once, so a second add is the same
  // message delivered after its entry was forgotten: refresh it.
  auto [i, fresh] = at_.emplace(k, now_ms);
  if (!fresh)
    i->second = now_ms;
  else
    order_.push_back(k);
  prune(now_ms);
}

bool delivered_ids::recent(const net::node_id& sender, const net::message_id& id,
                           int64_t now_ms) const {
  auto i = at_.find(key{sender, id});
  // Both times come from the node's own clock, never from a sender. One
  // that stepped back gives a negative distance: still recent.
  return i != at_.end() && now_ms - i->second <= window_ms_;
}

void delivered_ids::prune(int64_t now_ms) {
  // Entries leave in insertion order; one out of order in time (the clock
  // stepped) is judged by its own time in recent() until its turn comes.
  while (!order_.empty()) {
    auto i = at_.find(order_.front());
    bool old = i == at_.end() || now_ms - i->second > window_ms_;
    if (!old && at_.size() <= capacity_)
      break;
    if (i != at_.end())
      at_.erase(i);
    order_.pop_front();
  }
}

} // namespace p2pd::actors
