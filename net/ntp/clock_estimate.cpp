#include "p2pd/net/ntp/clock_estimate.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace p2pd::net {

namespace {

// The median of `xs` (sorted in place); the mean of the middle two when
// their number is even. Offsets are far below 2^62, so the sum fits.
int64_t median(std::vector<int64_t>& xs) {
  std::sort(xs.begin(), xs.end());
  auto n = xs.size();
  return n % 2 == 1 ? xs[n / 2] : (xs[n / 2 - 1] + xs[n / 2]) / 2;
}

} // namespace

const ntp_sample* least_delay(const std::vector<ntp_sample>& xs) {
  const ntp_sample* best = nullptr;
  for (const auto& x : xs)
    if (best == nullptr || x.delay_ns < best->delay_ns)
      best = &x;
  return best;
}

result<clock_estimate> estimate_clock(const std::vector<std::vector<ntp_sample>>& per_server,
                                      const clock_estimate_config& cfg) {
  struct pick {
    size_t server;
    const ntp_sample* s;
  };
  std::vector<pick> picks;
  for (size_t i = 0; i < per_server.size(); ++i)
    if (auto* best = least_delay(per_server[i]))
      picks.push_back({i, best});
  if (picks.empty())
    return error{errc::invalid_argument, "no NTP samples to estimate the clock from"};

  std::vector<int64_t> offsets;
  for (auto& p : picks)
    offsets.push_back(p.s->offset_ns);
  auto med = median(offsets);
  std::vector<int64_t> deviations;
  for (auto& p : picks)
    deviations.push_back(std::llabs(p.s->offset_ns - med));
  auto mad = median(deviations);
  auto spread = cfg.mad_factor * 1.4826 * static_cast<double>(mad);

  clock_estimate out;
  std::vector<pick> kept;
  for (auto& p : picks) {
    auto dev = static_cast<double>(std::llabs(p.s->offset_ns - med));
    if (dev <= spread + static_cast<double>(p.s->error_ns())) {
      kept.push_back(p);
      out.used.push_back(p.server);
    } else {
      out.outliers.push_back(p.server);
    }
  }
  // The median lies within the spread of at least half the servers, so
  // some are always kept; the check guards the arithmetic below all the same.
  if (kept.empty())
    return error{errc::invalid_argument, "every NTP server was an outlier"};

  auto err_of = [&](const ntp_sample& s) { return std::max(s.error_ns(), cfg.min_error_ns); };
  const ntp_sample* best = kept.front().s;
  for (auto& p : kept)
    if (err_of(*p.s) < err_of(*best))
      best = p.s;
  // Weighted mean of the offsets relative to the best one: doubles hold
  // differences of a few seconds to the nanosecond, absolute Unix-scale
  // offsets they would not.
  double num = 0;
  double den = 0;
  for (auto& p : kept) {
    auto e = static_cast<double>(err_of(*p.s));
    auto w = 1.0 / (e * e);
    num += w * static_cast<double>(p.s->offset_ns - best->offset_ns);
    den += w;
  }
  out.offset_ns = best->offset_ns + static_cast<int64_t>(std::llround(num / den));
  out.error_ns = std::llabs(best->offset_ns - out.offset_ns) + err_of(*best);
  out.delay_ns = best->delay_ns;
  return out;
}

} // namespace p2pd::net
