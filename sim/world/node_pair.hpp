#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "p2pd/sim/nat/nat_profile.hpp"
#include "p2pd/sim/world/node_scenario.hpp"

namespace p2pd::sim {

/// One pair of the NAT matrix, run by the real node: a world of its own
/// (seeded), a STUN server, one node behind `from`'s NAT that connects to
/// one behind `to`'s.
struct node_pair_spec {
  nat_profile from;
  nat_profile to;
  node::transport kind = node::transport::stream;
  /// Empty: what the node can use for `kind` without a relay: direct,
  /// reverse, then the punch for a stream; the punch for datagrams (a
  /// datagram connect plans punches and relays only).
  std::vector<node::strategy> strategies;
  uint64_t seed = 1;
  /// The connect's budget, in virtual time.
  caf::timespan budget = std::chrono::seconds(30);
};

/// Runs the pair; the outcome says which strategy connected ("none" when
/// none did) and in how many virtual ms. Self-contained (its own actor
/// system), so pairs may run on threads of their own, one world each: what
/// a matrix runner calls per cell (sim/matrix's pair_runner maps
/// how + kind to its outcome: "punch" over a stream is a TCP punch).
connect_outcome run_node_pair(const node_pair_spec& spec);

} // namespace p2pd::sim
