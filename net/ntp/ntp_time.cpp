#include "p2pd/net/ntp/ntp_time.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>

namespace p2pd::net {

namespace {

constexpr int64_t ns_per_s = 1'000'000'000;
constexpr uint64_t half_unit = uint64_t{1} << 31;

// Floor division: -1 ns is the last nanosecond of the second before.
int64_t floor_div(int64_t x, int64_t y) {
  auto q = x / y;
  return (x % y != 0 && (x < 0) != (y < 0)) ? q - 1 : q;
}

// A fraction of 2^-32 s in ns: below 2^32 * 1e9 < 2^62, so no overflow.
int64_t fraction_to_ns(uint64_t frac) {
  return static_cast<int64_t>((frac * ns_per_s + half_unit) >> 32);
}

} // namespace

ntp_timestamp ntp_timestamp::from_unix_ns(int64_t unix_ns) {
  auto s = floor_div(unix_ns, ns_per_s);
  auto rem = static_cast<uint64_t>(unix_ns - s * ns_per_s); // [0, 1e9)
  // rem * 2^32 < 1e9 * 2^32 < 2^62; the rounded fraction stays below 2^32
  // (999999999 ns is 4294967291.7 units).
  auto frac = ((rem << 32) + ns_per_s / 2) / ns_per_s;
  // The era is dropped: seconds are taken modulo 2^32.
  auto secs = static_cast<uint32_t>(static_cast<uint64_t>(s + ntp_unix_offset_s));
  return from_parts(secs, static_cast<uint32_t>(frac));
}

int64_t ntp_timestamp::to_unix_ns(int64_t pivot_unix_ns) const {
  return pivot_unix_ns + ntp_diff_ns(*this, from_unix_ns(pivot_unix_ns));
}

ntp_timestamp ntp_timestamp::random() {
  ntp_timestamp out;
  // RAND_bytes fails only without an entropy source; then no nonce that
  // cannot be guessed can be made either.
  while (out.raw == 0)
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&out.raw), sizeof(out.raw)) != 1)
      std::abort();
  return out;
}

std::string ntp_timestamp::to_string() const {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%" PRIu32 ".%09" PRId64, seconds(),
                std::min<int64_t>(fraction_to_ns(fraction()), ns_per_s - 1));
  return buf;
}

int64_t ntp_fixed_to_ns(int64_t fixed) {
  // Whole seconds (rounded down, also when negative) and the fraction above
  // them, so that neither product overflows: |seconds| < 2^31.
  auto secs = floor_div(fixed, int64_t{1} << 32);
  auto frac = static_cast<uint64_t>(fixed - secs * (int64_t{1} << 32));
  return secs * ns_per_s + fraction_to_ns(frac);
}

int64_t ntp_diff_ns(ntp_timestamp a, ntp_timestamp b) {
  // Unsigned subtraction wraps modulo 2^64; reading it as signed gives the
  // difference of the nearest eras.
  return ntp_fixed_to_ns(static_cast<int64_t>(a.raw - b.raw));
}

int64_t ntp_short_to_ns(uint32_t x) {
  auto secs = int64_t{x >> 16};
  auto frac = uint64_t{x & 0xffffu};
  return secs * ns_per_s + static_cast<int64_t>((frac * ns_per_s + (1u << 15)) >> 16);
}

uint32_t ntp_short_from_ns(int64_t ns) {
  if (ns <= 0)
    return 0;
  constexpr int64_t max_ns = 65536 * ns_per_s;
  if (ns >= max_ns)
    return 0xffffffffu;
  auto units = (static_cast<uint64_t>(ns) * 65536 + ns_per_s / 2) / ns_per_s;
  return units > 0xffffffffu ? 0xffffffffu : static_cast<uint32_t>(units);
}

} // namespace p2pd::net
