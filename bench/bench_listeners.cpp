// bench_listeners: how fast a p2pd daemon opens and closes many TCP
// listeners, and what they cost in memory, next to plain sockets.
//
//   bench_listeners           full run: 1, 100, 1,000 and 10,000 listeners, 3 runs each
//   bench_listeners --quick   smoke run: up to 1,000 listeners, 1 run (CTest)
//   --n COUNT                 only these counts (repeatable; with --quick: 1 run)
//
// For each count N, three variants open N TCP listeners on 127.0.0.1, on N
// consecutive ports found free just before (below the ephemeral range), and
// close them again:
//   - plain sockets: socket + SO_REUSEADDR + bind + listen, then close;
//   - p2pd: a daemon's listen_all (one target, one port range, TCP) until it
//     answers, then the daemon's close until it answers; no port locks;
//   - p2pd + locks: the same with port locks (the default), in a temporary
//     data directory: a lock file per listener.
// Each run is a forked child (no actor system ever exists in the parent), so
// RSS figures stay apart; runs of the variants alternate. RLIMIT_NOFILE is
// raised first to what the largest N needs (3N + 1024: a listener, its
// acceptor's spare descriptor and its lock file each); where the hard limit
// cannot be raised (no CAP_SYS_RESOURCE), a variant that does not fit runs at
// the largest count that does, next to plain sockets at that count. The
// children check that the first, middle and last port accept a connection
// after the open and refuse one after the close.
//
// Each child first opens and closes one listener (a warm-up: the code's pages
// would count as RSS), then the measured N, then a few more cycles of N. The
// table shows median times, the p2pd/plain-socket ratio, and RSS: before the
// open, with the listeners open, after the close, after the close plus
// malloc_trim(0) (what the allocator keeps is not a leak), and after the
// further cycles; "KiB/lsnr" is (open - before) / N and "kept" is (trimmed -
// before). Flat memory: a constant KiB/lsnr across N, a small kept, and no
// growth over the further cycles. Kernel socket memory is not in RSS.
//
// Exit status: 0 when every run opened and closed its listeners as checked,
// 1 otherwise. Times are printed, not failed (a shared machine).

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "listener_runs.hpp"
#include "sys_util.hpp"

namespace {

using namespace p2pd::bench;

constexpr listener_variant variants[] = {listener_variant::baseline, listener_variant::p2pd,
                                         listener_variant::p2pd_locks};

struct settings {
  bool quick = false;
  std::vector<int> counts{1, 100, 1000, 10000};
  int runs = 3;
  int extra_cycles = 3;
};

int usage(const char* prog) {
  std::fprintf(stderr, "usage: %s [--quick] [--n COUNT]...\n", prog);
  return 2;
}

using runs_of = std::vector<listeners_result>;

double med(const runs_of& rs, double (*f)(const listeners_result&)) {
  std::vector<double> xs;
  for (auto& r : rs)
    if (r.error[0] == 0)
      xs.push_back(f(r));
  return median(xs);
}

double open_ms(const listeners_result& r) { return r.open_s * 1e3; }
double close_ms(const listeners_result& r) { return r.close_s * 1e3; }
double reopen_ms(const listeners_result& r) { return r.reopen_s * 1e3; }
double start_ms(const listeners_result& r) { return r.start_s * 1e3; }
double before_mib(const listeners_result& r) { return mib(r.rss_before_kib); }
double open_mib(const listeners_result& r) { return mib(r.rss_open_kib); }
double closed_mib(const listeners_result& r) { return mib(r.rss_closed_kib); }
double trimmed_mib(const listeners_result& r) { return mib(r.rss_trimmed_kib); }
double fds(const listeners_result& r) { return static_cast<double>(r.fds_open); }
double kib_per_listener(const listeners_result& r) {
  return static_cast<double>(r.rss_open_kib - r.rss_before_kib) / r.n;
}
double cycles_mib(const listeners_result& r) { return mib(r.rss_cycles_kib); }
double kept_mib(const listeners_result& r) { return mib(r.rss_trimmed_kib - r.rss_before_kib); }
double drift_mib(const listeners_result& r) {
  return r.extra_cycles > 0 ? mib(r.rss_cycles_kib - r.rss_trimmed_kib) / r.extra_cycles : 0;
}

std::string ratio(double p, double b) {
  if (b <= 0)
    return "-";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1fx", p / b);
  return buf;
}

void log_run(listener_variant v, int run, const listeners_result& r) {
  if (r.error[0] != 0) {
    std::printf("  run %d  %-13s  FAILED: %s\n", run + 1, name_of(v), r.error);
  } else {
    std::printf("  run %d  %-13s  open %9.3f ms  close %9.3f ms  RSS %7.1f -> %7.1f -> %7.1f MiB"
                "  %ld fds\n",
                run + 1, name_of(v), open_ms(r), close_ms(r), before_mib(r), open_mib(r),
                closed_mib(r), r.fds_open);
    if (r.late_closes > 0)
      std::printf("         note: %d checked port%s still accepted a connection right after the"
                  " close answered (not 100 ms later)\n",
                  r.late_closes, r.late_closes == 1 ? "" : "s");
    if (r.problems[0] != 0)
      std::printf("         problems: %s\n", r.problems);
  }
  std::fflush(stdout);
}

} // namespace

int main(int argc, char** argv) {
  settings s;
  bool only_n = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) {
      s.quick = true;
      s.runs = 1;
      s.extra_cycles = 1;
    } else if (std::strcmp(argv[i], "--n") == 0 && i + 1 < argc) {
      int n = std::atoi(argv[++i]);
      if (n < 1 || n > 30000)
        return usage(argv[0]);
      if (!only_n)
        s.counts.clear();
      only_n = true;
      s.counts.push_back(n);
    } else {
      return usage(argv[0]);
    }
  }
  if (s.quick && !only_n)
    s.counts = {1, 100, 1000};
  std::printf("bench_listeners%s: %u cores, load average %s (other work skews the times)\n",
              s.quick ? " --quick" : "", std::thread::hardware_concurrency(),
              load_average().c_str());

  std::sort(s.counts.begin(), s.counts.end());
  int max_n = s.counts.back();
  auto lim = raise_fd_limit(fds_needed(listener_variant::p2pd_locks, max_n));
  std::printf("RLIMIT_NOFILE: soft %llu, hard %llu (was %llu / %llu)%s%s\n",
              static_cast<unsigned long long>(lim.soft),
              static_cast<unsigned long long>(lim.hard),
              static_cast<unsigned long long>(lim.soft_before),
              static_cast<unsigned long long>(lim.hard_before), lim.note.empty() ? "" : "; ",
              lim.note.c_str());

  char tmpl[] = "/tmp/p2pd-bench-listeners-XXXXXX"; // 0700: fit for a data directory
  if (::mkdtemp(tmpl) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  std::string tmp = tmpl;

  // What runs at which count. A variant that needs more descriptors for N
  // than the limit allows runs at the largest count that fits instead, next
  // to plain sockets at that count.
  std::map<int, std::vector<listener_variant>> plan;
  auto add = [&plan](int n, listener_variant v) {
    auto& vs = plan[n];
    if (std::find(vs.begin(), vs.end(), v) == vs.end())
      vs.push_back(v);
  };
  for (int n : s.counts)
    for (auto v : variants) {
      int m = n;
      if (fds_needed(v, n) > lim.soft) {
        m = max_listeners(v, lim.soft);
        std::printf("%s: %d listeners need %llu descriptors, over the limit of %llu: ",
                    name_of(v), n, static_cast<unsigned long long>(fds_needed(v, n)),
                    static_cast<unsigned long long>(lim.soft));
        if (m < 1) {
          std::printf("skipped\n");
          continue;
        }
        std::printf("%d instead\n", m);
      }
      add(m, listener_variant::baseline);
      add(m, v);
    }

  bool failed = false;
  std::map<int, std::map<listener_variant, runs_of>> results;
  for (auto& [n, vs] : plan) {
    std::sort(vs.begin(), vs.end());
    for (int run = 0; run < s.runs; ++run) {
      auto base = find_free_port_range(n);
      if (!base) {
        std::printf("N = %d: no %d consecutive free ports on 127.0.0.1; skipped\n", n, n);
        failed = true;
        break;
      }
      if (run == 0)
        std::printf("\nN = %d listeners (ports from %u):\n", n, static_cast<unsigned>(*base));
      for (auto v : vs) {
        auto dir = tmp + "/n" + std::to_string(n) + "-run" + std::to_string(run + 1);
        auto r = run_listeners_child(v, n, *base, dir, s.extra_cycles);
        log_run(v, run, r);
        failed = failed || r.error[0] != 0 || r.problems[0] != 0;
        results[n][v].push_back(r);
      }
    }
  }
  std::error_code ec;
  std::filesystem::remove_all(tmp, ec);

  std::printf("\nMedians of %d run%s. Times in ms, x = p2pd / plain sockets; re-open: the open"
              " of the next cycle (lock files exist then). RSS (VmRSS) in MiB:"
              " before the open (after a 1-listener warm-up), with N open, after the close,"
              " after the close and malloc_trim(0), and after %d more open-and-close cycles"
              " (trimmed). KiB/lsnr = (open - before) / N; kept = trimmed - before.\n\n",
              s.runs, s.runs == 1 ? "" : "s", s.extra_cycles);
  std::printf("| %9s | %-13s | %9s | %9s | %7s | %7s | %9s | %7s | %7s | %7s | %7s | %8s | %8s |"
              " %6s | %6s |\n",
              "listeners", "variant", "open", "close", "open x", "close x", "re-open", "before",
              "open", "closed", "trimmed", "+cycles", "KiB/lsnr", "kept", "fds");
  std::printf("|-----------|---------------|-----------|-----------|---------|---------|"
              "-----------|---------|---------|---------|---------|----------|----------|"
              "--------|--------|\n");
  for (auto& [n, by_variant] : results) {
    auto& base_runs = by_variant[listener_variant::baseline];
    double b_open = med(base_runs, open_ms), b_close = med(base_runs, close_ms);
    for (auto v : variants) {
      auto it = by_variant.find(v);
      if (it == by_variant.end() || med(it->second, open_ms) == 0)
        continue;
      auto& rs = it->second;
      bool is_base = v == listener_variant::baseline;
      std::printf("| %9d | %-13s | %9.3f | %9.3f | %7s | %7s | %9.3f | %7.1f | %7.1f | %7.1f |"
                  " %7.1f | %8.1f | %8.2f | %6.1f | %6.0f |\n",
                  n, name_of(v), med(rs, open_ms), med(rs, close_ms),
                  is_base ? "" : ratio(med(rs, open_ms), b_open).c_str(),
                  is_base ? "" : ratio(med(rs, close_ms), b_close).c_str(), med(rs, reopen_ms),
                  med(rs, before_mib), med(rs, open_mib), med(rs, closed_mib),
                  med(rs, trimmed_mib), med(rs, cycles_mib), med(rs, kib_per_listener),
                  med(rs, kept_mib), med(rs, fds));
    }
  }

  std::printf("\n");
  for (auto v : {listener_variant::p2pd, listener_variant::p2pd_locks}) {
    std::vector<double> starts;
    for (auto& [n, by_variant] : results)
      if (auto it = by_variant.find(v); it != by_variant.end())
        for (auto& r : it->second)
          if (r.error[0] == 0)
            starts.push_back(start_ms(r));
    std::printf("%s: a daemon starts in %.1f ms (median, not in \"open\")\n", name_of(v),
                median(starts));
    auto k = results.find(1000);
    if (k != results.end() && k->second.count(v) != 0) {
      double ms = med(k->second.at(v), open_ms);
      std::printf("  1,000 listeners open in %.1f ms: %s (target: well under 1 s, here"
                  " < 500 ms)\n",
                  ms, ms > 0 && ms < 500 ? "ok" : "MISS");
    }
    std::printf("  RSS kept after close, trimmed (growth per further cycle):");
    for (auto& [n, by_variant] : results)
      if (auto it = by_variant.find(v); it != by_variant.end())
        std::printf("  N=%d %+.1f (%+.2f) MiB", n, med(it->second, kept_mib),
                    med(it->second, drift_mib));
    std::printf("\n");
  }
  int late = 0, checks = 0;
  for (auto& [n, by_variant] : results)
    for (auto& [v, rs] : by_variant)
      for (auto& r : rs) {
        late += r.late_closes;
        checks += r.close_checks;
      }
  if (late > 0)
    std::printf("\nclose answered before the socket was closed: %d of %d port checks found"
                " the port still accepting right after the close (none 100 ms later)\n",
                late, checks);
  std::printf("\nload average at the end: %s\n", load_average().c_str());
  return failed ? 1 : 0;
}
