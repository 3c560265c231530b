#pragma once

// bench_sim_scale's two runs: the node world (sim::node_scenario with many
// nodes) and its baseline, the bare fabric (the same network model with no
// actors and no nodes), and what each measured.

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace p2pd::bench {

/// What a run is asked to do.
struct scale_options {
  size_t nodes = 1000;
  /// Connects sampled over the 35 x 35 pairs of NAT configurations.
  size_t connects = 350;
  uint64_t seed = 1;
  /// Virtual time between two connects (past the NATs' lifetimes: no
  /// connect finds an earlier one's mappings).
  uint64_t settle_s = 300;
  /// docs/sim-matrix.md, to compare the sample's outcomes with (empty: no
  /// comparison).
  std::string matrix_doc;
};

/// Counters of a world, cumulative or as the difference of two snapshots.
struct scale_counts {
  uint64_t jobs = 0;         ///< actor jobs the test coordinator ran
  uint64_t clock_events = 0; ///< the actor clock's timeouts fired
  /// The fabric's event queue: a packet's hops (send, NATs, delivery) and
  /// the TCP stacks' timers.
  uint64_t fabric_events = 0;
  uint64_t packets = 0;     ///< packets hosts sent
  uint64_t packets_tcp = 0; ///< of which TCP segments

  uint64_t events() const { return jobs + clock_events + fabric_events; }
  scale_counts operator-(const scale_counts& o) const {
    return {jobs - o.jobs, clock_events - o.clock_events, fabric_events - o.fabric_events,
            packets - o.packets, packets_tcp - o.packets_tcp};
  }
};

/// The node world's run.
struct world_result {
  size_t nodes = 0;
  size_t ready = 0;      ///< nodes that reported ready
  std::string not_ready; ///< why the others did not (node_scenario::why)
  double ready_virtual_s = 0;
  double ready_wall_s = 0; ///< from the first node spawned
  long ready_rss_kib = 0;  ///< peak RSS then
  scale_counts start;      ///< from the world's start to all ready

  size_t connects = 0, tcp = 0, udp = 0;
  size_t rows = 0, cols = 0; ///< configurations that connected, were connected to
  /// "TCP direct", "UDP none", ... -> how many.
  std::map<std::string, size_t> outcomes;
  /// Connects that got no answer within their budget (a hang, not a NAT's
  /// verdict), or could not run; each a line.
  std::vector<std::string> unanswered;
  size_t compared = 0, agreed = 0; ///< against the matrix document
  std::vector<std::string> disagree; ///< one line per cell that differs
  std::string matrix_note;           ///< why no comparison was made
  double connect_virtual_s = 0;
  double connect_wall_s = 0;
  scale_counts connect; ///< the connect phase (settling included)

  double teardown_wall_s = 0;
  long peak_rss_kib = 0; ///< at the end of the connect phase
};

/// Runs the node world: `o.nodes` nodes, node i alone behind NAT
/// configuration i mod 35, all started; then `o.connects` connects one after
/// another, the pairs a stratified sample of the 35 x 35 (row r = k mod 35,
/// the column a shifted permutation per round of 35), TCP and UDP
/// alternating. At least 70 nodes (two per configuration), or it throws
/// std::invalid_argument.
world_result run_node_world(const scale_options& o);

/// The baseline's run.
struct fabric_result {
  scale_counts counts; ///< jobs and clock_events stay 0
  uint64_t exchanges_udp = 0, sessions_tcp = 0;
  double wall_s = 0;
  std::string problem;
};

/// Runs the bare fabric: one site per node with the same NAT profiles,
/// addresses and links as the node world, a public server with the same two
/// addresses, and host UDP and TCP stacks; rounds in which every host sends
/// the server a UDP datagram (echoed) and opens a TCP connection to it (a
/// request, the echo, both FINs), until the hosts have sent `udp` UDP and
/// `tcp` TCP packets (the node world's counts; the last round overshoots by
/// less than one round).
fabric_result run_bare_fabric(size_t sites, uint64_t udp, uint64_t tcp, uint64_t seed);

} // namespace p2pd::bench
