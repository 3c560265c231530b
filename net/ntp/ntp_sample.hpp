#pragma once

#include <cstdint>

#include "p2pd/net/error.hpp"
#include "p2pd/net/ntp/ntp_packet.hpp"

// One exchange with a server, turned into an offset and a delay (RFC 5905
// section 8). With T1 our send, T2 the server's receive, T3 its send and T4
// our receive:
//
//   offset theta = ((T2 - T1) + (T3 - T4)) / 2
//   delay  delta = (T4 - T1) - (T3 - T2)
//
// theta is what to add to our clock to read the server's; it is exact when
// the two legs of the path take equally long, and wrong by at most delta / 2
// whatever they take. (The original took T4 - T3 alone: the whole round trip,
// and any queueing in it, went into its offset.)

namespace p2pd::net {

/// An offset measured against one server.
struct ntp_sample {
  int64_t offset_ns = 0;        ///< theta: server time minus local time
  int64_t delay_ns = 0;         ///< delta: the round trip, less the server's time
  int64_t root_distance_ns = 0; ///< the server's own distance to true time
  int64_t t4_ns = 0;            ///< local Unix time of the answer
  uint8_t stratum = 0;

  /// How far true time may be from local time + offset: half the round trip
  /// (the legs may be as unequal as that) plus the server's root distance.
  int64_t error_ns() const { return delay_ns / 2 + root_distance_ns; }
};

/// The sample of a checked reply (check_ntp_reply) to a request sent at
/// local Unix time `t1_ns` and answered at `t4_ns`. T2 and T3 are read
/// relative to T1 and T4, so an era change between them is no matter.
/// Errors: a negative delay (errc::malformed: the server claims to have held
/// the request longer than the whole round trip took, or our clock stepped
/// back between send and answer).
result<ntp_sample> make_ntp_sample(int64_t t1_ns, const ntp_packet& reply, int64_t t4_ns);

/// The same from the four timestamps alone (root distance 0).
result<ntp_sample> make_ntp_sample(int64_t t1_ns, ntp_timestamp t2, ntp_timestamp t3,
                                   int64_t t4_ns);

} // namespace p2pd::net
