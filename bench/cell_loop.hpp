#pragma once

// The measuring loop every bench_signal cell shares, whatever carries the
// messages.

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "signal_cells.hpp"

namespace p2pd::bench {

/// Sends with `send()` and waits for each arrival with `await()` (false
/// after a timeout of 5 s): first the warm-up and the timed one-at-a-time
/// messages, then `rate_msgs` with up to `window` in flight.
template <class Send, class Await>
signal_cell run_cell(const signal_sizes& sz, Send send, Await await) {
  using clk = std::chrono::steady_clock;
  signal_cell out;
  for (size_t i = 0; i < sz.warmup; ++i) {
    send();
    if (!await()) {
      out.problem = "warm-up message " + std::to_string(i) + " did not arrive within 5 s";
      return out;
    }
  }
  std::vector<double> us;
  us.reserve(sz.latency_msgs);
  for (size_t i = 0; i < sz.latency_msgs; ++i) {
    auto t0 = clk::now();
    send();
    if (!await()) {
      out.problem = "message " + std::to_string(i) + " did not arrive within 5 s";
      return out;
    }
    us.push_back(std::chrono::duration<double, std::micro>(clk::now() - t0).count());
  }
  summarize_latency(std::move(us), out);
  size_t sent = 0;
  size_t got = 0;
  auto t0 = clk::now();
  while (got < sz.rate_msgs) {
    while (sent < sz.rate_msgs && sent - got < sz.window) {
      send();
      ++sent;
    }
    if (!await()) {
      out.problem = std::to_string(sz.rate_msgs - got) + " of " + std::to_string(sz.rate_msgs)
                    + " pipelined messages did not arrive within 5 s";
      return out;
    }
    ++got;
  }
  out.rate = static_cast<double>(sz.rate_msgs)
             / std::chrono::duration<double>(clk::now() - t0).count();
  return out;
}

} // namespace p2pd::bench
