#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "p2pd/net/error.hpp"
#include "p2pd/net/ntp/ntp_sample.hpp"

// The clock's offset from the samples of several servers:
//
// 1. Per server, the sample with the least delay (RFC 5905's clock filter
//    does the same): queueing only ever adds delay, and the error of a
//    sample is half its delay, so the fastest exchange is the truest.
// 2. Outliers are dropped by the median absolute deviation of the servers'
//    offsets: a server is kept when it is within `mad_factor` scaled MADs of
//    the median, or within its own error bound of it (a server that agrees
//    with the others as well as it can measure is never an outlier, however
//    small their spread). Three servers outvote one; two cannot.
// 3. The offset is the mean of the kept servers weighted by 1 / error^2, and
//    the error bound rests on the best of them: if true time lies within the
//    best sample's bound, it lies within |best - estimate| + that bound of
//    the estimate.

namespace p2pd::net {

/// What estimate_clock() does.
struct clock_estimate_config {
  /// A server is an outlier beyond this many scaled MADs (1.4826 * MAD,
  /// the standard deviation for normal noise) from the median.
  double mad_factor = 3.0;
  /// The least error a sample is weighed with: below a microsecond the
  /// clocks' own reading is the limit.
  int64_t min_error_ns = 1000;
};

/// The estimate.
struct clock_estimate {
  int64_t offset_ns = 0; ///< add to local time to get the servers' time
  int64_t error_ns = 0;  ///< true time is within offset_ns +- error_ns (see above)
  int64_t delay_ns = 0;  ///< the round trip of the sample the bound rests on
  /// Indexes (into the per-server input) of the servers used, and of those
  /// dropped as outliers; servers without samples are in neither.
  std::vector<size_t> used;
  std::vector<size_t> outliers;
};

/// The estimate from `per_server[i]`, the samples of server i (any may be
/// empty). Errors: no samples at all (errc::invalid_argument).
result<clock_estimate> estimate_clock(const std::vector<std::vector<ntp_sample>>& per_server,
                                      const clock_estimate_config& cfg = {});

/// The sample of `xs` with the least delay (the first of equals); null when
/// `xs` is empty.
const ntp_sample* least_delay(const std::vector<ntp_sample>& xs);

} // namespace p2pd::net
