#pragma once

#include <cstdint>

// Nanosecond units and the start of NTP era 1 in Unix seconds, shared by the
// NTP tests.

namespace p2pd::test::ntp_units {

inline constexpr int64_t us = 1'000;
inline constexpr int64_t ms = 1'000'000;
inline constexpr int64_t s = 1'000'000'000;
/// 2036-02-07T06:28:16Z, where NTP era 1 begins.
inline constexpr int64_t era1_unix_s = 2'085'978'496;

} // namespace p2pd::test::ntp_units
