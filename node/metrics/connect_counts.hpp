#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "p2pd/node/connect/plan.hpp"
#include "p2pd/node/metrics/node_metrics.hpp"

namespace p2pd::node {

/// The node's connects by strategy and outcome, and how long those it won
/// took (node_state::connect_counts; read by the metrics request).
class connect_counts {
public:
  /// A connect ended with a connection that `how` made, `ms` after it began.
  void won(strategy how, int64_t ms);
  /// A connect ended without one; `last` is the strategy it tried last, or
  /// null when no attempt was possible.
  void failed(const strategy* last);
  /// Adds the tallies and histograms to `m`, in a stable order.
  void fill(node_metrics& m) const;

private:
  std::map<std::pair<std::string, std::string>, uint64_t> tallies_;
  std::map<std::string, ms_histogram> times_;
};

} // namespace p2pd::node
