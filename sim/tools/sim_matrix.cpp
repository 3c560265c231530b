// p2pd_sim_matrix: the NAT matrix of the simulated network (issue 14). For
// every ordered pair of the 35 NAT configurations, over TCP and UDP, a world
// of its own in which a node behind the first NAT connects to a node behind
// the second with every strategy it has for that transport; the cell is
// the strategy that connected and the connect's virtual time.
//   p2pd_sim_matrix --out docs/sim-matrix     writes .md and .svg
//   p2pd_sim_matrix --check docs/sim-matrix   regenerates, compares both
//                                             files, exit 1 naming the
//                                             cells that changed
//   [--jobs N] [--seed S] [--configs K]       K < 35: the first K only
//   [--no-relay]                              without the relay strategy
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>

#include "p2pd/sim/matrix/matrix_doc.hpp"
#include "p2pd/sim/matrix/matrix_run.hpp"
#include "p2pd/sim/world/node_pair.hpp"

#include "../../tools/args.hpp"

using namespace p2pd;
using namespace p2pd::sim;

namespace {

// The strategies a connect of `kind` may use, in the node's order.
std::vector<node::strategy> strategies_for(node::transport kind, bool relay) {
  std::vector<node::strategy> out;
  if (kind == node::transport::stream)
    out = {node::strategy::direct, node::strategy::reverse, node::strategy::punch};
  else
    out = {node::strategy::punch};
  if (relay)
    out.push_back(node::strategy::relay);
  return out;
}

matrix_cell cell_of(const connect_outcome& o, node::transport kind) {
  matrix_cell c;
  if (!o.connected())
    return c;
  if (o.how == "direct")
    c.how = matrix_outcome::direct;
  else if (o.how == "reverse")
    c.how = matrix_outcome::reverse;
  else if (o.how == "punch")
    c.how = kind == node::transport::stream ? matrix_outcome::tcp_punch
                                            : matrix_outcome::udp_punch;
  else if (o.how == "relay")
    c.how = matrix_outcome::relay;
  c.virtual_ms = static_cast<uint32_t>(o.ms < 0 ? 0 : o.ms);
  return c;
}

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  if (!in)
    return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

bool write_file(const std::string& path, const std::string& text) {
  std::ofstream out{path, std::ios::binary | std::ios::trunc};
  out << text;
  return static_cast<bool>(out.flush());
}

} // namespace

int main(int argc, char** argv) {
  examples::args cli{"p2pd_sim_matrix",
                     "the NAT matrix of the simulated network: every pair of the 35 NAT "
                     "configurations, TCP and UDP, which strategy connected"};
  cli.option("--out", "PREFIX", "write PREFIX.md and PREFIX.svg")
    .option("--check", "PREFIX", "regenerate and compare with PREFIX.md and PREFIX.svg")
    .option("--jobs", "N", "worlds run at once (default: the machine's cores)")
    .option("--seed", "S", "the matrix's seed (default 1)")
    .option("--configs", "K", "the first K configurations only (default 35)")
    .flag("--no-relay", "connect without the relay strategy");
  if (auto rc = cli.parse(argc, argv))
    return *rc;
  if (cli.has("--out") == cli.has("--check"))
    return cli.fail("give one of --out and --check");
  auto jobs = cli.count("--jobs", std::max(1u, std::thread::hardware_concurrency()), 1, 64);
  auto seed = cli.count("--seed", 1, 0, UINT64_MAX >> 8);
  auto count = cli.count("--configs", 35, 2, 35);
  if (!jobs || !seed || !count)
    return examples::exit_usage;

  auto configs = all_35_configs();
  configs.resize(*count);
  // Every pair's world has the project's TURN server (node_scenario).
  const bool relay = !cli.has("--no-relay");
  auto runner = [relay](const matrix_pair& p) {
    node_pair_spec spec;
    spec.from = p.from->profile;
    spec.to = p.to->profile;
    spec.kind = p.transport == matrix_transport::tcp ? node::transport::stream
                                                     : node::transport::datagram;
    spec.strategies = strategies_for(spec.kind, relay);
    spec.seed = p.seed;
    return cell_of(run_node_pair(spec), spec.kind);
  };
  size_t shown = 0;
  nat_matrix m;
  try {
    m = run_matrix(configs, *seed, static_cast<unsigned>(*jobs), runner,
                   [&](size_t done, size_t total) {
                     if (done * 10 / total > shown) {
                       shown = done * 10 / total;
                       std::cerr << "p2pd_sim_matrix: " << done << " of " << total << " pairs\n";
                     }
                   });
  } catch (const std::exception& e) {
    std::cerr << "p2pd_sim_matrix: " << e.what() << '\n';
    return examples::exit_failure;
  }
  m.provenance = "Written by `p2pd_sim_matrix --out docs/sim-matrix` (seed "
                 + std::to_string(*seed)
                 + "); checked by the CTest `sim_matrix_doc`. Each cell is a world of its "
                   "own: a STUN server on two public addresses, the project's TURN server "
                   "(UDP relays, reached over UDP or TCP) on another public host, the "
                   "in-process signalling hub, Internet latency 10 ms, and two nodes, each "
                   "alone behind a site of its configuration. The row's node connects to "
                   "the column's with every strategy it has for the transport, in the "
                   "node's order (TCP: direct, reverse, TCP punch; UDP: UDP punch"
                 + std::string{relay ? "; then the relay (for TCP a relayed stream needs RFC "
                                       "6062 TCP allocations, which this TURN server does "
                                       "not have: it answers 442)"
                                     : "; no relay"}
                 + "), within 30 virtual seconds.";
  auto md = to_markdown(m);
  auto svg = to_svg(m);
  if (auto prefix = cli.value("--out")) {
    if (!write_file(*prefix + ".md", md) || !write_file(*prefix + ".svg", svg)) {
      std::cerr << "p2pd_sim_matrix: cannot write " << *prefix << ".md or .svg\n";
      return examples::exit_failure;
    }
    std::cout << "wrote " << *prefix << ".md and " << *prefix << ".svg\n";
    return 0;
  }
  auto prefix = *cli.value("--check");
  auto old_md = read_file(prefix + ".md");
  auto old_svg = read_file(prefix + ".svg");
  if (!old_md || !old_svg) {
    std::cerr << "p2pd_sim_matrix: cannot read " << prefix << ".md or .svg\n";
    return examples::exit_failure;
  }
  int rc = 0;
  if (*old_md != md) {
    rc = 1;
    std::cout << "FAIL: " << prefix << ".md is not what the simulation gives now:\n";
    auto was = parse_markdown(*old_md);
    if (!was)
      std::cout << "  it does not read as a matrix: " << was.error().what << '\n';
    else if (auto lines = diff(*was, m); lines.empty())
      std::cout << "  every cell is the same; the text around them differs\n";
    else
      for (auto& line : lines)
        std::cout << "  " << line << '\n';
    std::cout << "  (regenerate: p2pd_sim_matrix --out " << prefix << ")\n";
  }
  if (*old_svg != svg) {
    rc = 1;
    std::cout << "FAIL: " << prefix << ".svg is not the picture of the matrix\n";
  }
  if (rc == 0)
    std::cout << "PASS: " << prefix << ".md and .svg are what the simulation gives\n";
  return rc;
}
