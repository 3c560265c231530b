#include "p2pd/node/metrics/connect_counts.hpp"

namespace p2pd::node {

void connect_counts::won(strategy how, int64_t ms) {
  std::string name = to_string(how);
  ++tallies_[{name, "ok"}];
  times_[name].observe(ms);
}

void connect_counts::failed(const strategy* last) {
  ++tallies_[{last != nullptr ? to_string(*last) : "none", "failed"}];
}

void connect_counts::fill(node_metrics& m) const {
  for (auto& [key, n] : tallies_)
    m.connects.push_back(connect_tally{key.first, key.second, n});
  for (auto& [name, h] : times_)
    m.connect_times.push_back(connect_time{name, h});
}

} // namespace p2pd::node
