// A first slice of the NAT matrix: the node's UDP and TCP punches between
// the lab's site kinds, against the kernel lab's measured punch matrix
// (../shared/netlab/results/punch-matrix.txt: udp and tcp+listen columns,
// 3 tries each; the lab's plain SNAT keeps ports, so its NATs are the
// presets with equal allocation, and its symmetric NAT allocates at random).

#include <chrono>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <sstream>

#include <gtest/gtest.h>

#include "p2pd/sim/world/node_scenario.hpp"
#include "sim/world/scenario_fixture.hpp"

using namespace std::chrono_literals;
using namespace p2pd;
using namespace p2pd::test;

namespace {

using net::delta_type;
using net::nat_type;
using node::strategy;
using node::transport;

struct lab_pair {
  size_t a, b;
  bool udp;  ///< the lab's udp column: 3/3 (true) or 0/3
  bool tcp;  ///< its tcp+listen column
  /// The node sprays here (a birthday search of 256 mappings by 256 probes
  /// over 64k ports, odds about 63%), which the lab's raw punch does not:
  /// its outcome is the seed's luck, not the lab's column.
  bool spray = false;
};

TEST(SimPunchSlice, NodePunchesAgreeWithTheLabsMatrix) {
  sim::scenario_config cfg;
  cfg.seed = 11;
  cfg.internet = {10ms};
  sim::node_scenario w{cfg};
  // The lab's hosts h1..h7, in its order.
  w.add_nat_node(nat_type::port_restricted, delta_type::equal, "h1 portrestricted");
  w.add_nat_node(nat_type::port_restricted, delta_type::equal, "h2 portrestricted");
  w.add_nat_node(nat_type::symmetric, delta_type::random, "h3 symmetric");
  w.add_nat_node(nat_type::symmetric, delta_type::random, "h4 symmetric");
  w.add_nat_node(nat_type::full_cone, delta_type::equal, "h5 fullcone");
  w.add_nat_node(nat_type::restricted, delta_type::equal, "h6 restricted");
  w.add_public_node("h7 open");
  ASSERT_TRUE(w.wait_ready(60s)) << w.why();
  // The lab's rows (run 1 and run 2 agree on these columns).
  const std::vector<lab_pair> lab = {
    {0, 1, true, true},   {4, 0, true, true},   {5, 0, true, true},  {4, 5, true, true},
    {0, 2, false, false, true}, {4, 2, true, true},   {5, 2, true, true},  {2, 3, false, false},
    {6, 0, true, true},   {6, 2, true, true},
  };
  for (auto& p : lab) {
    w.connect(p.a, p.b, strategy::punch, transport::datagram);
    w.connect(p.a, p.b, strategy::punch, transport::stream);
  }
  auto rows = w.run_connects(30s, 5min);
  std::cout << sim::node_scenario::table(rows);
  ASSERT_EQ(rows.size(), 2 * lab.size());
  for (size_t i = 0; i < lab.size(); ++i) {
    auto& u = rows[2 * i];
    auto& t = rows[2 * i + 1];
    if (lab[i].spray) {
      // A connect report's attempts begin with the plan: here the spray.
      ASSERT_TRUE(u.report || !u.error.empty());
      auto how = u.report ? u.report->attempts.front().outcome : u.error;
      EXPECT_NE(how.find("spray"), std::string::npos) << how;
    } else {
      EXPECT_EQ(u.connected(), lab[i].udp) << "UDP " << u.from << " - " << u.to << ": " << u.error;
    }
    EXPECT_EQ(t.connected(), lab[i].tcp) << "TCP " << t.from << " - " << t.to << ": " << t.error;
  }
}

} // namespace

namespace {

// The lab's site modes (tests/lab/README.md) as the presets that model
// them; masquerade is left out (its router keeps conntrack entries of
// unsolicited packets, which the tables do not model).
struct lab_mode {
  const char* name;
  nat_type nat;
  delta_type delta;
};

const lab_mode lab_modes[] = {
  {"open", nat_type::open_internet, delta_type::not_applicable},
  {"udp-firewall", nat_type::udp_firewall, delta_type::not_applicable},
  {"full-cone", nat_type::full_cone, delta_type::equal},
  {"restricted", nat_type::restricted, delta_type::equal},
  {"port-restricted", nat_type::port_restricted, delta_type::equal},
  {"symmetric", nat_type::symmetric, delta_type::random},
  {"symmetric-sequential", nat_type::symmetric, delta_type::independent},
  {"udp-blocked", nat_type::blocked, delta_type::equal},
};

// A cell's marks: "✓", "R", "✗", "2/3", "✓(1 R)".
std::vector<std::string> marks(const std::string& cell) {
  std::vector<std::string> out;
  std::string cur;
  int depth = 0;
  for (char c : cell) {
    depth += c == '(' ? 1 : c == ')' ? -1 : 0;
    if (c == ' ' && depth == 0) {
      if (!cur.empty())
        out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty())
    out.push_back(cur);
  return out;
}

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(' ');
  auto e = s.find_last_not_of(' ');
  return b == std::string::npos ? std::string{} : s.substr(b, e - b + 1);
}

// docs/punch-matrix.md's "At a glance": (row mode, column mode) -> the
// marks of p2pd UDP, p2pd TCP and libnice.
std::map<std::pair<std::string, std::string>, std::vector<std::string>> lab_glance() {
  std::ifstream in{std::string{P2PD_SOURCE_DIR} + "/docs/punch-matrix.md"};
  std::map<std::pair<std::string, std::string>, std::vector<std::string>> out;
  std::string line;
  bool in_glance = false;
  std::vector<std::string> cols;
  while (std::getline(in, line)) {
    if (line.rfind("## ", 0) == 0) {
      in_glance = line == "## At a glance";
      continue;
    }
    if (!in_glance || line.rfind("| ", 0) != 0)
      continue;
    std::vector<std::string> cells;
    std::stringstream ss{line.substr(1)};
    std::string cell;
    while (std::getline(ss, cell, '|'))
      cells.push_back(trim(cell));
    if (cells.empty())
      continue;
    if (cells.front().empty()) { // the header
      cols.assign(cells.begin() + 1, cells.end());
      continue;
    }
    for (size_t i = 1; i < cells.size() && i - 1 < cols.size(); ++i)
      out[{cells.front(), cols[i - 1]}] = marks(cells[i]);
  }
  return out;
}

// The node's UDP and TCP punches between the lab's modes against what the
// node did in the lab (docs/punch-matrix.md, p2pd columns, punch and relay
// allowed there; here no relay): "✓" must connect by the punch, "R" (the
// relay won every run) must not connect, "✓(k R)" (a spray: some runs by
// the punch, some by the relay) must at least be tried as a spray.
TEST(SimPunchSlice, NodePunchesAgreeWithTheProjectsLabMatrix) {
  auto glance = lab_glance();
  ASSERT_GE(glance.size(), 64u) << "docs/punch-matrix.md has no 'At a glance' table";
  sim::scenario_config cfg;
  cfg.seed = 5;
  cfg.internet = {10ms};
  sim::node_scenario w{cfg};
  const size_t n = std::size(lab_modes);
  for (auto& m : lab_modes) // initiators, then targets
    w.add_nat_node(m.nat, m.delta, std::string{m.name} + " a");
  for (auto& m : lab_modes)
    w.add_nat_node(m.nat, m.delta, std::string{m.name} + " b");
  ASSERT_TRUE(w.wait_ready(60s)) << w.why();
  std::vector<std::pair<size_t, size_t>> pairs;
  for (size_t i = 0; i < n; ++i)
    for (size_t j = i; j < n; ++j) {
      pairs.emplace_back(i, j);
      w.connect(i, n + j, strategy::punch, transport::datagram);
      w.connect(i, n + j, strategy::punch, transport::stream);
    }
  auto rows = w.run_connects(30s, 5min);
  std::cout << sim::node_scenario::table(rows);
  ASSERT_EQ(rows.size(), 2 * pairs.size());
  size_t agreed = 0, chances = 0;
  for (size_t k = 0; k < pairs.size(); ++k) {
    auto key = std::make_pair(std::string{lab_modes[pairs[k].first].name},
                              std::string{lab_modes[pairs[k].second].name});
    auto cell = glance.find(key);
    ASSERT_NE(cell, glance.end()) << key.first << " - " << key.second;
    ASSERT_GE(cell->second.size(), 2u);
    for (size_t t = 0; t < 2; ++t) {
      auto& r = rows[2 * k + t];
      auto& lab = cell->second[t];
      auto what = std::string{t == 0 ? "UDP " : "TCP "} + key.first + " - " + key.second
                  + " (lab: " + lab + "): " + r.error;
      if (lab == "✓") {
        EXPECT_EQ(r.how, "punch") << what;
        agreed += r.how == "punch" ? 1 : 0;
      } else if (lab == "R") {
        EXPECT_FALSE(r.connected()) << what;
        agreed += r.connected() ? 0 : 1;
      } else {
        ++chances;
        auto plan = r.report ? r.report->attempts.front().outcome : r.error;
        EXPECT_NE(plan.find("spray"), std::string::npos) << what << " " << plan;
      }
    }
  }
  std::cout << agreed << " of " << rows.size() - chances << " agree; " << chances
            << " left to chance (sprays)\n";
}

} // namespace
