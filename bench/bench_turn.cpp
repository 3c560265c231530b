// bench_turn: UDP and TCP round trips and throughput through a TURN relay (a
// coturn the benchmark starts on loopback), p2pd's TURN clients against
// plain TURN clients of the same coturn, and both against a direct path, in
// one run: the UDP table, then the TCP one.
//
//   bench_turn           full run: 3 runs per cell (about 2.5 min)
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
// The TCP cells (RFC 6062 allocations) work alike with one plain TCP
// connection as the peer (turn_tcp_load.hpp) that connects to the echo:
//   p2pd relay    a TCP relay (spawn_turn_stream_relay) permitting the
//                 peer's IP; the peer connects to its relayed address and
//                 the data pipe's on_msg handler answers inline
//   plain relay   a blocking client with the same codec (turn_tcp_plain.hpp):
//                 Allocate, CreatePermission, ConnectionAttempt,
//                 ConnectionBind on a data connection, then recv and send
//   p2pd direct   a p2pd TCP server pipe answering inline
//   plain direct  the epoll TCP echo of bench_pipes
// The relay path is peer -> coturn -> echo's data connection -> coturn ->
// peer, coturn copying bytes between two TCP connections each way.
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
#include "p2pd/actors/turn/turn_stream_relay.hpp"
#include "p2pd/api/runtime.hpp"

#include "servers.hpp"
#include "sys_util.hpp"
#include "turn_load.hpp"
#include "turn_plain.hpp"
#include "turn_report.hpp"
#include "turn_tcp_load.hpp"
#include "turn_tcp_plain.hpp"

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
  note_count(out, "dropped_unclaimed", st.dropped_unclaimed);
  note_count(out, "dropped_queue_full", st.dropped_queue_full);
  note_count(out, "dropped_oversized", st.dropped_oversized);
  note_count(out, "dropped_send", st.dropped_send);
  note_count(out, "rx_errors", st.rx_errors);
  return out;
}

/// p2pd's TCP relay as an echo: allocated, the peer's IP permitted; the
/// data pipes answer what they get inline. It is their acceptor, to ask
/// the peer's data pipe for its stats.
class p2pd_stream_echo {
public:
  p2pd_stream_echo(runtime& rt, const turn_account& acct)
    : self_(rt.system()), acceptor_(rt.system()) {
    turn_stream_relay_spec spec;
    spec.server.server = acct.server;
    spec.server.transport = net::protocol::tcp;
    spec.server.username = acct.username;
    spec.server.password = acct.password;
    spec.timing = loopback_stun_timing();
    spec.data.on_msg = [](pipe_io& io, std::string_view data, const endpoint&) {
      io.reply(data); // a refused reply is counted by the pipe (dropped_send)
    };
    spec.acceptor = caf::actor_cast<caf::actor>(acceptor_);
    relay_ = spawn_turn_stream_relay(rt.system(), std::move(spec));
  }

  ~p2pd_stream_echo() {
    self_->request(relay_, 5s, caf::close_atom::value)
      .receive([](caf::ok_atom) {}, [](caf::error&) {});
  }

  /// Allocates and permits `peer_ip`; the relayed address, or `why`.
  std::optional<endpoint> open(const net::ip_address& peer_ip, std::string& why) {
    std::optional<endpoint> relayed;
    self_->request(relay_, 10s, caf::open_atom::value)
      .receive([&](endpoint& e) { relayed = e; },
               [&](caf::error& e) { why = "open: " + self_->system().render(e); });
    if (!relayed)
      return relayed;
    self_->request(relay_, 5s, permit_atom::value, endpoint{peer_ip, 0})
      .receive([](caf::ok_atom) {}, [&](caf::error& e) {
        why = "permit: " + self_->system().render(e);
        relayed.reset();
      });
    return relayed;
  }

  /// The data pipe of the peer's connection, handed to the acceptor once
  /// bound (the peer has connected); false if none came within `limit`.
  bool await_stream(caf::timespan limit) {
    bool got = false;
    acceptor_->receive(
      [&](turn_stream& s) {
        stream_ = s.pipe;
        got = true;
      },
      caf::after(limit) >> [] {});
    return got;
  }

  /// The relay's and the data pipe's counts of what went wrong.
  std::string problems() {
    turn_relay_stats st;
    self_->request(relay_, 5s, stats_atom::value)
      .receive([&](turn_relay_stats& s) { st = s; }, [](caf::error&) {});
    std::string out;
    note_count(out, "attempts_dropped", st.attempts_dropped);
    note_count(out, "binds_failed", st.binds_failed);
    note_count(out, "malformed", st.malformed);
    note_count(out, "forged", st.forged);
    if (stream_) {
      self_->request(stream_, 5s, stats_atom::value)
        .receive(
          [&](pipe_stats& ps) {
            auto more = stats_problems(ps);
            out += (out.empty() || more.empty() ? "" : ", ") + more;
          },
          [](caf::error&) {});
    }
    return out;
  }

private:
  caf::scoped_actor self_;
  caf::scoped_actor acceptor_;
  turn_stream_relay_actor relay_;
  pipe_actor stream_;
};

load_sizes sizes_for(bool quick, bool stream) {
  load_sizes sz;
  if (stream) // bytes on a stream: a bulk size too
    sz.rate_sizes = {64, 1000, 16384};
  if (quick) {
    sz.rtt_warmup = 20;
    sz.rtt_samples = 300;
    sz.rate_warmup = seconds_d{0.05};
    sz.rate_time = seconds_d{0.3};
  }
  return sz;
}

const char* cell_names[2][4] = {
  {"p2pd relay (TURN pipe)", "plain relay (raw TURN client)", "p2pd direct (UDP pipe)",
   "plain direct (epoll echo)"},
  {"p2pd relay (TCP allocation)", "plain relay (raw TCP TURN client)", "p2pd direct (TCP pipe)",
   "plain direct (epoll echo)"}};

std::vector<cell> named_cells(bool stream) {
  std::vector<cell> cells(4);
  for (size_t i = 0; i < cells.size(); ++i)
    cells[i].name = cell_names[stream ? 1 : 0][i];
  return cells;
}

/// The UDP table; true if it failed.
bool udp_cells(runtime& rt, const turn_account* acct, const std::string& no_relay,
               const load_sizes& sz, int runs) {
  auto cells = named_cells(false);
  std::vector<std::unique_ptr<udp_peer>> peers;
  for (size_t i = 0; i < cells.size(); ++i)
    peers.push_back(std::make_unique<udp_peer>());

  std::unique_ptr<p2pd_turn_echo> p2pd_relay;
  std::unique_ptr<plain_turn_echo> plain_relay;
  if (acct) {
    p2pd_relay = std::make_unique<p2pd_turn_echo>(rt, *acct);
    if (auto r = p2pd_relay->open(peers[0]->local(), cells[0].problem))
      cells[0].target = *r;
    plain_relay = plain_turn_echo::start(*acct, peers[1]->local(), cells[1].problem);
    if (plain_relay)
      cells[1].target = plain_relay->relayed();
    for (size_t i = 0; i < 2; ++i)
      if (cells[i].problem.empty() && !peers[i]->await_hello(cells[i].target, seconds_d{5}))
        cells[i].problem = "no hello from the echo through the relay within 5 s";
  } else {
    cells[0].problem = cells[1].problem = "skipped: " + no_relay;
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

  print_turn_table(cells, sz, runs, false);
  bool failed = print_turn_problems(cells, acct != nullptr);
  p2pd_direct.reset(); // on the runtime's thread, before the runtime goes
  return failed;
}

/// The TCP table; true if it failed.
bool tcp_cells(runtime& rt, const turn_account* acct, const std::string& no_relay,
               const load_sizes& sz, int runs) {
  auto cells = named_cells(true);
  std::vector<tcp_peer> peers(cells.size());
  auto peer_ip = net::ip_address::loopback(net::family::v4);

  std::unique_ptr<p2pd_stream_echo> p2pd_relay;
  std::unique_ptr<plain_tcp_turn_echo> plain_relay;
  if (acct) {
    p2pd_relay = std::make_unique<p2pd_stream_echo>(rt, *acct);
    if (auto r = p2pd_relay->open(peer_ip, cells[0].problem))
      cells[0].target = *r;
    plain_relay = plain_tcp_turn_echo::start(*acct, peer_ip, cells[1].problem);
    if (plain_relay)
      cells[1].target = plain_relay->relayed();
  } else {
    cells[0].problem = cells[1].problem = "skipped: " + no_relay;
  }
  auto p2pd_direct = make_p2pd_server(rt, service::tcp_echo);
  auto plain_direct = make_epoll_server(service::tcp_echo);
  cells[2].target = loopback(p2pd_direct->port());
  cells[3].target = loopback(plain_direct->port());
  for (size_t i = 0; i < cells.size(); ++i) {
    if (!cells[i].problem.empty())
      continue;
    cells[i].problem = peers[i].connect(cells[i].target);
    if (i == 0 && cells[i].problem.empty() && !p2pd_relay->await_stream(5s))
      cells[i].problem = "the peer's connection did not reach the relay's acceptor within 5 s";
    // Through a relay the echo binds the connection first.
    if (cells[i].problem.empty() && !peers[i].await_echo(seconds_d{5}))
      cells[i].problem = "no echo of a first message within 5 s";
  }

  for (int run = 0; run < runs; ++run)
    for (size_t i = 0; i < cells.size(); ++i)
      if (cells[i].problem.empty())
        cells[i].runs.push_back(peers[i].run(sz));

  if (p2pd_relay)
    cells[0].echo_problems = p2pd_relay->problems();
  if (plain_relay)
    cells[1].echo_problems = plain_relay->problems();
  cells[2].echo_problems = p2pd_direct->problems();
  cells[3].echo_problems = plain_direct->problems();

  print_turn_table(cells, sz, runs, true);
  bool failed = print_turn_problems(cells, acct != nullptr);
  p2pd_direct.reset();
  p2pd_relay.reset();
  return failed;
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
  auto udp_sz = sizes_for(quick, false);
  auto tcp_sz = sizes_for(quick, true);
  if (window > 0)
    udp_sz.window = tcp_sz.window = window;
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
  const turn_account* relay = coturn ? &acct : nullptr;
  bool failed = udp_cells(rt, relay, why, udp_sz, runs);
  failed = tcp_cells(rt, relay, why, tcp_sz, runs) || failed;
  std::printf("\nload average at the end: %s\n", load_average().c_str());
  return failed ? 1 : 0;
}
