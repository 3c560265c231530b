#pragma once

#include <cstdint>

#include "caf/actor_system.hpp"
#include "caf/meta/type_name.hpp"
#include "caf/replies_to.hpp"
#include "caf/typed_actor.hpp"

#include "p2pd/actors/stack/net_stack.hpp"
#include "p2pd/messages/pipe.hpp"

namespace p2pd {

/// What an NTP responder serves and how much of it.
struct ntp_responder_spec {
  /// Its socket and its clock: the UDP pipe is spawned on it, and the
  /// receive and transmit timestamps are its unix_ns(). Default: os_stack().
  stack_ptr stack;
  /// The address served; port 0: a free port.
  endpoint local = endpoint{net::ip_address::loopback(net::family::v4), 0};
  /// Added to the stack's clock in every timestamp: a host whose clock is
  /// off by this much (positive: ahead), for the clients' offset to find.
  int64_t skew_ns = 0;
  /// 1..15; what a client reads as our distance from a primary source.
  uint8_t stratum = 2;
  /// The source's id (an IPv4 address for stratum 2 and above):
  /// 127.127.1.1, "the local clock", by default.
  uint32_t reference_id = 0x7F7F0101;
  /// log2 of the clock's precision in seconds (-20: about 1 us).
  int8_t precision = -20;
  /// Requests waiting for the actor at most; more are dropped (a flood).
  size_t max_queued = 256;
  /// Answers per second at most (a token bucket of one second's worth on
  /// the actor clock); 0: no limit. Requests over it are dropped, not
  /// answered with a RATE kiss: a flood's sources may be forged.
  uint32_t max_answers_per_s = 2000;

  /// errc::invalid_argument, saying what, for a spec that cannot work.
  caf::error check() const;
};

/// What a responder did; every drop has a counter.
struct ntp_responder_stats {
  uint64_t answered = 0;
  uint64_t dropped_malformed = 0; ///< not an NTP header (short, long, bad version)
  uint64_t dropped_mode = 0;      ///< not a client request (mode 3)
  uint64_t dropped_rate = 0;      ///< over max_answers_per_s
  uint64_t dropped_flood = 0;     ///< over max_queued
  uint64_t dropped_send = 0;      ///< the answer could not be sent
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ntp_responder_stats& x) {
  return f(caf::meta::type_name("p2pd::ntp_responder_stats"), x.answered, x.dropped_malformed,
           x.dropped_mode, x.dropped_rate, x.dropped_flood, x.dropped_send);
}

/// An NTP responder (RFC 5905 server mode): the simulated world's time
/// server, and a lab's with a host's clock skew.
///
/// - open: opens the UDP pipe on the spec's stack and answers its info (the
///   address served); the opener becomes the owner and the responder ends
///   with it. A second open answers the same info.
/// - stats: the counters.
/// - close: closes the pipe and ends the responder.
///
/// A version 1..4 request in client mode (3) is answered in server mode (4)
/// with the request's version, the spec's stratum, reference id and
/// precision, origin = the request's transmit timestamp, receive = the
/// stack's clock when the datagram arrived (read on the pipe's thread) and
/// transmit = when the answer leaves, both plus skew_ns. Anything else is
/// dropped and counted.
using ntp_responder_actor =
  caf::typed_actor<caf::replies_to<caf::open_atom>::with<pipe_info>,
                   caf::replies_to<stats_atom>::with<ntp_responder_stats>,
                   caf::replies_to<caf::close_atom>::with<caf::ok_atom>>;

/// Spawns a responder; errors at once: spec.check()'s.
caf::expected<ntp_responder_actor> spawn_ntp_responder(caf::actor_system& sys,
                                                       ntp_responder_spec spec);

} // namespace p2pd
