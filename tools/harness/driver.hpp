#pragma once

// The controller's engine: connects to a scenario's agents and runs its
// pairs, each run on fresh nodes (both started, one connects to the other,
// a message goes there and back, both stopped), collecting one row per run.
// Every step is bounded; an agent that goes away gives error rows for what
// it was in, never a hang.

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <ostream>
#include <string>
#include <vector>

#include "caf/actor_system.hpp"

#include "messages.hpp"
#include "scenario.hpp"

namespace p2pd::harness {

/// One run of a pair.
struct run_row {
  std::string pair;       ///< the labels, "open - symmetric" (the scenario's order)
  std::string first;      ///< the pair's agents
  std::string second;
  std::string from;       ///< who connected to whom
  std::string to;
  std::string transport;  ///< "tcp" or "udp"
  uint32_t run = 0;       ///< 1, 2, ...
  connect_result connect; ///< the connecting node's report (or why it failed)
  bool answered = false;  ///< the message came back
  int64_t rtt_ms = 0;
  std::string error;      ///< the harness's own failure: an agent gone, a start, no answer

  bool ok() const { return connect.ok && answered && error.empty(); }
};

class driver {
public:
  /// `log` gets progress lines ("run 1 udp a1 -> a2: ...").
  driver(caf::actor_system& sys, scenario s, std::string token, std::ostream& log);

  /// Connects to every agent and says hello with the token. Returns what
  /// failed, one line per agent (empty: all are there); pairs of an agent
  /// that failed give error rows.
  std::vector<std::string> connect_all(std::chrono::milliseconds wait);

  /// Runs every pair, every transport, every run; up to `jobs` pairs side
  /// by side on distinct agents. Rows in the scenario's order.
  std::vector<run_row> run(size_t jobs = 1);

  /// Asks every connected agent to quit (bounded; errors are logged).
  void quit_all();

  const scenario& plan() const { return s_; }

  /// What each agent's node learnt at its last start, by agent name.
  std::map<std::string, node_facts> facts() const;

private:
  run_row run_one(const pair_entry& p, const std::string& transport, uint32_t run);
  void run_steps(run_row& row, const pair_entry& p, const std::string& transport, uint32_t run,
                 std::ostream& log);
  caf::timespan bound(uint32_t seconds) const;

  caf::actor_system& sys_;
  scenario s_;
  std::string token_;
  std::ostream& log_;
  std::map<std::string, agent_actor> agents_;  ///< the connected ones
  std::map<std::string, std::string> why_not_; ///< the others: why
  std::map<std::string, node_facts> facts_;    ///< each agent's last start
  mutable std::mutex mu_; ///< agents_, why_not_, facts_ and log_, for runs side by side
  std::mutex sched_;  ///< run()'s schedule
};

} // namespace p2pd::harness
