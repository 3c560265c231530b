#pragma once

// The measurements, each run in a forked child: what a child measures, the
// fixed-size results it hands back over a pipe, and the fork, timeout and reap
// around it.

#include <array>
#include <cstdint>
#include <string>

#include "options.hpp"

namespace p2pd::bench {

constexpr int max_transfers = 8;
constexpr int max_windows = 16;
constexpr std::array<int, 2> client_counts{1, 50};

/// What one child measured: every cell once, then the peak RSS.
struct cells_result {
  double tcp_rt[2] = {}; ///< round trips/s with client_counts[0] and [1]
  double udp_rt[2] = {};
  double bulk_mib_s[max_transfers] = {};
  int bulk_n = 0;
  long peak_rss_kib = 0;
  uint64_t resends = 0;
  uint64_t stale = 0;
  uint64_t corrupt = 0;
  uint64_t dead_clients = 0;
  char problems[1024] = {};
  char error[512] = {};
};

struct soak_result {
  int windows = 0;
  double rate[max_windows] = {};
  double rss_mib[max_windows + 1] = {}; ///< at the start, then after each window
  uint64_t corrupt = 0;
  uint64_t dead_clients = 0;
  char problems[1024] = {};
  char error[512] = {};
};

enum class variant { p2pd, baseline };

const char* name_of(variant v);

/// "1 client", "50 clients".
std::string clients_label(int n);

/// Every cell once, in a child running `v`'s servers; run counts from 0.
cells_result run_cells_child(variant v, int run, const options& o);

/// The soak, in a child running `v`'s servers.
soak_result run_soak_child(variant v, const options& o);

} // namespace p2pd::bench
