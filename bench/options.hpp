#pragma once

// What a run measures and for how long: the full run's settings, and the
// quick (smoke) run's.

#include <cstdint>

#include "sys_util.hpp"

namespace p2pd::bench {

struct options {
  bool quick = false;
  int runs = 3;
  seconds_d warmup{0.3};
  seconds_d cell{2.0};
  uint64_t bulk_bytes = uint64_t{256} << 20;
  /// Transfers per run, each on a new connection, for a stable median.
  int bulk_transfers = 5;
  int soak_windows = 10;
  seconds_d soak_window{2.0};
};

inline options quick_options() {
  options o;
  o.quick = true;
  o.runs = 1;
  o.warmup = seconds_d{0.1};
  o.cell = seconds_d{0.5};
  o.bulk_transfers = 2;
  o.soak_windows = 2;
  return o;
}

} // namespace p2pd::bench
