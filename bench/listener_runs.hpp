#pragma once

// The listener benchmark's measurements: N TCP listeners on 127.0.0.1 opened
// and closed by a p2pd daemon (listen_all, one target, one port range) or by
// plain sockets, each run in a forked child; plus the free port range and
// descriptor limit they need.

#include <cstdint>
#include <optional>
#include <string>

#include "sys_util.hpp"

namespace p2pd::bench {

enum class listener_variant {
  baseline,   ///< socket + SO_REUSEADDR + bind + listen, close
  p2pd,       ///< a daemon without port locks: the listeners alone
  p2pd_locks, ///< a daemon with port locks (the default) in a temporary data dir
};

const char* name_of(listener_variant v);

/// What one child measured. Times in seconds, memory in KiB (VmRSS).
struct listeners_result {
  int n = 0;
  int opened = 0;          ///< listeners the open reported
  double start_s = 0;      ///< p2pd: a daemon up (not part of open_s)
  double open_s = 0;       ///< until listen_all answered / the last listen()
  double close_s = 0;      ///< until close answered / the last close()
  double reopen_s = 0;     ///< the open of the next cycle (lock files exist by then)
  long rss_start_kib = 0;  ///< the child before anything
  long rss_before_kib = 0; ///< just before opening (p2pd: runtime and daemon up)
  long rss_open_kib = 0;   ///< with the listeners open
  long rss_closed_kib = 0; ///< after closing them
  long rss_trimmed_kib = 0; ///< after that and malloc_trim(0)
  int extra_cycles = 0;    ///< open-and-close cycles after the measured one
  long rss_cycles_kib = 0; ///< after them and malloc_trim(0)
  long fds_open = 0;       ///< descriptors of the process with the listeners open
  /// Ports that still accepted a connection right after the close had
  /// answered, but not 100 ms later: the close answered early.
  int late_closes = 0;
  int close_checks = 0; ///< ports checked after a close
  char problems[512] = {}; ///< failed checks
  char error[512] = {};
};

/// The first of `n` consecutive TCP ports on 127.0.0.1 that bind (with
/// SO_REUSEADDR, as the listeners do) right now, searched below the
/// ephemeral port range first (so that outgoing connections do not take
/// them meanwhile), then above it. Each port is bound and released.
std::optional<uint16_t> find_free_port_range(int n);

/// The descriptor limit the run got.
struct fd_limit {
  uint64_t soft_before = 0, hard_before = 0;
  uint64_t soft = 0, hard = 0;
  std::string note; ///< why it is lower than asked for, if it is
};

/// Raises RLIMIT_NOFILE (soft, and hard if needed and allowed) to at least
/// `want`; never lowers it.
fd_limit raise_fd_limit(uint64_t want);

/// Descriptors `v` needs for `n` listeners (with slack for the runtime).
uint64_t fds_needed(listener_variant v, int n);

/// The most listeners `v` opens within `fd_limit` descriptors, rounded down
/// to a multiple of 100 (when at least 100); 0 if none.
int max_listeners(listener_variant v, uint64_t fd_limit);

/// Opens and closes `n` listeners on ports [base, base + n) in a child:
/// a warm-up with one listener, the measured cycle, then `extra_cycles`
/// more. `data_dir` is the lock variant's data directory (the daemon
/// creates it).
listeners_result run_listeners_child(listener_variant v, int n, uint16_t base,
                                     const std::string& data_dir, int extra_cycles);

} // namespace p2pd::bench
