#include "p2pd/node/metrics/node_metrics.hpp"

#include <algorithm>

namespace p2pd {

void ms_histogram::observe(int64_t ms) {
  auto at = std::lower_bound(connect_ms_bounds.begin(), connect_ms_bounds.end(), ms);
  auto i = static_cast<size_t>(at - connect_ms_bounds.begin());
  if (buckets.size() != connect_ms_bounds.size() + 1)
    buckets.assign(connect_ms_bounds.size() + 1, 0);
  ++buckets[i];
  sum_ms += ms;
  ++count;
}

} // namespace p2pd
