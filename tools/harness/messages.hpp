#pragma once

// The harness agent's typed interface and what crosses the wire between a
// controller (p2pd_harness) and its agents (p2pd_agent): CAF's middleman
// (BASP) carries them, so each type has an inspect overload and is added to
// the config by register_harness_types on both sides (the remote typed
// actor's interface is checked by these names when the controller connects).

#include <cstdint>
#include <string>
#include <vector>

#include "caf/actor_system_config.hpp"
#include "caf/atom.hpp"
#include "caf/meta/type_name.hpp"
#include "caf/replies_to.hpp"
#include "caf/typed_actor.hpp"

namespace p2pd::harness {

using hello_atom = caf::atom_constant<caf::atom("hhello")>;
using start_atom = caf::atom_constant<caf::atom("hstart")>;
using connect_atom = caf::atom_constant<caf::atom("hconnect")>;
using echo_atom = caf::atom_constant<caf::atom("hecho")>;
using stop_atom = caf::atom_constant<caf::atom("hstop")>;
using quit_atom = caf::atom_constant<caf::atom("hquit")>;

/// Who answered a hello.
struct agent_hello {
  std::string name;  ///< the agent's --name
  int32_t pid = 0;
  bool node_running = false;
};

/// How to start the agent's node. Empty fields take the agent's own
/// command-line defaults (--data-dir, --servers, --interfaces).
struct node_request {
  std::string data_dir;                 ///< on the agent's host
  std::string servers;                  ///< a server file on the agent's host; "none": offline
  std::vector<std::string> interfaces;  ///< NIC names
  uint16_t port = 0;                    ///< 0: the node derives it
  uint32_t timeout_s = 60;              ///< bound of the start
};

/// What a started node learnt: the lines p2p_node prints (ready, listener,
/// route, channel: tools/node_lines.hpp).
struct node_facts {
  std::string agent;
  std::string id;
  std::string address;  ///< the signed peer address
  uint16_t port = 0;
  int64_t start_ms = 0;
  std::vector<std::string> lines;
};

/// Connect the agent's node to `address`. Options as p2p_node takes them:
/// strategies "punch,relay", families "4,6", transport "tcp" or "udp";
/// empty: the node's defaults.
struct connect_request {
  std::string address;
  std::string strategies;
  std::string families;
  std::string transport;
  uint32_t timeout_s = 60;
};

/// How a connect went, flattened to text (the connect report's fields as
/// p2p_node's "connected" and "attempt" lines say them). A connect that
/// failed is a result too (ok false, `error` says why): a row of the matrix,
/// not a failure of the harness.
struct connect_result {
  bool ok = false;
  std::string peer;
  std::string strategy;
  std::string path;
  std::string family;
  std::string transport;
  std::string punch;  ///< "simultaneous", "spray" or empty
  std::string local;
  std::string remote;
  int64_t ms = 0;     ///< the report's, or the wall time of a failed connect
  bool shared = false;
  std::vector<std::string> attempts;  ///< "ms=3 | direct IPv4 ... | won"
  std::string error;
};

/// Send `text` to the connected `peer`; the peer's agent answers
/// "re: <text>".
struct echo_request {
  std::string peer;
  std::string text;
  uint32_t timeout_s = 10;
};

struct echo_result {
  std::string answer;
  int64_t rtt_ms = 0;
};

/// The agent, as a controller sees it. The first argument of every request
/// is the shared token; a wrong one gets errc::auth_refused and nothing
/// else happens. Every request is bounded by the agent (its timeout_s or
/// the agent's own bound) and answers with a value or an error:
/// - hello: who it is;
/// - start: starts its node (one at a time), answers once the node is ready;
/// - connect: its node connects, answers with the report (or why not);
/// - echo: its node sends a message to a connected peer and waits for the
///   answer;
/// - stop: closes its node (ok also when none runs);
/// - quit: closes its node and ends the agent.
using agent_actor = caf::typed_actor<
  caf::replies_to<hello_atom, std::string>::with<agent_hello>,
  caf::replies_to<start_atom, std::string, node_request>::with<node_facts>,
  caf::replies_to<connect_atom, std::string, connect_request>::with<connect_result>,
  caf::replies_to<echo_atom, std::string, echo_request>::with<echo_result>,
  caf::replies_to<stop_atom, std::string>::with<caf::ok_atom>,
  caf::replies_to<quit_atom, std::string>::with<caf::ok_atom>>;

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, agent_hello& x) {
  return f(caf::meta::type_name("p2pd::harness::agent_hello"), x.name, x.pid, x.node_running);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_request& x) {
  return f(caf::meta::type_name("p2pd::harness::node_request"), x.data_dir, x.servers,
           x.interfaces, x.port, x.timeout_s);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_facts& x) {
  return f(caf::meta::type_name("p2pd::harness::node_facts"), x.agent, x.id, x.address, x.port,
           x.start_ms, x.lines);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, connect_request& x) {
  return f(caf::meta::type_name("p2pd::harness::connect_request"), x.address, x.strategies,
           x.families, x.transport, x.timeout_s);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, connect_result& x) {
  return f(caf::meta::type_name("p2pd::harness::connect_result"), x.ok, x.peer, x.strategy,
           x.path, x.family, x.transport, x.punch, x.local, x.remote, x.ms, x.shared, x.attempts,
           x.error);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, echo_request& x) {
  return f(caf::meta::type_name("p2pd::harness::echo_request"), x.peer, x.text, x.timeout_s);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, echo_result& x) {
  return f(caf::meta::type_name("p2pd::harness::echo_result"), x.answer, x.rtt_ms);
}

/// Adds the types above to `cfg` (before its actor system exists).
inline void register_harness_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<agent_hello>("p2pd::harness::agent_hello");
  cfg.add_message_type<node_request>("p2pd::harness::node_request");
  cfg.add_message_type<node_facts>("p2pd::harness::node_facts");
  cfg.add_message_type<connect_request>("p2pd::harness::connect_request");
  cfg.add_message_type<connect_result>("p2pd::harness::connect_result");
  cfg.add_message_type<echo_request>("p2pd::harness::echo_request");
  cfg.add_message_type<echo_result>("p2pd::harness::echo_result");
}

} // namespace p2pd::harness
