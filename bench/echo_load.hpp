#pragma once

// The load generator: closed-loop echo clients, and the one-way bulk sender.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "servers.hpp"
#include "sys_util.hpp"

namespace p2pd::bench {

constexpr size_t msg_size = 64;
constexpr size_t bulk_write = 64 * 1024;

/// When a closed-loop run measures: after `warmup`, `windows` windows.
struct schedule {
  seconds_d warmup;
  seconds_d window;
  int windows;
};

struct echo_outcome {
  std::vector<double> rates; ///< round trips/s per window
  uint64_t resends = 0;      ///< UDP: datagrams sent again after 200 ms unanswered
  uint64_t stale = 0;        ///< UDP: answers to a message already answered
  uint64_t corrupt = 0;      ///< echoes that differ from what was sent
  uint64_t dead_clients = 0; ///< connections that failed or were closed
};

/// Called when measuring starts (index -1) and after each window.
using window_fn = std::function<void(int index, double rate)>;

/// Runs `clients` closed-loop echo clients against `srv` on the calling thread
/// until `s`'s windows are measured.
echo_outcome run_echo(server& srv, bool udp, int clients, const schedule& s,
                      const window_fn& on_window = [](int, double) {});

/// One client writes `total` bytes in 64 KiB writes as fast as the socket
/// takes them; timed until the server counted all of them. 0 if not within
/// `limit`.
double run_bulk(server& srv, uint64_t total, seconds_d limit);

} // namespace p2pd::bench
