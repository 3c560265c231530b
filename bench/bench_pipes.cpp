// bench_pipes: p2pd's pipes against a plain epoll echo server written here,
// both on loopback and driven by the same load generator.
//
//   bench_pipes           full run: 3 runs per cell, 20-s soak (about 100 s)
//   bench_pipes --quick   smoke run: short cells, 1 run, 4-s soak (CTest)
//
// Cells: TCP and UDP echo round trips/s with 1 and 50 closed-loop clients
// (64-byte messages, one outstanding per client), one-way TCP bulk MiB/s
// (256 MiB in 64 KiB writes, timed until the server has counted every byte;
// several transfers per run), and peak RSS. Each variant runs in forked
// children, so memory figures stay apart and no CAF actor system exists in
// the parent. Runs of the two variants alternate, so a load change on the
// machine hits both alike. A soak then runs TCP echo with 50 clients for 10
// windows of 2 s against each variant, with throughput and RSS per window.
//
// Exit status: 0 when everything ran, 1 when a server hung, lost, corrupted or
// refused messages, or a child failed. Missed targets are printed, not failed:
// on a shared 2-core machine they are not reproducible enough for CTest.
//
// The pieces: options.hpp (settings), sys_util (system helpers), servers (the
// two servers), echo_load (the load generator), child_runs (forked children
// and their results), report (medians, tables, verdicts).

#include <csignal>
#include <cstdio>
#include <cstring>
#include <thread>

#include "child_runs.hpp"
#include "options.hpp"
#include "report.hpp"
#include "sys_util.hpp"

namespace {

int usage(const char* prog) {
  std::fprintf(stderr, "usage: %s [--quick]\n", prog);
  return 2;
}

} // namespace

int main(int argc, char** argv) {
  using namespace p2pd::bench;
  options o;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0)
      o = quick_options();
    else
      return usage(argv[0]);
  }
  // A peer gone mid-write must show as an error, not end the benchmark.
  std::signal(SIGPIPE, SIG_IGN);
  std::printf("bench_pipes%s: %u cores, load average %s (other work skews the ratios)\n",
              o.quick ? " --quick" : "", std::thread::hardware_concurrency(),
              load_average().c_str());
  variant_runs p2pd_runs, baseline_runs;
  for (int run = 0; run < o.runs; ++run) {
    p2pd_runs.runs.push_back(run_cells_child(variant::p2pd, run, o));
    baseline_runs.runs.push_back(run_cells_child(variant::baseline, run, o));
  }
  print_cells_table(p2pd_runs, baseline_runs, o);
  std::printf("\n");
  bool failed = print_cell_problems(variant::p2pd, p2pd_runs);
  failed = print_cell_problems(variant::baseline, baseline_runs) || failed;

  std::printf("\nsoak running (%.0f s per variant) ...\n",
              (o.soak_window * o.soak_windows + o.warmup).count());
  auto p2pd_soak = run_soak_child(variant::p2pd, o);
  auto baseline_soak = run_soak_child(variant::baseline, o);
  failed = print_soak(p2pd_soak, baseline_soak, o) || failed;
  std::printf("\nload average at the end: %s\n", load_average().c_str());
  return failed ? 1 : 0;
}
