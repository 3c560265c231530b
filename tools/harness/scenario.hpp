#pragma once

// What a controller runs: agents, the nodes' start options, pairs. Read
// from a small text format (one statement a line, '#' comments):
//
//   agent <name> <host:port> [label <text>]
//   node [servers FILE] [interfaces LIST] [timeout SEC]
//   pair <agent> <agent> [transports udp,tcp] [strategies LIST] [families LIST] [runs N]
//
// `label` names the agent's row and column in the matrix (a lab site's NAT
// mode); it defaults to the name. `node` applies to every start (empty:
// each agent's own defaults). A pair's runs alternate directions: odd runs
// the first agent connects to the second, even runs the other way. Pair
// defaults: transports tcp, the node's strategies and families, 1 run.

#include <cstdint>
#include <string>
#include <vector>

#include "caf/expected.hpp"

#include "host_port.hpp"
#include "messages.hpp"

namespace p2pd::harness {

struct agent_entry {
  std::string name;
  host_port where;
  std::string label;
};

struct pair_entry {
  std::string first;   ///< agent names
  std::string second;
  std::vector<std::string> transports{"tcp"};
  std::string strategies;
  std::string families;
  uint32_t runs = 1;
};

struct scenario {
  std::vector<agent_entry> agents;
  node_request node;  ///< what every start asks
  std::vector<pair_entry> pairs;

  const agent_entry* agent(const std::string& name) const;
};

/// The statements of `text`. Errors (errc::invalid_argument) name the line
/// and what is wrong with it: an unknown statement or option, a bad
/// address, a pair of an unknown agent or of an agent with itself, runs
/// outside 1..9, a duplicate agent, bad strategies or transports.
caf::expected<scenario> parse_scenario(const std::string& text);

/// Checks a scenario built another way (the command line) as
/// parse_scenario does.
caf::error check_scenario(const scenario& s);

} // namespace p2pd::harness
