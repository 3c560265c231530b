#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "caf/meta/type_name.hpp"

#include "p2pd/messages/pipe.hpp"
#include "p2pd/messages/signal_node.hpp"
#include "p2pd/node/node_stats.hpp"

// What a node's metrics request answers (node_actor, metrics_atom): its own
// counters, and those of its pipes and signal node gathered within a bound.
// node/metrics/prometheus.hpp writes them in the Prometheus text format.

namespace p2pd {

/// Upper bounds of the connect-time histogram's buckets, in milliseconds
/// (the last bucket, +Inf, is implied): from a same-host connect (a few ms)
/// to a relayed one near its budget.
inline constexpr std::array<int64_t, 11> connect_ms_bounds = {5,   10,   25,   50,   100, 250,
                                                              500, 1000, 2500, 5000, 10000};

/// A histogram of durations in milliseconds over connect_ms_bounds.
struct ms_histogram {
  /// Observations per bucket, not cumulative: buckets[i] counts those in
  /// (bound[i-1], bound[i]]; the last one those above every bound.
  std::vector<uint64_t> buckets = std::vector<uint64_t>(connect_ms_bounds.size() + 1, 0);
  int64_t sum_ms = 0;
  uint64_t count = 0;

  void observe(int64_t ms);
};

/// Connects that ended one way by one strategy.
struct connect_tally {
  std::string strategy;  ///< node::to_string(strategy), or "none": no attempt was possible
  std::string outcome;   ///< "ok" or "failed"
  uint64_t count = 0;
};

/// How long the connects a strategy won took.
struct connect_time {
  std::string strategy;
  ms_histogram ms;
};

/// The counters of one of the node's pipes.
struct pipe_metrics {
  std::string role;   ///< "listener" or "link" (an outbound link's own pipe)
  std::string name;   ///< "tcp 127.0.0.1:40001" (listener), the peer's node id (link)
  pipe_stats stats;
  uint64_t restarts = 0;  ///< a listener's restarts by the daemon
};

/// The NAT of one interface and family.
struct interface_nat {
  std::string interface;
  std::string family;  ///< net::to_string(family)
  std::string nat;     ///< net::to_string(nat_type)
};

/// A supervised child's restarts.
struct child_restarts {
  std::string child;   ///< "interface lo", "signal node", "daemon", "clock"
  uint32_t restarts = 0;
};

/// A node's metrics at one moment.
struct node_metrics {
  node_stats stats;
  std::vector<connect_tally> connects;
  std::vector<connect_time> connect_times;
  /// Listeners and our outbound links' pipes that answered in time.
  std::vector<pipe_metrics> pipes;
  /// Pipes (and the daemon) that did not answer within the gathering bound:
  /// their counters are missing from `pipes`, not zero.
  uint32_t pipes_unanswered = 0;
  /// False when the signal node was restarting or did not answer in time.
  bool has_signal = false;
  signal_node_stats signal;
  std::vector<interface_nat> nats;
  std::vector<child_restarts> children;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ms_histogram& x) {
  return f(caf::meta::type_name("p2pd::ms_histogram"), x.buckets, x.sum_ms, x.count);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, connect_tally& x) {
  return f(caf::meta::type_name("p2pd::connect_tally"), x.strategy, x.outcome, x.count);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, connect_time& x) {
  return f(caf::meta::type_name("p2pd::connect_time"), x.strategy, x.ms);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pipe_metrics& x) {
  return f(caf::meta::type_name("p2pd::pipe_metrics"), x.role, x.name, x.stats, x.restarts);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, interface_nat& x) {
  return f(caf::meta::type_name("p2pd::interface_nat"), x.interface, x.family, x.nat);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, child_restarts& x) {
  return f(caf::meta::type_name("p2pd::child_restarts"), x.child, x.restarts);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_metrics& x) {
  return f(caf::meta::type_name("p2pd::node_metrics"), x.stats, x.connects, x.connect_times,
           x.pipes, x.pipes_unanswered, x.has_signal, x.signal, x.nats, x.children);
}

} // namespace p2pd
