#pragma once

// The harness agent's actor (p2pd_agent publishes it with CAF's middleman):
// it runs one P2P node at a time for a controller, and answers its
// requests (messages.hpp) after checking the shared token.

#include <chrono>
#include <string>
#include <vector>

#include "caf/actor_system.hpp"

#include "messages.hpp"

namespace p2pd::harness {

/// The agent's own settings (its command line): what a node_request leaves
/// empty comes from here.
struct agent_config {
  std::string name;                     ///< says which agent answered
  std::string token;                    ///< the shared token (token.hpp)
  std::string data_dir;                 ///< the node's key file lives in <data_dir>/node
  std::string servers;                  ///< the default server file; empty or "none": offline
  std::vector<std::string> interfaces;  ///< the default NICs
  /// The bound of every request, whatever timeout_s a controller asks for.
  std::chrono::seconds max_wait{120};
};

/// Spawns the agent. It ends after a quit request (closing its node) or
/// an exit message sent from this process; exit messages from other nodes
/// (a middleman peer needs no token to send one) are dropped and counted.
agent_actor spawn_agent(caf::actor_system& sys, agent_config cfg);

} // namespace p2pd::harness
