#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "caf/error.hpp"
#include "caf/timespan.hpp"

#include "p2pd/actors/common/timeouts.hpp"
#include "p2pd/actors/stack/net_stack.hpp"
#include "p2pd/net/addr/address.hpp"
#include "p2pd/net/ntp/clock_estimate.hpp"
#include "p2pd/net/util/server_list.hpp"

namespace p2pd {

/// What the NTP clock asks and how.
struct ntp_clock_spec {
  /// Sockets and time: the clock opens its UDP pipes and reads T1 and T4
  /// (unix_ns) through it. Default: os_stack().
  stack_ptr stack;
  /// Servers of a server file (its ntp lines: add_ntp_servers()), resolved
  /// by the actor at the start of every measurement as a blocking job, all
  /// names at once within dns_timeout; names that do not resolve are noted.
  std::vector<net::server_entry> servers;
  /// Servers to ask as they are, besides `servers`.
  std::vector<endpoint> endpoints;
  /// Time allowed to resolve `servers`.
  caf::timespan dns_timeout = timeouts::dns;
  /// Answers wanted from each server per measurement, at most
  /// samples + retries requests (timeouts.hpp says why).
  uint32_t samples = timeouts::ntp_samples;
  uint32_t retries = timeouts::ntp_retries;
  /// How long each request waits for its answer.
  caf::timespan reply_timeout = timeouts::ntp_reply;
  /// The pause between one server's answer and the next request to it.
  caf::timespan spacing = timeouts::ntp_spacing;
  /// How often the clock measures again by itself; 0: only on request.
  /// Longer than measurement_time() + reply_timeout: the waits of a
  /// measurement hold the clock (delayed messages), and a tick that always
  /// found it held would keep a clock nobody holds measuring forever.
  caf::timespan refresh_interval = timeouts::ntp_refresh;
  /// Servers asked at most per measurement (the first ones, in order).
  size_t max_servers = timeouts::ntp_max_servers;
  /// Local addresses to send from, at most one per family; a family without
  /// one sends from its any-address. Port 0: a free port.
  std::vector<endpoint> local;
  /// How the samples become an estimate.
  net::clock_estimate_config estimator;

  /// What makes the spec unusable (errc::invalid_argument): no samples
  /// wanted, no reply timeout, a refresh_interval too short (see there), two
  /// local addresses of one family.
  caf::error check() const;

  /// The longest one measurement takes: name resolution, then every request
  /// of a server unanswered, and the spacing between them.
  caf::timespan measurement_time() const;
};

/// Adds the ntp entries of a server list (net/util/server_list.hpp) to
/// `spec.servers`; the others are for other actors.
void add_ntp_servers(ntp_clock_spec& spec, const std::vector<net::server_entry>& list);

} // namespace p2pd
