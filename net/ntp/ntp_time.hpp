#pragma once

#include <cstdint>
#include <string>

// NTP's time formats (RFC 5905 section 6) and their conversion to Unix time
// in nanoseconds, which is what p2pd's clocks give (net_stack::unix_ns).
//
// A timestamp is 64 bits: whole seconds since the start of its era and a
// binary fraction (2^-32 s, about 0.23 ns). Era 0 began on 1900-01-01; the
// seconds wrap to era 1 on 2036-02-07 06:28:16 UTC. A timestamp does not say
// its era, so it is read relative to a nearby time (a pivot): differences of
// timestamps are taken as signed 64-bit numbers, which is right whenever the
// two are within 68 years of each other, across an era change included
// (RFC 5905 section 6, "the era").

namespace p2pd::net {

/// Seconds from NTP's prime epoch (1900-01-01 00:00 UTC) to the Unix epoch.
inline constexpr int64_t ntp_unix_offset_s = 2'208'988'800;

/// An NTP timestamp: 32.32 fixed point, seconds of its era.
struct ntp_timestamp {
  uint64_t raw = 0;

  uint32_t seconds() const { return static_cast<uint32_t>(raw >> 32); }
  uint32_t fraction() const { return static_cast<uint32_t>(raw); }
  /// Zero means "not set" on the wire (an unanswered origin, no reference).
  bool is_zero() const { return raw == 0; }

  static ntp_timestamp from_parts(uint32_t seconds, uint32_t fraction) {
    return {(uint64_t{seconds} << 32) | fraction};
  }

  /// The timestamp of a Unix time, rounded to the nearest 2^-32 s.
  static ntp_timestamp from_unix_ns(int64_t unix_ns);

  /// The Unix time this timestamp stands for, read in the era that puts it
  /// closest to `pivot_unix_ns` (so within 68 years of it); rounded to the
  /// nearest nanosecond.
  int64_t to_unix_ns(int64_t pivot_unix_ns) const;

  /// 64 bits from OpenSSL's generator, never zero: what a client sends as
  /// its transmit timestamp, so that the origin of an answer proves the
  /// answer saw the request and the request tells nothing of our clock.
  static ntp_timestamp random();

  /// "3913056000.500000000" (era seconds and fraction in ns), for messages.
  std::string to_string() const;

  friend bool operator==(ntp_timestamp x, ntp_timestamp y) { return x.raw == y.raw; }
  friend bool operator!=(ntp_timestamp x, ntp_timestamp y) { return x.raw != y.raw; }
};

/// a - b in nanoseconds, rounded to the nearest one: the 64-bit difference
/// read as a signed 32.32 number, so that the eras of `a` and `b` need not
/// be known as long as they are within 68 years of each other.
int64_t ntp_diff_ns(ntp_timestamp a, ntp_timestamp b);

/// A signed 32.32 fixed-point number of seconds in nanoseconds, rounded to
/// the nearest one.
int64_t ntp_fixed_to_ns(int64_t fixed);

/// NTP's short format (16.16 fixed point seconds: root delay and root
/// dispersion) in nanoseconds, rounded to the nearest one.
int64_t ntp_short_to_ns(uint32_t x);

/// Nanoseconds in the short format, rounded; clamped to 0 and to its
/// largest value (65536 s less 2^-16 s).
uint32_t ntp_short_from_ns(int64_t ns);

} // namespace p2pd::net
