#pragma once

// Helpers of the daemon tests: daemons whose port locks live in a temporary
// directory, killing a listener, and waiting (in round trips, bounded in
// time) for restarts. What other suites use too (loopback routes, free
// ports, echo round trips, finding a socket in /proc/self/fd) is in
// tests/support/.

#include <algorithm>
#include <chrono>
#include <functional>
#include <optional>
#include <ostream>
#include <vector>

#include <gtest/gtest.h>

#include "support/actors.hpp"
#include "support/expect.hpp"
#include "support/pipes.hpp"
#include "support/sockets.hpp"
#include "support/temp_dir.hpp"
#include "support/printers.hpp"
#include "support/values.hpp"

namespace p2pd::test {

/// A daemon spec whose port locks go to `dir`.
inline daemon_spec daemon_in(const temp_dir& dir, msg_handler on_msg = echo_handler(),
                             restart_policy policy = {}) {
  daemon_spec spec;
  spec.on_msg = std::move(on_msg);
  spec.policy = policy;
  spec.data_dir = dir.path();
  return spec;
}

/// Kills `p` with exit_reason::kill and waits until it is gone; returns the
/// reason it ended with (nothing if no down_msg came within 5 s).
inline std::optional<caf::error> kill_and_wait(runtime& rt, const pipe_actor& p) {
  caf::scoped_actor killer{rt.system()};
  killer->monitor(p);
  killer->send_exit(p, caf::exit_reason::kill);
  auto dm = next<caf::down_msg>(killer);
  if (!dm)
    return std::nullopt;
  return dm->reason;
}

/// Asks the daemon for its listeners (each ask a round trip) until `pred`
/// holds for the list, for at most `timeout`. Returns the last list seen if
/// it satisfied `pred`, else nothing.
inline std::optional<std::vector<listener_info>>
await_listeners(p2pd::daemon_handle& d, const std::function<bool(const std::vector<listener_info>&)>& pred,
                std::chrono::steady_clock::duration timeout = 10s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto ls = d.listeners();
    if (!ls)
      return std::nullopt;
    if (pred(*ls))
      return std::move(*ls);
  }
  return std::nullopt;
}

/// Waits until every listener has been restarted at least `n` times.
inline bool await_restarts(p2pd::daemon_handle& d, uint64_t n) {
  return static_cast<bool>(await_listeners(d, [n](auto& ls) {
    return std::all_of(ls.begin(), ls.end(), [n](auto& l) { return l.restarts >= n; });
  }));
}

/// The listener with id `id` in `ls`, if any.
inline std::optional<listener_info> by_id(const std::vector<listener_info>& ls, uint64_t id) {
  for (auto& l : ls)
    if (l.id == id)
      return l;
  return std::nullopt;
}

/// listen_all's error_on_af as a test parameter that prints as what it means:
/// its printed value names the CTest test (see support/printers.hpp), where
/// a bool would say "true".
struct error_on_af {
  bool value;
};

inline void PrintTo(error_on_af x, std::ostream* os) {
  *os << (x.value ? "ErrorOnAf" : "NoErrorOnAf");
}

/// Both values of error_on_af, for INSTANTIATE_TEST_SUITE_P.
inline auto both_error_on_af() {
  return ::testing::Values(error_on_af{true}, error_on_af{false});
}

} // namespace p2pd::test
