#pragma once

#include <optional>

#include "p2pd/net/util/splitmix64.hpp"
#include "p2pd/sim/time.hpp"

namespace p2pd::sim {

/// One direction-free hop's behaviour: a host's access link, a site's uplink
/// or the Internet's core.
struct link_config {
  sim_time latency{0};
  /// Up to this much more delay, drawn uniformly per packet (so packets may
  /// overtake each other, as on a real path).
  sim_time jitter{0};
  /// The chance a packet is lost on this hop, 0..1.
  double loss = 0.0;
};

/// A link and its own seeded draws: each link has a sequence of its own,
/// so that adding a host does not shift the draws of the others.
class link {
public:
  link(link_config cfg, net::splitmix64 rng) : cfg_(cfg), rng_(rng) {}

  /// The delay of one traversal, or nullopt when the packet is lost. Only
  /// packets that are `lossy` draw (jitter and loss); the others take the
  /// plain latency and draw nothing.
  std::optional<sim_time> traverse(bool lossy);

  const link_config& config() const { return cfg_; }

private:
  link_config cfg_;
  net::splitmix64 rng_;
};

} // namespace p2pd::sim
