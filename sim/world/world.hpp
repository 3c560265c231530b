#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "caf/actor.hpp"
#include "caf/actor_system.hpp"

#include "p2pd/sim/net/event_queue.hpp"
#include "p2pd/sim/net/fabric.hpp"
#include "p2pd/sim/net/host_tcp.hpp"
#include "p2pd/sim/net/host_udp.hpp"

namespace p2pd::sim {

/// A simulated network driven from CAF: it owns an event_queue, the fabric
/// on it and each host's UDP and TCP stacks, and an actor that runs the
/// queue as the actor clock advances. Virtual time is the actor clock's time
/// since the world was made: real time under the normal scheduler, the test
/// coordinator's virtual time under scheduler.policy=testing.
///
/// Actors of any thread use the fabric through with(): it takes the world's
/// lock, first runs what is due up to now (so that what the call schedules
/// is relative to the present), then the call, then asks the world actor to
/// wake at the next event. Stack handlers run under that lock, inside the
/// queue: they must not call with() (send a message instead). Code that may
/// run where the lock is already held (destructors: see post()) posts its
/// calls instead.
class world : public std::enable_shared_from_this<world> {
public:
  /// Makes a world and its driving actor in `sys`.
  static std::shared_ptr<world> make(caf::actor_system& sys, fabric::config cfg = {});
  ~world();
  world(const world&) = delete;
  world& operator=(const world&) = delete;

  /// Runs `f(*this)` under the lock, with the queue brought to now, and
  /// re-arms the wake-up; returns what `f` returns.
  template <class F>
  auto with(F&& f) {
    std::unique_lock<std::mutex> guard{mtx_};
    catch_up();
    run_posted();
    struct rearm {
      world* w;
      ~rearm() { w->wake_at_next(); }
    } r{this};
    return f(*this);
  }

  /// Has `f(*this)` run under the lock at the world's next with() or
  /// wake-up (it wakes the driver for it), without taking the lock now.
  /// For destructors: an actor's state dies in on_exit, which CAF runs
  /// wherever the actor's last reference goes, and that could be inside
  /// the queue, under the lock (a stack handler's strong reference to its
  /// pipe). Posted calls run in order, before the with() call that finds
  /// them; they are dropped unrun if the world goes first.
  void post(std::function<void(world&)> f);

  /// The fabric (use inside with()).
  sim::fabric& fabric() { return fabric_; }
  /// The host's UDP stack, made on first use (inside with()).
  host_udp& udp(host_id h);
  /// The host's TCP stack, made on first use (inside with()).
  host_tcp& tcp(host_id h);

  /// Virtual time now, by the actor clock.
  sim_time clock_now() const;

  /// The seed the world was made with (fabric::config::seed): what the
  /// hosts' stacks derive theirs from.
  uint64_t seed() const { return seed_; }

  /// The driving actor (it quits with the world).
  const caf::actor& driver() const { return driver_; }

  /// Drops every host's stacks and every pending event, releasing the
  /// handlers (and the actor handles they hold) that would otherwise keep
  /// pipes and the world alive in a cycle. For a teardown, with nothing
  /// else running: the world serves no more packets after it.
  void clear();

  /// Called by the driving actor when woken: runs what is due, re-arms.
  void on_wake();

private:
  world(caf::actor_system& sys, fabric::config cfg);
  // Runs the queue up to the clock's now (lock held).
  void catch_up();
  // Asks the driver to wake at the queue's next event (lock held).
  void wake_at_next();
  // Runs the posted calls (lock held).
  void run_posted();

  caf::actor_system& sys_;
  uint64_t seed_;
  std::chrono::steady_clock::time_point start_;
  std::mutex mtx_;
  event_queue queue_;
  sim::fabric fabric_;
  std::map<host_id, std::unique_ptr<host_udp>> udp_;
  std::map<host_id, std::unique_ptr<host_tcp>> tcp_;
  caf::actor driver_;
  std::optional<sim_time> armed_; ///< the wake-up asked for, if any
  // Posted calls: behind a lock of their own, which is taken last (inside
  // mtx_ or alone) and never held while anything else runs.
  std::mutex posted_mtx_;
  std::vector<std::function<void(world&)>> posted_;
  std::atomic<bool> has_posted_{false}; ///< spares with() the posted lock
};

using world_ptr = std::shared_ptr<world>;

} // namespace p2pd::sim
