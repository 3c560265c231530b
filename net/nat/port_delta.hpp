#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "p2pd/net/addr/address.hpp"
#include "p2pd/net/error.hpp"
#include "p2pd/net/nat/nat_type.hpp"

namespace p2pd::net {

/// How a NAT picks the external port of a new mapping (the original's "delta").
enum class delta_type : uint8_t {
  unknown,        ///< too few samples to say
  not_applicable, ///< no port allocation: no NAT (open_internet, udp_firewall), or blocked
  equal,          ///< mapped port == local port
  preserving,     ///< the distance between local ports is kept between mapped ports
  independent,    ///< each new mapping = the last + value, whatever the local port
  dependent,      ///< each new mapping = the last + value when the local port goes + 1
  random,         ///< none of the above
};

/// The type's name, e.g. "independent".
const char* to_string(delta_type x);
/// The type of that name (to_string's), for a NAT a user gives; otherwise
/// invalid_argument listing the names.
result<delta_type> parse_delta_type(std::string_view name);

/// A delta type and, for independent and dependent, the step between mappings
/// (it may be negative). 0 for the other types.
struct delta_result {
  delta_type type = delta_type::unknown;
  int value = 0;

  friend bool operator==(const delta_result& x, const delta_result& y) {
    return x.type == y.type && x.value == y.value;
  }
  friend bool operator!=(const delta_result& x, const delta_result& y) { return !(x == y); }
};

/// One mapping: a binding request from `local_port` to `destination` that
/// came back with `mapped_port`. `order` is when the request was sent: the
/// step checks compare each mapping with the one made just before it.
struct port_sample {
  uint16_t local_port = 0;
  uint16_t mapped_port = 0;
  endpoint destination;
  uint32_t order = 0;
};

/// Thresholds of classify_delta().
struct delta_options {
  /// Fewer distinct samples than this → unknown. Values below 3 count as 3:
  /// a step needs at least two pairs to be a pattern rather than an accident.
  size_t min_samples = 5;
  /// The share of samples (equal) or of consecutive pairs (the others) that
  /// must agree. It is a fraction rather than the original's absolute count
  /// (5 of 8), so it scales with the number of samples; 0.6 accepts the
  /// original's vectors (5 of 7 pairs) and tolerates a few strays, e.g. ports
  /// that another host behind the same NAT took in between. By chance a random
  /// allocator repeats a step with odds of about 1 in 64k per pair.
  double min_agree = 0.6;
};

/// Classifies port allocation from samples, decided in `order` (the original
/// ran these order-dependent checks on concurrent, unordered results). Samples
/// that repeat a (local port, destination) flow are dropped: they reuse a
/// mapping rather than make one. Checks, first match wins:
/// 1. equal: mapped == local in enough samples;
/// 2. preserving: mapped distance == local distance (≠ 0, neither sample
///    equal) in enough pairs, with at least two different distances (one
///    distance alone is also what independent or dependent would give);
/// 3. independent(k): the most common non-zero step k holds in enough of all
///    pairs and in enough of the pairs whose local port did not go + 1 (so
///    the sampler must use non-consecutive local ports for this to show);
/// 4. dependent(k): among pairs whose local port went + 1, enough step by k
///    (with consecutive local ports only, an independent NAT looks the same;
///    dependent is the safe answer: its prediction, local + 1 → mapped + k,
///    also holds for an independent NAT);
/// 5. random.
delta_result classify_delta(const std::vector<port_sample>& samples,
                            const delta_options& opts = {});

/// Like classify_delta(samples, opts), but not_applicable where no port is
/// allocated: without a NAT (open_internet, udp_firewall), whatever the
/// samples say (the ports are kept, so they would say equal), and with UDP
/// blocked (nothing gets through to sample). That is what the original
/// (NA_DELTA) and the lab report.
delta_result classify_delta(nat_type nat, const std::vector<port_sample>& samples,
                            const delta_options& opts = {});

/// The lowest and highest mapped port seen (inclusive).
struct mapped_range {
  uint16_t first = 0;
  uint16_t last = 0;
};

/// The NAT's port range as far as the samples show it; nullopt without
/// samples. It only bounds the NAT's allocator when mapped ports are its own
/// choice (independent, dependent, random); with equal or preserving it
/// mirrors the local ports that were asked for.
std::optional<mapped_range> mapped_port_range(const std::vector<port_sample>& samples);

} // namespace p2pd::net
