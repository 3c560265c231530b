// Fuzz target for the NTP codec: any bytes decode or are refused with an
// error and a reason; what decodes re-encodes to the same 48 header bytes;
// a reply checked against its own origin either passes or is refused for a
// reason other than its origin, and what passes becomes a sample with a
// delay that is not negative. The timestamp conversions round-trip.
//
// Built like stun_fuzz (see there): with libFuzzer by run_fuzz.sh, and as
// ntp_fuzz_corpus, which replays corpus/ntp.

#include <cstring>
#include <string>

#include "fuzz_main.hpp"
#include "p2pd/net/ntp/clock_estimate.hpp"
#include "p2pd/net/ntp/ntp_packet.hpp"
#include "p2pd/net/ntp/ntp_sample.hpp"

using namespace p2pd::net;

namespace {

void check(bool ok, const char* what) {
  if (!ok)
    p2pd::fuzz::broken("ntp_fuzz", what);
}

constexpr auto no_reason = static_cast<ntp_reject>(0xff);

void one_input(const uint8_t* data, size_t size) {
  ntp_reject why = no_reason;
  auto x = decode_ntp(data, size, &why);
  if (!x) {
    check(!x.error().what.empty(), "an error without a message");
    check(x.error().code == errc::malformed, "a structural refusal that is not malformed");
    check(why == ntp_reject::short_packet || why == ntp_reject::bad_length
            || why == ntp_reject::bad_version,
          "a structural refusal with another reason");
    return;
  }
  check(why == no_reason, "a reason given on success");
  auto again = encode_ntp(*x);
  check(std::memcmp(again.data(), data, ntp_header_size) == 0, "re-encoding changed the header");
  x->reference_text();
  x->root_distance_ns();

  // Against its own origin: whatever refuses it, it is not the origin.
  auto r = decode_ntp_reply(data, size, x->origin, &why);
  if (!r) {
    check(!r.error().what.empty(), "a reply refused without a message");
    check(why != ntp_reject::origin_mismatch && why != no_reason, "a wrong reason");
  } else {
    check(x->mode == ntp_mode::server && x->stratum >= 1 && x->stratum <= 15,
          "a reply accepted that is no server's synchronised answer");
    // T1 and T4 around the server's timestamps, as if our clock agreed.
    auto t2 = x->receive.to_unix_ns(0);
    auto t3 = x->transmit.to_unix_ns(t2);
    auto s = make_ntp_sample(t2 - 1'000, *x, t3 + 1'000);
    check(s.has_value(), "a checked reply gave no sample");
    check(s->delay_ns >= 0, "a negative delay");
    auto e = estimate_clock({{*s}});
    check(e.has_value() && e->offset_ns == s->offset_ns, "one sample is not its own estimate");
  }
  // Wrong origin: always refused, for the origin or before it.
  auto wrong = decode_ntp_reply(data, size, ntp_timestamp{x->origin.raw + 1}, &why);
  check(!wrong, "a reply accepted with the wrong origin");

  // Bytes 16-31 as a Unix time and a pivot within 60 years of it: the
  // timestamp read near the pivot is the time again, to the nanosecond.
  int64_t ns = 0;
  int64_t shift = 0;
  std::memcpy(&ns, data + 16, sizeof(ns));
  std::memcpy(&shift, data + 24, sizeof(shift));
  constexpr int64_t sixty_years = 60LL * 365 * 86400 * 1'000'000'000;
  ns /= 4;
  auto pivot = ns + shift % sixty_years;
  check(ntp_timestamp::from_unix_ns(ns).to_unix_ns(pivot) == ns, "a time does not round-trip");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  one_input(data, size);
  return 0;
}

P2PD_FUZZ_MAIN("ntp_fuzz")
