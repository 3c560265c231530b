#pragma once

// How long STUN transactions wait, and the named presets with the reason
// for each. Every STUN user takes one of these (a spec's `timing` field);
// other timeouts of the actor layer are in actors/common/timeouts.hpp.

#include <chrono>
#include <cstdint>

#include "caf/timespan.hpp"

namespace p2pd {

/// Retransmission of a STUN request over UDP (RFC 8489 §6.2.1): sent at 0,
/// rto, 3 rto, 7 rto ... (the wait doubles), at most `max_sends` times, then
/// the last wait is `last_wait_factor` x rto. Over TCP a request is sent once
/// and waited for `tcp_timeout`. The defaults are RFC 8489's (see
/// rfc8489_stun_timing()).
struct stun_timing {
  caf::timespan rto = std::chrono::milliseconds(500);
  uint32_t max_sends = 7;
  uint32_t last_wait_factor = 16;
  caf::timespan tcp_timeout = std::chrono::milliseconds(39500);
};

/// RFC 8489's values, for a path nothing is known about: an RTO of 500 ms,
/// 7 sends and a last wait of 16 RTO, so an unanswered request costs 39.5 s,
/// and as long over TCP. For servers far away or behind lossy links; too
/// slow for probing, where some tests go unanswered by design.
constexpr stun_timing rfc8489_stun_timing() {
  return stun_timing{};
}

/// For probes in a LAN or lab (the default of nat_probe_spec and
/// external_spec): sends at 0, 100, 300 and 700 ms, then a last wait of
/// 400 ms, so an unanswered test costs 1.1 s; over TCP 2 s. A NAT probe
/// waits out such tests by design (test II behind any NAT), so their cost
/// is the probe's duration, while servers nearby answer within milliseconds.
constexpr stun_timing fast_stun_timing() {
  stun_timing t;
  t.rto = std::chrono::milliseconds(100);
  t.max_sends = 4;
  t.last_wait_factor = 4;
  t.tcp_timeout = std::chrono::seconds(2);
  return t;
}

/// For an interface's start (the default of interface_spec): sends at 0, 80
/// and 240 ms, then a last wait of 320 ms, so an unanswered test costs
/// 560 ms and a whole start (tests I, II+III, I', the delta samples,
/// external addresses) stays under a second when the servers answer. A
/// binding over TCP (when UDP gets no answer at all) waits 2 s: only the
/// NAT probe's check for blocked UDP uses TCP, and it must not hold a start
/// for RFC 8489's 39.5 s.
constexpr stun_timing interface_stun_timing() {
  stun_timing t;
  t.rto = std::chrono::milliseconds(80);
  t.max_sends = 3;
  t.last_wait_factor = 4;
  t.tcp_timeout = std::chrono::seconds(2);
  return t;
}

/// For a server on this host (tests): sends at 0, 20 and 60 ms, then a last
/// wait of 40 ms, so an unanswered request costs 100 ms; over TCP 2 s. A
/// loopback answer takes microseconds, so every wait is for a request that
/// will not be answered, and a test suite waits out many of them.
constexpr stun_timing loopback_stun_timing() {
  stun_timing t;
  t.rto = std::chrono::milliseconds(20);
  t.max_sends = 3;
  t.last_wait_factor = 2;
  t.tcp_timeout = std::chrono::seconds(2);
  return t;
}

} // namespace p2pd
