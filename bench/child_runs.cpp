#include "child_runs.hpp"

#include <algorithm>
#include <cstdio>

#include "p2pd/api/runtime.hpp"

#include "echo_load.hpp"
#include "fork_child.hpp"
#include "servers.hpp"
#include "sys_util.hpp"

namespace p2pd::bench {

const char* name_of(variant v) {
  return v == variant::p2pd ? "p2pd" : "baseline";
}

std::string clients_label(int n) {
  return std::to_string(n) + (n == 1 ? " client" : " clients");
}

namespace {

// -- what a child runs --------------------------------------------------------

/// Runs `body` with a factory of `v`'s servers. For p2pd the runtime is
/// created here, i.e. in the child, and destroyed after `body` returns.
template <class Body>
void with_servers(variant v, Body&& body) {
  if (v == variant::p2pd) {
    p2pd::runtime rt;
    server_factory make = [&rt](service s) { return make_p2pd_server(rt, s); };
    body(make);
  } else {
    server_factory make = [](service s) { return make_epoll_server(s); };
    body(make);
  }
}

void note_problems(cells_result& r, const char* what, server& srv) {
  auto p = srv.problems();
  if (!p.empty())
    add_text(r.problems, std::string{what} + ": " + p);
}

void record(cells_result& r, const echo_outcome& o) {
  r.resends += o.resends;
  r.stale += o.stale;
  r.corrupt += o.corrupt;
  r.dead_clients += o.dead_clients;
}

void log_cell(variant v, int run, const std::string& cell, double value, const char* unit) {
  std::printf("  run %d  %-8s  %-24s %12.0f %s\n", run + 1, name_of(v), cell.c_str(), value,
              unit);
  std::fflush(stdout);
}

cells_result measure_cells(variant v, int run, const server_factory& make,
                           const options& o) {
  cells_result r;
  schedule s{o.warmup, o.cell, 1};
  for (bool udp : {false, true}) {
    for (size_t k = 0; k < client_counts.size(); ++k) {
      auto srv = make(udp ? service::udp_echo : service::tcp_echo);
      auto out = run_echo(*srv, udp, client_counts[k], s);
      double rate = out.rates.empty() ? 0 : out.rates.front();
      (udp ? r.udp_rt : r.tcp_rt)[k] = rate;
      record(r, out);
      auto cell = std::string{udp ? "udp" : "tcp"} + " echo, " + clients_label(client_counts[k]);
      note_problems(r, cell.c_str(), *srv);
      log_cell(v, run, cell, rate, "rt/s");
    }
  }
  for (int i = 0; i < std::min(o.bulk_transfers, max_transfers); ++i) {
    auto sink = make(service::tcp_sink);
    r.bulk_mib_s[r.bulk_n++] = run_bulk(*sink, o.bulk_bytes, seconds_d{30});
    note_problems(r, "tcp bulk", *sink);
    log_cell(v, run, "tcp bulk, transfer " + std::to_string(i + 1), r.bulk_mib_s[i], "MiB/s");
  }
  r.peak_rss_kib = proc_status_kib("VmHWM");
  return r;
}

soak_result soak(const server_factory& make, const options& o) {
  soak_result r;
  auto srv = make(service::tcp_echo);
  schedule s{o.warmup, o.soak_window, std::min(o.soak_windows, max_windows)};
  auto out = run_echo(*srv, false, client_counts[1], s, [&](int i, double rate) {
    if (i >= 0)
      r.rate[i] = rate;
    r.rss_mib[i + 1] = mib(proc_status_kib("VmRSS"));
  });
  r.windows = static_cast<int>(out.rates.size());
  r.corrupt = out.corrupt;
  r.dead_clients = out.dead_clients;
  set_text(r.problems, srv->problems());
  return r;
}

} // namespace

cells_result run_cells_child(variant v, int run, const options& o) {
  return run_in_child<cells_result>(name_of(v), seconds_d{120}, [&](auto& send) {
    with_servers(v, [&](const server_factory& make) { send(measure_cells(v, run, make, o)); });
  });
}

soak_result run_soak_child(variant v, const options& o) {
  auto limit = o.soak_window * o.soak_windows + seconds_d{60};
  return run_in_child<soak_result>(name_of(v), limit, [&](auto& send) {
    with_servers(v, [&](const server_factory& make) { send(soak(make, o)); });
  });
}

} // namespace p2pd::bench
