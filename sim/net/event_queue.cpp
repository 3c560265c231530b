#include "p2pd/sim/net/event_queue.hpp"

namespace p2pd::sim {

void event_queue::schedule_at(sim_time t, action a) {
  if (t < now_)
    t = now_;
  events_.emplace(key{t, next_seq_++}, std::move(a));
}

std::optional<sim_time> event_queue::next_time() const {
  if (events_.empty())
    return std::nullopt;
  return events_.begin()->first.first;
}

bool event_queue::run_next() {
  if (events_.empty())
    return false;
  auto first = events_.begin();
  now_ = first->first.first;
  // Moved out before running: the action may schedule (and so insert) more.
  auto a = std::move(first->second);
  events_.erase(first);
  ++executed_;
  a();
  return true;
}

size_t event_queue::run_until(sim_time t) {
  size_t n = 0;
  while (!events_.empty() && events_.begin()->first.first <= t) {
    run_next();
    ++n;
  }
  if (now_ < t)
    now_ = t;
  return n;
}

} // namespace p2pd::sim
