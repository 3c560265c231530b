// p2pd_harness: the harness's controller. It connects to agents
// (p2pd_agent) with CAF's middleman, runs a scenario's pairs on them (fresh
// nodes each run: start both, one connects to the other, a message there
// and back, stop both) and prints one "result ..." line per run, then the
// matrix in the lab's format (docs/punch-matrix.md), checked against
// --expected when given.
//
// The scenario comes from --scenario FILE (scenario.hpp has the format) or
// the command line: --agents "a1=127.0.0.1:4101/open,a2=..." (name=host:port,
// an optional /label) and --pairs "a1:a2,a1:a3" with --transports,
// --strategies, --families, --runs for all of them.
//
// Exit: 0 every run connected and was answered (with --expected: nothing
// differs from it); 1 otherwise (an agent not reached or refusing the
// token, a run that failed, a difference); 2 bad arguments.
#include <fstream>
#include <iostream>
#include <sstream>

#include "args.hpp"

#include "driver.hpp"
#include "matrix.hpp"
#include "messages.hpp"
#include "node_lines.hpp"
#include "scenario.hpp"
#include "tls.hpp"
#include "token.hpp"

#include "p2pd/p2pd.hpp"

using namespace p2pd;

namespace {

// The scenario of the command line's --agents and --pairs.
caf::expected<harness::scenario> scenario_of_args(const examples::args& cli) {
  auto bad = [](const std::string& why) { return make_error(errc::invalid_argument, why); };
  harness::scenario s;
  for (auto& item : tools::split(cli.value("--agents").value_or(""), ',')) {
    auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0)
      return bad("--agents: '" + item + "' is not name=host:port[/label]");
    harness::agent_entry a;
    a.name = item.substr(0, eq);
    auto rest = item.substr(eq + 1);
    auto slash = rest.find('/');
    a.label = slash == std::string::npos ? a.name : rest.substr(slash + 1);
    std::string why;
    auto where = harness::parse_host_port(rest.substr(0, slash), false, why);
    if (!where)
      return bad("--agents: " + why);
    a.where = *where;
    s.agents.push_back(std::move(a));
  }
  uint32_t runs = 1;
  if (auto r = cli.value("--runs")) {
    auto n = examples::parse_count(*r, 1, 9);
    if (!n)
      return bad("--runs: '" + *r + "' is not a number in 1..9");
    runs = static_cast<uint32_t>(*n);
  }
  for (auto& item : tools::split(cli.value("--pairs").value_or(""), ',')) {
    auto colon = item.find(':');
    if (colon == std::string::npos)
      return bad("--pairs: '" + item + "' is not first:second");
    harness::pair_entry p;
    p.first = item.substr(0, colon);
    p.second = item.substr(colon + 1);
    if (auto t = cli.value("--transports"))
      p.transports = tools::split(*t, ',');
    p.strategies = cli.value("--strategies").value_or("");
    p.families = cli.value("--families").value_or("");
    p.runs = runs;
    s.pairs.push_back(std::move(p));
  }
  if (auto err = harness::check_scenario(s))
    return err;
  return s;
}

} // namespace

int main(int argc, char** argv) {
  examples::args cli{"p2pd_harness", "the harness's controller: drives p2pd_agent processes "
                                     "over CAF's middleman and prints their connect matrix"};
  cli.option("--scenario", "FILE", "agents, node options and pairs (a text file)")
    .option("--agents", "LIST", "name=host:port[/label],... (instead of --scenario)")
    .option("--pairs", "LIST", "first:second,... agent names (instead of --scenario)")
    .option("--transports", "LIST", "tcp,udp (default tcp)")
    .option("--strategies", "LIST", "connect strategies (default: the node's)")
    .option("--families", "LIST", "4,6 (default: the node's)")
    .option("--runs", "N", "runs of every pair, directions alternating (default 1)")
    .option("--servers", "FILE", "the nodes' server file, on the agents' hosts")
    .option("--interfaces", "LIST", "the nodes' NICs")
    .option("--token-file", "FILE", "the shared token (default $P2PD_HARNESS_TOKEN)")
    .option("--expected", "FILE", "check the matrix against tests/lab/punch_expected.txt")
    .option("--out", "FILE", "write the matrix (markdown) there too")
    .option("--connect-wait", "MS", "bound of each agent's TCP connect (default 3000)")
    .option("--jobs", "N", "pairs run side by side, on distinct agents (default 1)")
    .option("--tls-dir", "DIR", "TLS for the middleman: DIR/cert.pem, key.pem, ca.pem (the "
                                "agents' certificates must be signed by ca.pem)")
    .flag("--quit", "ask every agent to quit at the end");
  if (auto rc = cli.parse(argc, argv))
    return *rc;
  caf::expected<harness::scenario> plan{harness::scenario{}};
  if (auto file = cli.value("--scenario")) {
    std::ifstream in{*file};
    if (!in)
      return cli.fail("--scenario: cannot read '" + *file + "'");
    std::stringstream text;
    text << in.rdbuf();
    plan = harness::parse_scenario(text.str());
  } else {
    plan = scenario_of_args(cli);
  }
  if (!plan)
    return cli.fail(what_of(plan.error()));
  if (auto f = cli.value("--servers"))
    plan->node.servers = *f;
  if (auto i = cli.value("--interfaces"))
    plan->node.interfaces = tools::split(*i, ',');
  auto token = harness::load_token(cli.value("--token-file").value_or(""));
  if (!token)
    return cli.fail(what_of(token.error()));
  std::chrono::milliseconds connect_wait{3000};
  if (auto w = cli.value("--connect-wait")) {
    auto n = examples::parse_count(*w, 1, 60000);
    if (!n)
      return cli.fail("--connect-wait: '" + *w + "' is not a number of ms in 1..60000");
    connect_wait = std::chrono::milliseconds(*n);
  }
  size_t jobs = 1;
  if (auto j = cli.value("--jobs")) {
    auto n = examples::parse_count(*j, 1, 64);
    if (!n)
      return cli.fail("--jobs: '" + *j + "' is not a number in 1..64");
    jobs = static_cast<size_t>(*n);
  }
  std::optional<harness::expectations> expected;
  if (auto e = cli.value("--expected")) {
    auto x = harness::load_expectations(*e);
    if (!x)
      return cli.fail(what_of(x.error()));
    expected = std::move(*x);
  }

  p2pd::config cfg;
  harness::register_harness_types(cfg);
  if (auto tls = cli.value("--tls-dir"))
    if (auto err = harness::use_tls(cfg, *tls))
      return cli.fail(what_of(err));
  caf::actor_system sys{cfg};
  int rc = 0;
  {
    harness::driver d{sys, std::move(*plan), *token, std::cerr};
    auto unreached = d.connect_all(connect_wait);
    for (auto& why : unreached)
      std::cerr << "p2pd_harness: " << why << '\n';
    auto rows = d.run(jobs);
    if (cli.has("--quit"))
      d.quit_all();
    for (auto& r : rows)
      std::cout << harness::result_line(r) << '\n';
    std::vector<std::string> differences;
    auto md = harness::matrix_markdown(rows, d.plan(), expected ? &*expected : nullptr,
                                       differences)
              + '\n' + harness::sites_markdown(d.plan(), d.facts());
    std::cout << '\n' << md << std::flush;
    if (auto out = cli.value("--out")) {
      std::ofstream f{*out};
      f << md;
      if (!f)
        std::cerr << "p2pd_harness: cannot write '" << *out << "'\n";
    }
    bool all_ok = std::all_of(rows.begin(), rows.end(), [](auto& r) { return r.ok(); });
    if (!unreached.empty() || (expected ? !differences.empty() : !all_ok))
      rc = 1;
  }
  return rc;
}
