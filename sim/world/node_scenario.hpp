#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "p2pd/node/connect/plan.hpp"
#include "p2pd/node/node_actor.hpp"
#include "p2pd/sim/world/scenario.hpp"

namespace p2pd::sim {

/// What a node told its subscriber (node_scenario keeps one per node).
struct node_events {
  std::vector<std::pair<std::string, std::string>> msgs; ///< (peer id, text)
  std::vector<node_connection> ups;
  std::vector<std::string> progress;
  std::vector<std::string> refused;
};

/// An actor that records a node's events (put it in node_spec::subscribers).
caf::actor spawn_node_watcher(caf::actor_system& sys, std::shared_ptr<node_events> out);

/// How one connect of a node_scenario went.
struct connect_outcome {
  std::string from, to;  ///< the nodes' labels
  node::transport kind = node::transport::stream;
  /// The strategies it could use, in order ("direct+reverse").
  std::string tried;
  /// The strategy that connected, or "none".
  std::string how = "none";
  /// Virtual ms from the request to its answer.
  int64_t ms = 0;
  /// Why it failed (empty when it connected).
  std::string error;
  std::optional<connect_report> report;

  bool connected() const { return how != "none"; }
};

/// A scenario for nodes, as simulation.md's sketch reads: sites with NAT
/// profiles, nodes on their hosts, wait until ready, connects of pairs with
/// given strategies, and their outcomes. It starts a STUN server (two
/// addresses, 11.0.200.1 and .2) on a public host of its own, which every
/// node asks for its external address and NAT, and the project's TURN
/// server (11.0.201.1:3478) on another, which every node's relay strategy
/// uses. add_time_server() adds an NTP responder. Connects run one after another, each on fresh
/// ground: the connection a case made is closed on both sides before the
/// next begins, so a later case never shares an earlier one's connection.
class node_scenario : public scenario {
public:
  explicit node_scenario(scenario_config cfg = {});

  /// Spawns a node on host `h` called `label`; `tweak` may change its spec
  /// (node_spec_for's) first. Returns its number.
  size_t add_node(host_id h, std::string label,
                  const std::function<void(node_spec&)>& tweak = {});
  /// A site behind the preset NAT of `nat` and `delta`, with one host, and
  /// a node there called `label` (or the NAT's name): add_site + add_host +
  /// add_node.
  size_t add_nat_node(net::nat_type nat, net::delta_type delta, std::string label = {});
  /// A site behind `nat` (any profile) with one host, and a node there.
  size_t add_site_node(const nat_profile& nat, std::string label);
  /// A node on a new public host.
  size_t add_public_node(std::string label = "public");

  /// Starts an NTP responder on a public host of its own (11.0.202.1:123,
  /// no skew); nodes added afterwards run an NTP clock that asks it (the
  /// punch meeting time is set on it). False (why()) if it did not open.
  bool add_time_server();

  /// Runs until every node is ready (listening, signalling online), within
  /// `horizon` of virtual time; false if one failed or the horizon passed
  /// (why() says which).
  bool wait_ready(caf::timespan horizon);

  /// Queues a connect from node `a` to node `b` with `opts`.
  void connect(size_t a, size_t b, node::connect_options opts);
  /// Queues a connect that may use `s` only, for `kind`.
  void connect(size_t a, size_t b, node::strategy s, node::transport kind);
  /// Runs the queued connects in order, each within `per_case` of virtual
  /// time, and returns their outcomes (and keeps them: outcomes()). After
  /// each, both sides close what it made and the world runs `settle` more:
  /// past the NATs' lifetimes (UDP 120 s, TCP transitory 120 s), the next
  /// case finds no mapping an earlier one left.
  std::vector<connect_outcome> run_connects(caf::timespan per_case,
                                            caf::timespan settle = std::chrono::minutes(5));
  const std::vector<connect_outcome>& outcomes() const { return outcomes_; }

  size_t size() const { return nodes_.size(); }
  const node_actor& node(size_t i) const { return nodes_.at(i).hdl; }
  const node_info& info(size_t i) const { return *nodes_.at(i).info; }
  const std::string& label(size_t i) const { return nodes_.at(i).label; }
  node_events& events(size_t i) { return *nodes_.at(i).events; }
  /// Why the last wait failed.
  const std::string& why() const { return why_; }

  /// The outcomes as a table: from, to, kind, strategies allowed, which
  /// connected, virtual ms (and the error for those that did not).
  static std::string table(const std::vector<connect_outcome>& rows);

private:
  struct sim_node {
    node_actor hdl;
    host_id host = 0;
    std::string label;
    std::shared_ptr<node_events> events;
    std::optional<node_info> info;
  };
  struct connect_case {
    size_t a = 0, b = 0;
    node::connect_options opts;
  };
  connect_outcome run_case(const connect_case& c, caf::timespan per_case, caf::timespan settle);

  std::vector<sim_node> nodes_;
  std::vector<connect_case> queued_;
  std::vector<connect_outcome> outcomes_;
  std::string why_;
  std::string setup_why_; ///< servers of the world that did not open
};

} // namespace p2pd::sim
