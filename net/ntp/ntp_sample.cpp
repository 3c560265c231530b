#include "p2pd/net/ntp/ntp_sample.hpp"

#include <string>

namespace p2pd::net {

result<ntp_sample> make_ntp_sample(int64_t t1_ns, ntp_timestamp t2, ntp_timestamp t3,
                                   int64_t t4_ns) {
  // Differences of timestamps, each taken in the era nearest the other
  // (ntp_diff_ns): T1 and T4 become timestamps only to be subtracted.
  auto t1 = ntp_timestamp::from_unix_ns(t1_ns);
  auto t4 = ntp_timestamp::from_unix_ns(t4_ns);
  auto out_leg = ntp_diff_ns(t2, t1);   // T2 - T1
  auto back_leg = ntp_diff_ns(t3, t4);  // T3 - T4
  auto held = ntp_diff_ns(t3, t2);      // T3 - T2
  ntp_sample s;
  // Each leg is within 2^31 s (about 2.1e18 ns): their sum does not overflow.
  s.offset_ns = (out_leg + back_leg) / 2;
  s.delay_ns = (t4_ns - t1_ns) - held;
  s.t4_ns = t4_ns;
  if (s.delay_ns < 0)
    return error{errc::malformed,
                 "NTP exchange with a negative round trip (" + std::to_string(s.delay_ns)
                   + " ns): the server held the request " + std::to_string(held)
                   + " ns of a round trip of " + std::to_string(t4_ns - t1_ns) + " ns"};
  return s;
}

result<ntp_sample> make_ntp_sample(int64_t t1_ns, const ntp_packet& reply, int64_t t4_ns) {
  auto s = make_ntp_sample(t1_ns, reply.receive, reply.transmit, t4_ns);
  if (!s)
    return s;
  s->root_distance_ns = reply.root_distance_ns();
  s->stratum = reply.stratum;
  return s;
}

} // namespace p2pd::net
