#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>

#include "caf/timespan.hpp"
#include "caf/actor_clock.hpp"

#include "p2pd/actors/common/timeouts.hpp"
namespace p2pd {

/// How a supervisor restarts a failed child: one-for-one, with exponential
/// backoff, and at most `intensity` restarts within `period` (Erlang/OTP's
/// restart intensity); one more failure and the supervisor gives up. The
/// defaults and their reasons are in actors/common/timeouts.hpp.
struct restart_policy {
  uint32_t intensity = timeouts::restart_intensity;
  caf::timespan period = timeouts::restart_period;
  caf::timespan base_backoff = timeouts::restart_backoff_min;
  caf::timespan max_backoff = timeouts::restart_backoff_max;
};

} // namespace p2pd

namespace p2pd::actors {

/// The restart bookkeeping of one child.
class restart_budget {
public:
  explicit restart_budget(const restart_policy& p) : policy_(p) {}

  /// The child failed at `now`: the delay before restarting it, or nothing
  /// when the budget is spent.
  std::optional<caf::timespan> on_failure(caf::actor_clock::time_point now);

  /// Restarts within the current period.
  size_t recent() const { return restarts_.size(); }
  uint64_t total() const { return total_; }

private:
  restart_policy policy_;
  std::deque<caf::actor_clock::time_point> restarts_;
  uint64_t total_ = 0;
};

} // namespace p2pd::actors
