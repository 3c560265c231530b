// p2pd ping ADDRESS|NAME [-c COUNT] [-i INTERVAL]: connects, then sends
// pings (control.hpp) and prints one line per round on stdout:
//   seq=1 rtt_ms=0.412 strategy=direct path=same-host transport=tcp
//   seq=2 timeout strategy=... (no pong within --timeout)
// and a summary. Exit 0 when every ping sent was answered, 4 when one was
// not, 1 when none could be sent.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <thread>

#include "cli.hpp"
#include "connect_common.hpp"
#include "control.hpp"
#include "session.hpp"

namespace p2pd::cli {

namespace {

struct ping_options {
  connect_cmd_options conn;
  int count = 4;
  double interval_s = 1.0;
};

int run_ping(const ping_options& o) {
  running_node rn;
  auto c = start_and_connect(rn, o.conn);
  if (!c.conn)
    return c.rc;
  auto& n = *rn.node;
  auto& r = c.conn->report;
  std::string how = std::string{"strategy="} + node::to_string(r.how)
                    + " path=" + node::to_string(r.path)
                    + " transport=" + (r.kind == node::transport::stream ? "tcp" : "udp");
  int answered = 0, sent = 0;
  bool stopped = false;
  double sum = 0, best = 0, worst = 0;
  for (int seq = 1; seq <= o.count && !stopped; ++seq) {
    if (seq > 1) // the interval, but a signal ends it at once
      rn.self->receive([&](stop_signal_atom, int) { stopped = true; }, [](caf::message&) {},
                       caf::after(std::chrono::microseconds(
                         static_cast<int64_t>(o.interval_s * 1e6))) >> [] {});
    if (stopped)
      break;
    auto t0 = std::chrono::steady_clock::now();
    if (auto err = n.send(c.conn->peer, encode({control_kind::ping, static_cast<uint64_t>(seq)}))) {
      std::cerr << "p2pd: ping " << seq << ": " << render(err) << '\n';
      break;
    }
    ++sent;
    auto deadline = t0 + std::chrono::seconds(o.conn.timeout_s);
    bool got = false, ended = false;
    while (!got && !ended && !stopped) {
      auto left = std::chrono::duration_cast<std::chrono::microseconds>(
        deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0)
        break;
      rn.self->receive(
        [&](node_msg& m) {
          if (answer_ping(n, m) || m.peer != c.conn->peer)
            return;
          std::string_view v{reinterpret_cast<const char*>(m.data.data()), m.data.size()};
          auto ctl = decode_control(v);
          if (ctl && ctl->kind == control_kind::pong && ctl->seq == static_cast<uint64_t>(seq))
            got = true;
        },
        [&](node_peer_end& e) { ended = e.peer == c.conn->peer; },
        [&](stop_signal_atom, int) { stopped = true; }, [](caf::message&) {},
        caf::after(left) >> [] {});
    }
    if (got) {
      double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                    .count();
      char text[32];
      std::snprintf(text, sizeof text, "%.3f", ms);
      std::cout << "seq=" << seq << " rtt_ms=" << text << ' ' << how << std::endl;
      sum += ms;
      best = answered == 0 ? ms : std::min(best, ms);
      worst = std::max(worst, ms);
      ++answered;
    } else if (ended) {
      std::cerr << "p2pd: the peer closed the connection\n";
      break;
    } else if (!stopped) {
      std::cout << "seq=" << seq << " timeout " << how << std::endl;
    }
  }
  char summary[128];
  std::snprintf(summary, sizeof summary, "min_ms=%.3f avg_ms=%.3f max_ms=%.3f", best,
                answered > 0 ? sum / answered : 0.0, worst);
  std::cout << "pings sent=" << sent << " answered=" << answered << ' ' << summary
            << std::endl;
  n.disconnect(c.conn->peer);
  rn.close();
  // Stopped by a signal: what was sent counts, as with ping(8).
  if (sent == 0)
    return exit_failure;
  return answered == sent ? exit_ok : exit_timeout;
}

} // namespace

void add_ping(CLI::App& root, command_list& out) {
  auto o = std::make_shared<ping_options>();
  auto* app = root.add_subcommand(
    "ping", "connect to a peer and measure round trips (the peer must be a p2pd node or "
            "listen, which answer pings)");
  add_connect_options(app, o->conn);
  app->add_option("-c,--count", o->count, "rounds (default 4)")
    ->check(CLI::Range(1, 100000))
    ->type_name("COUNT");
  app->add_option("-i,--interval", o->interval_s, "seconds between rounds (default 1)")
    ->check(CLI::Range(0.0, 3600.0))
    ->type_name("INTERVAL");
  out.push_back({app, [o] { return run_ping(*o); }});
}

} // namespace p2pd::cli
