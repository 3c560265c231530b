#pragma once

// The runs' rows as the lab's matrix (docs/punch-matrix.md's format: a grid
// at a glance, then one table per transport: runs, ms median / worst, the
// strategies that won), checked against the lab's expectations
// (tests/lab/punch_expected.txt) when given, and one machine-readable line
// per run for scripts.

#include <map>
#include <string>
#include <vector>

#include "caf/expected.hpp"

#include "driver.hpp"

namespace p2pd::harness {

/// One line of punch_expected.txt: what the punch should give per transport.
struct pair_expectation {
  std::string udp;  ///< connect, refuse or chance
  std::string tcp;
};

/// Keyed "a - b" with the modes in the file's order.
using expectations = std::map<std::string, pair_expectation>;

/// Reads punch_expected.txt ("mode_a | mode_b | udp | tcp | libnice | why").
caf::expected<expectations> load_expectations(const std::string& path);

/// "result pair=open~symmetric transport=udp run=1 from=a1 to=a2 ok=1
/// strategy=punch punch=simultaneous path=external ms=63 attempts=2 rtt_ms=1
/// reason=-" (blanks in the reason become '_').
std::string result_line(const run_row& row);

/// The markdown matrix of `rows`. With `expected`, each pair and transport
/// is checked as lab_punch_matrix checks it (with the relay among the
/// strategies every run must connect, by the relay where the punch is
/// refused, by the punch in at least half the runs where it connects;
/// without it: connect every run, refuse none, chance either); what
/// differs goes to `differences` and into the table.
std::string matrix_markdown(const std::vector<run_row>& rows, const scenario& s,
                            const expectations* expected, std::vector<std::string>& differences);

/// The agents and what their nodes saw (`facts`: driver::facts()): a table
/// of agent, label, IPv4 NAT type and port allocation, external address,
/// start time; "-" for an agent whose node never started.
std::string sites_markdown(const scenario& s, const std::map<std::string, node_facts>& facts);

} // namespace p2pd::harness
