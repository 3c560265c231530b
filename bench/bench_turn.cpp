// bench_turn: UDP round trips and throughput through a TURN relay (a coturn
// the benchmark starts on loopback), p2pd's TURN pipe against a plain TURN
// client of the same coturn, and both against a direct path, in one run.
//
//   bench_turn           full run: 3 runs per cell (about 60 s)
//   bench_turn --quick   smoke run (CTest): 1 short run
//
// One plain UDP socket, the peer outside p2pd, drives every cell alike (see
// turn_load.hpp): it sends to an echo and times the answers. The echoes:
//   p2pd relay    a TURN pipe (spawn_turn_pipe) whose on_msg handler answers
//                 through the relay; the peer sends to its relayed address
//   plain relay   a TURN client on a blocking socket with the project's
//                 CAF-free codec (turn_plain.hpp), its own thread
//   p2pd direct   a p2pd UDP server pipe answering inline (as in bench_pipes)
//   plain direct  the epoll UDP echo of bench_pipes (servers.hpp)
// The relay path is peer -> coturn -> echo -> coturn -> peer; the echo
// binds its channel to the peer first (a hello), so both relay cells carry
// ChannelData. Ratios: p2pd relay / plain relay (the TURN pipe's cost), p2pd
// relay / p2pd direct and plain relay / plain direct (the relay's cost).
//
// Exit status: 1 when a cell could not be set up, measured nothing or got
// corrupt answers; 0 with the relay cells skipped when coturn is not
// installed. Loss and slow numbers are printed, not failed.

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

#include "caf/all.hpp"

#include "coturn_fixture.hpp"

#include "p2pd/actors/stun/stun_timing.hpp"
#include "p2pd/actors/turn/turn_pipe.hpp"
#include "p2pd/api/runtime.hpp"

#include "servers.hpp"
#include "sys_util.hpp"
#include "turn_load.hpp"
#include "turn_plain.hpp"
#include "turn_report.hpp"

using namespace p2pd;
using namespace p2pd::bench;
using namespace std::chrono_literals;

namespace {

/// p2pd's TURN pipe as an echo: allocated, its channel bound to `peer`.
class p2pd_turn_echo {
public:
  p2pd_turn_echo(runtime& rt, const turn_account& acct) : self_(rt.system()) {
    turn_pipe_spec spec;
    spec.server.server = acct.server;
    spec.server.username = acct.username;
    spec.server.password = acct.password;
    spec.timing = loopback_stun_timing();
    spec.on_msg = [](pipe_io& io, std::string_view data, const endpoint&) {
      io.reply(data); // a refused reply is counted by the pipe (dropped_send)
    };
    pipe_ = spawn_turn_pipe(rt.system(), std::move(spec));
  }

  ~p2pd_turn_echo() {
    self_->request(pipe_, 5s, caf::close_atom::value)
      .receive([](caf::ok_atom) {}, [](caf::error&) {});
  }

  /// Allocates and says hello to `peer`; the relayed address, or `why`.
  std::optional<endpoint> open(const endpoint& peer, std::string& why) {
    std::optional<endpoint> relayed;
    self_->request(pipe_, 10s, caf::open_atom::value)
      .receive([&](pipe_info& i) { relayed = i.local; },
               [&](caf::error& e) { why = "open: " + self_->system().render(e); });
    if (relayed)
      caf::anon_send(pipe_, send_atom::value, bytes{'h', 'e', 'l', 'l', 'o'}, peer);
    return relayed;
  }

  pipe_stats stats() {
    pipe_stats out;
    self_->request(pipe_, 5s, stats_atom::value)
      .receive([&](pipe_stats& s) { out = s; }, [](caf::error&) {});
    return out;
  }

private:
  caf::scoped_actor self_;
  turn_pipe_actor pipe_;
};

std::string stats_problems(const pipe_stats& st) {
  std::string out;
  auto note = [&](const char* what, uint64_t n) {
    if (n != 0)
      out += (out.empty() ? "" : ", ") + std::to_string(n) + " " + what;
  };
  note("dropped_unclaimed", st.dropped_unclaimed);
  note("dropped_queue_full", st.dropped_queue_full);
  note("dropped_oversized", st.dropped_oversized);
  note("dropped_send", st.dropped_send);
  note("rx_errors", st.rx_errors);
  return out;
}

load_sizes sizes_for(bool quick) {
  load_sizes sz;
  if (quick) {
    sz.rtt_warmup = 20;
    sz.rtt_samples = 300;
    sz.rate_warmup = seconds_d{0.05};
    sz.rate_time = seconds_d{0.3};
  }
  return sz;
}

int usage(const char* prog) {
  std::fprintf(stderr, "usage: %s [--quick] [--runs N] [--window W]\n", prog);
  return 2;
}

} // namespace

int main(int argc, char** argv) {
  bool quick = false;
  int runs = 3;
  int window = 0;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0)
      quick = true;
    else if (std::strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
      runs = std::max(1, std::atoi(argv[++i]));
    else if (std::strcmp(argv[i], "--window") == 0 && i + 1 < argc)
      window = std::max(1, std::atoi(argv[++i]));
    else
      return usage(argv[0]);
  }
  if (quick)
    runs = 1;
  auto sz = sizes_for(quick);
  if (window > 0)
    sz.window = window;
  std::printf("bench_turn%s: %u cores, load average %s (other work skews the ratios)\n",
              quick ? " --quick" : "", std::thread::hardware_concurrency(),
              load_average().c_str());

  std::string why;
  test::coturn_options copts;
  copts.turn = true;
  // The server outlives the runtime: pipes still open delete their
  // allocations on a live server.
  auto coturn = test::coturn_server::start(why, copts);
  if (!coturn) {
    std::printf("coturn: %s\n", why.c_str());
    if (!test::not_installed(why))
      return 1;
    std::printf("the relay cells are skipped\n");
  }
  turn_account acct;
  if (coturn)
    acct = {coturn->primary(), copts.user, copts.password};

  runtime rt;
  std::vector<cell> cells(4);
  cells[0].name = "p2pd relay (TURN pipe)";
  cells[1].name = "plain relay (raw TURN client)";
  cells[2].name = "p2pd direct (UDP pipe)";
  cells[3].name = "plain direct (epoll echo)";
  std::vector<std::unique_ptr<udp_peer>> peers;
  for (size_t i = 0; i < cells.size(); ++i)
    peers.push_back(std::make_unique<udp_peer>());

  std::unique_ptr<p2pd_turn_echo> p2pd_relay;
  std::unique_ptr<plain_turn_echo> plain_relay;
  if (coturn) {
    p2pd_relay = std::make_unique<p2pd_turn_echo>(rt, acct);
    if (auto r = p2pd_relay->open(peers[0]->local(), cells[0].problem))
      cells[0].target = *r;
    plain_relay = plain_turn_echo::start(acct, peers[1]->local(), cells[1].problem);
    if (plain_relay)
      cells[1].target = plain_relay->relayed();
    for (size_t i = 0; i < 2; ++i)
      if (cells[i].problem.empty() && !peers[i]->await_hello(cells[i].target, seconds_d{5}))
        cells[i].problem = "no hello from the echo through the relay within 5 s";
  } else {
    cells[0].problem = cells[1].problem = "skipped: " + why;
  }
  auto p2pd_direct = make_p2pd_server(rt, service::udp_echo);
  auto plain_direct = make_epoll_server(service::udp_echo);
  cells[2].target = loopback(p2pd_direct->port());
  cells[3].target = loopback(plain_direct->port());

  // Runs of the cells alternate, so that a load change hits all alike.
  for (int run = 0; run < runs; ++run)
    for (size_t i = 0; i < cells.size(); ++i)
      if (cells[i].problem.empty())
        cells[i].runs.push_back(peers[i]->run(cells[i].target, sz));

  if (p2pd_relay)
    cells[0].echo_problems = stats_problems(p2pd_relay->stats());
  if (plain_relay)
    cells[1].echo_problems = plain_relay->problems();
  cells[2].echo_problems = p2pd_direct->problems();
  cells[3].echo_problems = plain_direct->problems();

  print_turn_table(cells, sz, runs);
  bool failed = print_turn_problems(cells, coturn != nullptr);
  std::printf("\nload average at the end: %s\n", load_average().c_str());
  p2pd_direct.reset(); // on the runtime's thread, before the runtime goes
  p2pd_relay.reset();
  return failed ? 1 : 0;
}
