#pragma once

// The cells of bench_signal: one transport each, its latency and its rate.

#include <cstddef>
#include <string>
#include <vector>

#include "caf/actor_system.hpp"

#include "p2pd/messages/signal_node.hpp"

namespace p2pd::bench {

/// How much each cell sends.
struct signal_sizes {
  size_t payload = 256;      ///< plaintext bytes per message
  size_t warmup = 50;        ///< messages before anything is timed
  size_t latency_msgs = 1000; ///< sent one at a time, each timed
  size_t rate_msgs = 5000;   ///< sent with up to `window` in flight
  size_t window = 256;
};

/// What a cell measured. Latency is one way: from handing the message to
/// the sender until the receiver has it.
struct signal_cell {
  double rate = 0;      ///< messages per second
  double median_us = 0;
  double p99_us = 0;
  std::string problem;  ///< what went wrong (a lost message, a timeout); empty if nothing

  bool ok() const { return problem.empty(); }
};

/// Node `a` sends to node `b`; this thread's actor subscribes to `b`.
signal_cell measure_nodes(caf::actor_system& sys, const signal_node_actor& a,
                          const signal_node_actor& b, const signal_sizes& sz);

/// The plain baseline of the hub: two CAF actors pass the same bytes on
/// (this thread -> first -> second -> this thread), no crypto.
signal_cell measure_caf_pair(caf::actor_system& sys, const signal_sizes& sz);

/// The plain baseline of MQTT: one paho async client publishes to itself
/// through the broker at `uri` (QoS 1, as the nodes' channels), no crypto.
signal_cell measure_paho(const std::string& uri, const signal_sizes& sz);

/// The median and 99th percentile of `us` into `cell`.
void summarize_latency(std::vector<double> us, signal_cell& cell);

} // namespace p2pd::bench
