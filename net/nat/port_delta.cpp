#include "p2pd/net/nat/port_delta.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "p2pd/net/util/parse_name.hpp"

namespace p2pd::net {

const char* to_string(delta_type x) {
  switch (x) {
    case delta_type::unknown: return "unknown";
    case delta_type::not_applicable: return "not_applicable";
    case delta_type::equal: return "equal";
    case delta_type::preserving: return "preserving";
    case delta_type::independent: return "independent";
    case delta_type::dependent: return "dependent";
    case delta_type::random: return "random";
  }
  return "invalid";
}

result<delta_type> parse_delta_type(std::string_view name) {
  static constexpr delta_type all[] = {
    delta_type::unknown,     delta_type::not_applicable, delta_type::equal,
    delta_type::preserving,  delta_type::independent,    delta_type::dependent,
    delta_type::random,
  };
  return parse_name(name, all, "port allocation type");
}

namespace {

// The change from one mapping to the next.
struct step {
  int local = 0;
  int mapped = 0;
  bool either_equal = false; // one of the two samples kept its local port
};

// How many of n must agree: at least one, and ceil(ratio * n).
size_t needed(size_t n, double ratio) {
  auto k = static_cast<size_t>(std::ceil(ratio * static_cast<double>(n) - 1e-9));
  return std::max<size_t>(1, k);
}

bool is_equal(const port_sample& s) { return s.local_port == s.mapped_port; }

// Sorted by order; a repeated flow keeps its first sample.
std::vector<port_sample> prepare(const std::vector<port_sample>& samples) {
  auto xs = samples;
  std::stable_sort(xs.begin(), xs.end(),
                   [](const port_sample& a, const port_sample& b) { return a.order < b.order; });
  std::set<std::pair<uint16_t, endpoint>> seen;
  std::vector<port_sample> out;
  for (auto& x : xs)
    if (seen.emplace(x.local_port, x.destination).second)
      out.push_back(x);
  return out;
}

// The most common non-zero mapped step among `steps` (smallest on a tie), and
// how often it occurs. A zero step is a reused mapping, not an allocation.
std::pair<int, size_t> common_step(const std::vector<step>& steps) {
  std::map<int, size_t> counts;
  for (auto& s : steps)
    if (s.mapped != 0)
      ++counts[s.mapped];
  std::pair<int, size_t> best{0, 0};
  for (auto& [k, n] : counts)
    if (n > best.second)
      best = {k, n};
  return best;
}

} // namespace

delta_result classify_delta(const std::vector<port_sample>& samples, const delta_options& opts) {
  auto xs = prepare(samples);
  if (xs.size() < std::max<size_t>(opts.min_samples, 3))
    return {delta_type::unknown, 0};

  auto equal_count = static_cast<size_t>(std::count_if(xs.begin(), xs.end(), is_equal));
  if (equal_count >= needed(xs.size(), opts.min_agree))
    return {delta_type::equal, 0};

  std::vector<step> steps;
  for (size_t i = 1; i < xs.size(); ++i)
    steps.push_back({xs[i].local_port - xs[i - 1].local_port,
                     xs[i].mapped_port - xs[i - 1].mapped_port,
                     is_equal(xs[i]) || is_equal(xs[i - 1])});
  const size_t pairs_needed = needed(steps.size(), opts.min_agree);

  std::set<int> kept_distances;
  size_t kept = 0;
  for (auto& s : steps)
    if (s.local != 0 && s.mapped == s.local && !s.either_equal) {
      ++kept;
      kept_distances.insert(s.local);
    }
  if (kept >= pairs_needed && kept_distances.size() > 1)
    return {delta_type::preserving, 0};

  auto [k, k_count] = common_step(steps);
  if (k != 0 && k_count >= pairs_needed) {
    size_t other = 0, other_agree = 0;
    for (auto& s : steps)
      if (s.local != 1) {
        ++other;
        other_agree += s.mapped == k;
      }
    if (other > 0 && other_agree >= needed(other, opts.min_agree))
      return {delta_type::independent, k};
  }

  std::vector<step> consecutive;
  std::copy_if(steps.begin(), steps.end(), std::back_inserter(consecutive),
               [](const step& s) { return s.local == 1; });
  if (consecutive.size() + 1 >= std::max<size_t>(opts.min_samples, 3)) {
    auto [dk, dk_count] = common_step(consecutive);
    if (dk != 0 && dk_count >= needed(consecutive.size(), opts.min_agree))
      return {delta_type::dependent, dk};
  }

  return {delta_type::random, 0};
}

delta_result classify_delta(nat_type nat, const std::vector<port_sample>& samples,
                            const delta_options& opts) {
  if (nat == nat_type::open_internet || nat == nat_type::udp_firewall
      || nat == nat_type::blocked)
    return {delta_type::not_applicable, 0};
  return classify_delta(samples, opts);
}

std::optional<mapped_range> mapped_port_range(const std::vector<port_sample>& samples) {
  if (samples.empty())
    return std::nullopt;
  auto [lo, hi] = std::minmax_element(
      samples.begin(), samples.end(),
      [](const port_sample& a, const port_sample& b) { return a.mapped_port < b.mapped_port; });
  return mapped_range{lo->mapped_port, hi->mapped_port};
}

} // namespace p2pd::net
