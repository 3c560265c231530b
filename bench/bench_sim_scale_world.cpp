#include <sys/resource.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <numeric>
#include <set>
#include <stdexcept>
#include <sstream>

#include "p2pd/net/util/splitmix64.hpp"
#include "p2pd/sim/matrix/matrix_doc.hpp"
#include "p2pd/sim/matrix/matrix_run.hpp"
#include "p2pd/sim/world/node_scenario.hpp"

#include "bench_sim_scale.hpp"
#include "sys_util.hpp"

namespace p2pd::bench {

namespace {

using namespace std::chrono_literals;

long peak_rss_kib() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss; // KiB on Linux
}

double virtual_s(sim::sim_time t) {
  return std::chrono::duration<double>(t).count();
}

scale_counts snapshot(sim::node_scenario& w) {
  auto c = w.counts();
  scale_counts out;
  out.jobs = c.jobs;
  out.clock_events = c.clock_events;
  w.net()->with([&](sim::world& x) {
    out.fabric_events = x.fabric().queue().executed();
    out.packets = x.fabric().stats().sent;
    out.packets_tcp = x.fabric().stats().sent_tcp;
  });
  return out;
}

// One connect of the sample.
struct planned {
  size_t row = 0, col = 0;
  node::transport kind = node::transport::stream;
};

// The sample: round j (35 connects) pairs row r with column (r + shift_j)
// mod 35, the shifts a seeded permutation, so every round has every row and
// every column once, and no pair repeats within 35 rounds; TCP and UDP
// alternate (35 is odd: a row's transport changes from round to round).
std::vector<planned> plan_sample(size_t n_configs, size_t connects, net::splitmix64& rng) {
  std::vector<size_t> shift(n_configs);
  std::iota(shift.begin(), shift.end(), size_t{0});
  for (size_t i = n_configs; i > 1; --i)
    std::swap(shift[i - 1], shift[rng.next() % i]);
  std::vector<planned> out;
  for (size_t k = 0; k < connects; ++k) {
    planned p;
    p.row = k % n_configs;
    p.col = (p.row + shift[(k / n_configs) % n_configs]) % n_configs;
    p.kind = k % 2 == 0 ? node::transport::stream : node::transport::datagram;
    out.push_back(p);
  }
  return out;
}

// The node's strategies for `kind` without a relay (the world has no TURN
// server), in its order: what docs/sim-matrix.md was made with.
std::vector<node::strategy> strategies_for(node::transport kind) {
  if (kind == node::transport::stream)
    return {node::strategy::direct, node::strategy::reverse, node::strategy::punch};
  return {node::strategy::punch};
}

sim::matrix_outcome outcome_of(const sim::connect_outcome& o) {
  if (o.how == "direct")
    return sim::matrix_outcome::direct;
  if (o.how == "reverse")
    return sim::matrix_outcome::reverse;
  if (o.how == "punch")
    return o.kind == node::transport::stream ? sim::matrix_outcome::tcp_punch
                                             : sim::matrix_outcome::udp_punch;
  if (o.how == "relay")
    return sim::matrix_outcome::relay;
  return sim::matrix_outcome::none;
}

// The matrix document, if it reads and has the same configurations.
std::optional<sim::nat_matrix> read_matrix(const std::string& path,
                                           const std::vector<sim::matrix_config>& configs,
                                           std::string& why) {
  std::ifstream in{path};
  if (!in) {
    why = "cannot read " + path;
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  auto m = sim::parse_markdown(text.str());
  if (!m) {
    why = path + " does not read as a matrix: " + m.error().what;
    return std::nullopt;
  }
  bool same = m->size() == configs.size();
  for (size_t i = 0; same && i < configs.size(); ++i)
    same = m->configs[i] == configs[i].label;
  if (!same) {
    why = path + " has other configurations";
    return std::nullopt;
  }
  return std::move(*m);
}

} // namespace

world_result run_node_world(const scale_options& o) {
  world_result r;
  r.nodes = o.nodes;
  auto configs = sim::all_35_configs();
  const auto n_cfg = configs.size();
  if (o.nodes < 2 * n_cfg) // a pair of one configuration needs two nodes of it
    throw std::invalid_argument("bench_sim_scale: at least " + std::to_string(2 * n_cfg)
                                + " nodes");
  auto t0 = clk::now();
  sim::scenario_config cfg;
  cfg.seed = o.seed;
  cfg.internet = {10ms};
  auto w = std::make_unique<sim::node_scenario>(cfg);
  std::vector<std::vector<size_t>> by_config(n_cfg);
  for (size_t i = 0; i < o.nodes; ++i) {
    auto& c = configs[i % n_cfg];
    by_config[i % n_cfg].push_back(w->add_site_node(c.profile, c.label + " #" + std::to_string(i)));
  }
  bool ok = w->wait_ready(5min);
  r.ready_wall_s = seconds_d(clk::now() - t0).count();
  r.ready_virtual_s = virtual_s(w->now());
  r.ready_rss_kib = peak_rss_kib();
  r.start = snapshot(*w);
  r.not_ready = ok ? "" : w->why();
  // why() says "label: reason; " per node that is not ready.
  size_t failed = 0;
  for (size_t at = 0; (at = r.not_ready.find("; ", at)) != std::string::npos; at += 2)
    ++failed;
  r.ready = o.nodes - std::min(failed, o.nodes);

  std::string why;
  std::optional<sim::nat_matrix> matrix;
  if (!o.matrix_doc.empty())
    matrix = read_matrix(o.matrix_doc, configs, why);
  r.matrix_note = why;

  net::splitmix64 rng{o.seed ^ 0x5ca1ab1eULL};
  auto sample = plan_sample(n_cfg, o.connects, rng);
  std::set<size_t> rows, cols;
  for (auto& p : sample) {
    auto& from = by_config[p.row];
    auto& to = by_config[p.col];
    auto ia = rng.next() % from.size();
    auto ib = rng.next() % to.size();
    if (from[ia] == to[ib]) // the same configuration: another node of it
      ib = (ib + 1) % to.size();
    node::connect_options opts;
    opts.kind = p.kind;
    opts.strategies = strategies_for(p.kind);
    w->connect(from[ia], to[ib], opts);
    rows.insert(p.row);
    cols.insert(p.col);
    ++(p.kind == node::transport::stream ? r.tcp : r.udp);
  }
  r.rows = rows.size();
  r.cols = cols.size();
  auto v0 = w->now();
  auto t1 = clk::now();
  // 30 virtual s per connect, as the matrix.
  auto rows_out = w->run_connects(30s, std::chrono::seconds(o.settle_s));
  r.connect_wall_s = seconds_d(clk::now() - t1).count();
  r.connect_virtual_s = virtual_s(w->now() - v0);
  r.connect = snapshot(*w) - r.start;
  r.peak_rss_kib = peak_rss_kib();
  r.connects = rows_out.size();
  for (size_t k = 0; k < rows_out.size(); ++k) {
    auto& out = rows_out[k]; // in the order queued: the sample's
    const auto& p = sample[k];
    auto kind = out.kind == node::transport::stream ? "TCP " : "UDP ";
    ++r.outcomes[kind + out.how];
    if (out.error.rfind("no answer", 0) == 0 || out.error == "a node is not ready")
      r.unanswered.push_back(kind + out.from + " -> " + out.to + ": " + out.error);
    if (!matrix)
      continue;
    auto want = matrix->at(p.kind == node::transport::stream ? matrix->tcp : matrix->udp, p.row,
                           p.col)
                  .how;
    auto got = outcome_of(out);
    ++r.compared;
    if (want == got)
      ++r.agreed;
    else
      r.disagree.push_back(kind + configs[p.row].label + " -> " + configs[p.col].label + ": "
                           + sim::to_string(got) + ", the matrix " + sim::to_string(want)
                           + (out.error.empty() ? "" : " (" + out.error + ")"));
  }
  auto t2 = clk::now();
  w.reset(); // closes every node, then the system ends
  r.teardown_wall_s = seconds_d(clk::now() - t2).count();
  return r;
}

} // namespace p2pd::bench
