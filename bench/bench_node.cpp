// bench_node: P2P nodes in one process on loopback (in-process signalling
// hub, offline), next to what the same work costs done by the benchmark
// itself with OpenSSL and blocking sockets, in one run, one table.
//
//   bench_node           full run (about a minute)
//   bench_node --quick   smoke run (CTest): few samples, 20-node mesh
//   bench_node --only nodes,mesh   only these cells (floor, connects,
//                        messages, nodes, mesh): for profiling one of them
//   bench_node --mesh 50 a mesh of 50 nodes (how its rate scales)
//
// (a) node start: runtime::start_node until ready (identity made before),
//     against the floor of what a node holds: an Ed25519 certificate, a
//     server and a client TLS 1.3 context, listeners on 127.0.0.1 and ::1
// (b) direct connect (node_handle::connect, IPv4 only) against a TCP
//     connect plus a mutual TLS 1.3 handshake with Ed25519 certificates
// (c) 64-byte and 32-KiB messages over one node connection (sent on its
//     pipe, counted by a handler in the receiving node) against one plain
//     TLS connection with the same framing (one write per message, a
//     reading thread)
// (d) RSS per node and per connection (both ends): from the mesh, against
//     the floor above and plain TLS connections with both ends here
// (e) 100 nodes on one hub: all started at once, then a full mesh of
//     connects (each pair once, 16 at a time), then closed
//
// The ratio is p2pd / baseline: above 1 is slower (times) or bigger
// (memory); below 1 is slower for rates. Each cell runs in a forked child
// of its own (fork_child.hpp), so that an RSS difference is what the cell
// allocated, not memory an earlier cell freed and this one reused; the
// parent never starts an actor system.
//
// Exit status: 1 if a cell failed (a node that did not start, a connect
// that failed, a message lost); slower numbers are printed, not failed.

#include <sys/resource.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <thread>

#include <fcntl.h>

#include "fork_child.hpp"
#include "node_cells.hpp"
#include "sys_util.hpp"
#include "tls_baseline.hpp"

using namespace p2pd;
using namespace p2pd::bench;

namespace {

int usage(const char* prog) {
  std::fprintf(stderr,
               "usage: %s [--quick] [--only CELL,...] [--mesh NODES]\n"
               "  cells: floor, connects, messages (the baselines), nodes, mesh\n",
               prog);
  return 2;
}

// What each child hands back: fixed size, no pointers.
struct floor_pod {
  double ms = 0;
  double kib_each = 0;
  char error[512] = {};
};
struct rates_pod {
  double small_msgs = 0, small_mb = 0, large_msgs = 0, large_mb = 0;
  char error[512] = {};
};
struct nodes_pod {
  double start_ms = 0, connect_ms = 0, report_ms = 0;
  size_t connects = 0;
  double small_msgs = 0, small_mb = 0, large_msgs = 0, large_mb = 0;
  char error[512] = {};
};
struct mesh_pod {
  size_t nodes = 0, pairs = 0;
  double start_ms = 0, mesh_ms = 0, close_ms = 0, kib_node = 0, kib_conn = 0;
  long rss_before = 0, rss_started = 0, rss_meshed = 0, rss_closed = 0;
  char error[512] = {};
};

// The nodes print a stray "*** unexpected message ... ('ok')" line for
// each connection they close (tests/node/node_bugs_test.cpp): thousands in
// the mesh, which would bury the table. A child prints nothing else.
void quiet_stdout() {
  int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (null >= 0) {
    ::dup2(null, STDOUT_FILENO);
    ::close(null);
  }
}

// The mesh holds two descriptors per connection: 100 nodes need about
// 10,000.
void raise_fd_limit() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &lim);
  }
}

std::string num(double x, int decimals = 1) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, x);
  return buf;
}

void row(const std::string& metric, double p, double b, const std::string& baseline,
         int decimals = 1) {
  std::string ratio = b > 0 && p > 0 ? num(p / b, 2) : "";
  std::printf("| %-40s | %10s | %10s | %6s | %-44s |\n", metric.c_str(), num(p, decimals).c_str(),
              b > 0 ? num(b, decimals).c_str() : "", ratio.c_str(), baseline.c_str());
}

void rule() {
  std::printf("|%s|%s|%s|%s|%s|\n", std::string(42, '-').c_str(), std::string(12, '-').c_str(),
              std::string(12, '-').c_str(), std::string(8, '-').c_str(),
              std::string(46, '-').c_str());
}

bool report(const char* cell, const std::string& problem) {
  if (problem.empty())
    return false;
  std::printf("%s: FAILED: %s\n", cell, problem.c_str());
  return true;
}

// A cell in its child, or nothing when not wanted (--only).
template <class Result, class Body>
Result cell(bool wanted, const std::string& label, seconds_d limit, Body&& body) {
  return wanted ? run_in_child<Result>(label, limit, std::forward<Body>(body)) : Result{};
}

} // namespace

int main(int argc, char** argv) {
  bool quick = false;
  std::set<std::string> only; // empty: every cell
  size_t mesh_nodes = 0;       // 0: the default for the run
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) {
      quick = true;
    } else if (std::strcmp(argv[i], "--mesh") == 0 && i + 1 < argc) {
      mesh_nodes = std::strtoul(argv[++i], nullptr, 10);
      if (mesh_nodes < 2)
        return usage(argv[0]);
    } else if (std::strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
      std::string list = argv[++i];
      for (size_t pos = 0; pos <= list.size();) {
        auto end = std::min(list.find(',', pos), list.size());
        only.insert(list.substr(pos, end - pos));
        pos = end + 1;
      }
    } else {
      return usage(argv[0]);
    }
  }
  for (auto& c : only)
    if (c != "floor" && c != "connects" && c != "messages" && c != "nodes" && c != "mesh")
      return usage(argv[0]);
  auto want = [&](const char* cell) { return only.empty() || only.count(cell) > 0; };
  // A peer gone mid-write must show as an error, not end the benchmark.
  std::signal(SIGPIPE, SIG_IGN);
  raise_fd_limit();
  node_sizes sz;
  size_t tls_connects = 500;
  if (quick) {
    sz.nodes = 11;
    sz.small_count = 5000;
    sz.large_count = 256; // 8 MiB
    sz.mesh_nodes = 20;
    tls_connects = 50;
  }
  if (mesh_nodes > 0)
    sz.mesh_nodes = mesh_nodes;
  std::printf("bench_node%s: %u cores, load average %s (other work skews the ratios)\n",
              quick ? " --quick" : "", std::thread::hardware_concurrency(),
              load_average().c_str());

  seconds_d limit{quick ? 60.0 : 600.0};
  auto floor = cell<floor_pod>(want("floor"), "baseline floor", limit, [&](auto send) {
    auto r = measure_tls_floor(sz.mesh_nodes);
    floor_pod out;
    out.ms = median(r.ms);
    out.kib_each = r.rss_kib_each;
    set_text(out.error, r.problem);
    send(out);
  });
  auto tls_conn = cell<floor_pod>(want("connects"), "baseline connects", limit, [&](auto send) {
    auto r = measure_tls_connects(tls_connects);
    floor_pod out;
    out.ms = median(r.ms);
    out.kib_each = r.rss_kib_each;
    set_text(out.error, r.problem);
    send(out);
  });
  auto tls_rates = cell<rates_pod>(want("messages"), "baseline messages", limit, [&](auto send) {
    auto small = measure_tls_rate(sz.small_size, sz.small_count);
    auto large = measure_tls_rate(sz.large_size, sz.large_count);
    rates_pod out;
    out.small_msgs = small.msgs_per_s;
    out.small_mb = small.mb_per_s;
    out.large_msgs = large.msgs_per_s;
    out.large_mb = large.mb_per_s;
    set_text(out.error, !small.problem.empty() ? small.problem : large.problem);
    send(out);
  });
  auto nodes = cell<nodes_pod>(want("nodes"), "nodes", limit, [&](auto send) {
    quiet_stdout();
    nodes_pod out;
    {
      runtime rt;
      auto r = measure_nodes(rt, sz);
      out.start_ms = median(r.start_ms);
      out.connect_ms = median(r.connect_ms);
      out.report_ms = median(r.report_ms);
      out.connects = r.connect_ms.size();
      out.small_msgs = r.small.msgs_per_s;
      out.small_mb = r.small.mb_per_s;
      out.large_msgs = r.large.msgs_per_s;
      out.large_mb = r.large.mb_per_s;
      set_text(out.error, r.problem);
    }
    send(out);
  });
  auto mesh = cell<mesh_pod>(want("mesh"), "mesh", limit, [&](auto send) {
    quiet_stdout();
    mesh_pod out;
    {
      runtime rt;
      auto r = measure_mesh(rt, sz);
      out.nodes = r.nodes;
      out.pairs = r.pairs;
      out.start_ms = r.start_ms;
      out.mesh_ms = r.mesh_ms;
      out.close_ms = r.close_ms;
      out.kib_node = r.kib_per_node();
      out.kib_conn = r.kib_per_connection();
      out.rss_before = r.rss_before_kib;
      out.rss_started = r.rss_started_kib;
      out.rss_meshed = r.rss_meshed_kib;
      out.rss_closed = r.rss_closed_kib;
      set_text(out.error, r.problem);
    }
    send(out);
  });

  std::printf("\n%zu nodes started one after another, %zu direct connects (medians); "
              "%zu x %zu B and %zu x %zu KiB messages; mesh of %zu nodes, %zu connects; "
              "baseline: %zu TLS connects (median)\n\n",
              sz.nodes, nodes.connects, sz.small_count, sz.small_size, sz.large_count,
              sz.large_size / 1024, mesh.nodes, mesh.pairs, tls_connects);
  std::printf("| %-40s | %10s | %10s | %6s | %-44s |\n", "metric", "p2pd", "baseline", "ratio",
              "baseline is");
  rule();
  const std::string tls_msgs = "one TLS connection, same framing";
  const std::string floor_is = "cert + 2 TLS contexts + 2 listeners";
  row("(a) node start, offline (ms)", nodes.start_ms, floor.ms, floor_is, 2);
  row("(b) direct connect (ms)", nodes.connect_ms, tls_conn.ms, "TCP connect + TLS 1.3 handshake",
      2);
  row("    the same, by the connect reports", nodes.report_ms, 0, "(whole ms)", 0);
  row("(c) 64 B messages/s", nodes.small_msgs, tls_rates.small_msgs, tls_msgs, 0);
  row("    64 B messages, MB/s", nodes.small_mb, tls_rates.small_mb, tls_msgs, 1);
  row("    32 KiB messages/s", nodes.large_msgs, tls_rates.large_msgs, tls_msgs, 0);
  row("    32 KiB messages, MB/s", nodes.large_mb, tls_rates.large_mb, tls_msgs, 1);
  row("(d) RSS per node (KiB)", mesh.kib_node, floor.kib_each, floor_is, 0);
  row("    RSS per connection, both ends (KiB)", mesh.kib_conn, tls_conn.kib_each,
      "TLS connection, both ends in one process", 1);
  row("(e) " + std::to_string(mesh.nodes) + " nodes: start all (ms)", mesh.start_ms, 0, "", 0);
  row("    full mesh, " + std::to_string(mesh.pairs) + " connects (ms)", mesh.mesh_ms, 0, "", 0);
  row("    mesh connects/s", mesh.mesh_ms > 0 ? mesh.pairs / (mesh.mesh_ms / 1000) : 0,
      tls_conn.ms > 0 ? 1000 / tls_conn.ms : 0, "TLS connects/s one at a time, from (b)", 0);
  row("    close all (ms)", mesh.close_ms, 0, "", 0);
  row("    RSS before start (MiB)", mib(mesh.rss_before), 0, "", 1);
  row("    RSS started (MiB)", mib(mesh.rss_started), 0, "", 1);
  row("    RSS meshed (MiB)", mib(mesh.rss_meshed), 0, "", 1);
  row("    RSS after close (MiB)", mib(mesh.rss_closed), 0, "", 1);
  std::printf("\n");

  bool failed = report("baseline floor", floor.error);
  failed = report("baseline connects", tls_conn.error) || failed;
  failed = report("baseline messages", tls_rates.error) || failed;
  failed = report("nodes", nodes.error) || failed;
  failed = report("mesh", mesh.error) || failed;
  std::printf("load average at the end: %s\n", load_average().c_str());
  return failed ? 1 : 0;
}
