#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <utility>

#include "p2pd/sim/time.hpp"

namespace p2pd::sim {

/// A discrete-event queue on virtual time. Events are keyed by (time,
/// sequence): two events due at the same time run in the order they were
/// scheduled, so a run depends only on what was scheduled, never on pointer
/// values or hash order. Time only moves when the owner runs the queue.
class event_queue {
public:
  using action = std::function<void()>;

  /// Schedules `a` at `t`; a time in the past means now (time never goes
  /// back).
  void schedule_at(sim_time t, action a);

  /// Schedules `a` `delay` after now.
  void schedule_in(sim_time delay, action a) { schedule_at(now_ + delay, std::move(a)); }

  /// When the next event is due; nullopt when none is pending.
  std::optional<sim_time> next_time() const;

  /// Runs every event due at or before `t`, in (time, sequence) order,
  /// including those that the events themselves schedule up to `t`; then the
  /// clock stands at `t` (or stays, if it is already later). Returns how many
  /// ran.
  size_t run_until(sim_time t);

  /// Runs the next event (moving the clock to its time); false when none.
  bool run_next();

  sim_time now() const { return now_; }
  size_t pending() const { return events_.size(); }
  /// Drops every pending event (a teardown: what they hold is released).
  void clear() { events_.clear(); }
  /// Events run since the start.
  uint64_t executed() const { return executed_; }

private:
  using key = std::pair<sim_time, uint64_t>;
  std::map<key, action> events_;
  sim_time now_{0};
  uint64_t next_seq_ = 0;
  uint64_t executed_ = 0;
};

} // namespace p2pd::sim
