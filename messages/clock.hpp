#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "caf/meta/type_name.hpp"
#include "caf/replies_to.hpp"
#include "caf/typed_actor.hpp"

#include "p2pd/messages/atoms.hpp"
#include "p2pd/net/ntp/ntp_packet.hpp"

namespace p2pd {

/// What the NTP clock measured: local time (the stack's unix_ns) plus
/// offset_ns is the servers' time, give or take error_ns.
struct clock_offset {
  int64_t offset_ns = 0;
  /// True time is within offset_ns +- error_ns if the best server's own
  /// bound holds (net/ntp/clock_estimate.hpp).
  int64_t error_ns = 0;
  /// The stack's Unix time in ms when the measurement ended: how old it is.
  int64_t at_ms = 0;
  /// The round trip of the sample the error rests on.
  int64_t delay_ns = 0;
  uint32_t servers = 0;  ///< servers the estimate rests on
  uint32_t outliers = 0; ///< servers dropped as outliers
  uint32_t asked = 0;    ///< servers asked
  uint64_t round = 0;    ///< which measurement (1: the first)
  /// What did not go into the estimate, and why: servers that did not
  /// answer or refused, outliers, names that did not resolve.
  std::vector<std::string> notes;

  /// `local_ns` on the servers' clock.
  int64_t server_time_ns(int64_t local_ns) const { return local_ns + offset_ns; }

  /// "+250.012 ms +- 0.081 ms from 3 of 3 servers (round 1)".
  std::string to_string() const;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, clock_offset& x) {
  return f(caf::meta::type_name("p2pd::clock_offset"), x.offset_ns, x.error_ns, x.at_ms,
           x.delay_ns, x.servers, x.outliers, x.asked, x.round, x.notes);
}

/// What the NTP clock did; every refusal is counted by its reason.
struct ntp_clock_stats {
  uint64_t rounds = 0;        ///< measurements that gave an estimate
  uint64_t rounds_failed = 0; ///< measurements in which no server gave a sample
  uint64_t requests = 0;      ///< requests sent
  uint64_t samples = 0;       ///< answers that became samples
  uint64_t timeouts = 0;      ///< requests not answered within reply_timeout
  uint64_t outliers = 0;      ///< servers dropped as outliers, over all rounds
  uint64_t denied = 0;        ///< servers that said DENY or RSTR, never asked again
  uint64_t dropped_flood = 0; ///< datagrams dropped because ntp_inbox were waiting
  /// Replies refused, by net::ntp_reject.
  std::vector<uint64_t> rejected = std::vector<uint64_t>(net::ntp_reject_count, 0);

  uint64_t rejected_for(net::ntp_reject r) const {
    auto i = static_cast<size_t>(r);
    return i < rejected.size() ? rejected[i] : 0;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ntp_clock_stats& x) {
  return f(caf::meta::type_name("p2pd::ntp_clock_stats"), x.rounds, x.rounds_failed, x.requests,
           x.samples, x.timeouts, x.outliers, x.denied, x.dropped_flood, x.rejected);
}

/// "+250.012 ms" (ns as signed ms with three decimals).
std::string ms_text(int64_t ns);

/// The typed interface of the NTP clock (actors/ntp/ntp_clock.hpp).
///
/// - get: the latest estimate at once; before the first measurement ends,
///   waits for it. Errors: the measurement under way failed, its message
///   naming each server and why: errc::server_refused when every server
///   refused (kiss-o'-death, not synchronised), errc::malformed when some
///   answered with what could not be used, errc::recv_timeout when none
///   answered; or there are no servers to ask (errc::invalid_argument).
/// - refresh: measures now (or joins the measurement under way) and answers
///   with its estimate; errors as for get.
/// - stats: the counters.
using ntp_clock_actor = caf::typed_actor<caf::replies_to<caf::get_atom>::with<clock_offset>,
                                         caf::replies_to<refresh_atom>::with<clock_offset>,
                                         caf::replies_to<stats_atom>::with<ntp_clock_stats>>;

} // namespace p2pd
