#pragma once

// SIGINT and SIGTERM during `p2pd netcheck`. The check asks the gateway for
// short port mappings; a signal that killed the program then would leave
// them at the gateway (for their lifetime, or for good at an IGD that keeps
// leases). While mappers run, a signal goes to the check's actor instead
// (stop_signal_atom), which lets their requests end, closes them (each
// deletes what it got, tools/p2pd/netcheck_portmap.cpp) and stops the
// check; the signal is raised again once the runtime has ended. A second
// signal, or one at any other time, ends the program at once, as its
// default does.

#include <atomic>
#include <csignal>
#include <mutex>
#include <thread>

#include "caf/actor.hpp"

namespace p2pd::cli {

class netcheck_stop {
public:
  /// Blocks SIGINT and SIGTERM (before the runtime starts its threads,
  /// which inherit the mask) and watches for them on a thread of its own.
  netcheck_stop();
  ~netcheck_stop();
  netcheck_stop(const netcheck_stop&) = delete;
  netcheck_stop& operator=(const netcheck_stop&) = delete;

  /// From now until unguard(), a signal is sent to `target` as
  /// (stop_signal_atom, signal) rather than ending the program.
  void guard(caf::actor target);
  void unguard();

  /// The signal that came while guarded; 0: none.
  int stopped() const { return stopped_.load(); }

  /// Ends the program by the signal that came while guarded, if one did
  /// (its default action: the shell sees it as killed by that signal).
  void reraise_if_stopped();

private:
  void watch();

  sigset_t set_;
  std::mutex mtx_;
  caf::actor target_;
  std::atomic<int> stopped_{0};
  std::atomic<bool> quit_{false};
  std::thread thread_;
};

} // namespace p2pd::cli
