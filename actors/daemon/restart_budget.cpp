#include "p2pd/actors/daemon/restart_budget.hpp"

#include <algorithm>

namespace p2pd::actors {

std::optional<caf::timespan> restart_budget::on_failure(caf::actor_clock::time_point now) {
  while (!restarts_.empty() && now - restarts_.front() > policy_.period)
    restarts_.pop_front();
  if (restarts_.size() >= policy_.intensity)
    return std::nullopt;
  // Back off exponentially within the period: 1x, 2x, 4x ... the base.
  auto delay = policy_.base_backoff;
  for (size_t i = 0; i < restarts_.size() && delay < policy_.max_backoff; ++i)
    delay *= 2;
  restarts_.push_back(now);
  ++total_;
  return std::min(delay, policy_.max_backoff);
}

} // namespace p2pd::actors
