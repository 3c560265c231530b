#include "p2pd/sim/net/link.hpp"

namespace p2pd::sim {

std::optional<sim_time> link::traverse(bool lossy) {
  if (!lossy)
    return cfg_.latency;
  if (cfg_.loss > 0.0) {
    // 53 bits of the draw as a fraction in [0, 1).
    const double u = static_cast<double>(rng_.next() >> 11) * (1.0 / 9007199254740992.0);
    if (u < cfg_.loss)
      return std::nullopt;
  }
  auto d = cfg_.latency;
  if (cfg_.jitter.count() > 0)
    d += sim_time{static_cast<sim_time::rep>(rng_.between(0, static_cast<uint64_t>(cfg_.jitter.count())))};
  return d;
}

} // namespace p2pd::sim
