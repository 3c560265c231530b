// NTP timestamps: fixed point, the Unix epoch offset, eras.
#include <gtest/gtest.h>

#include "p2pd/net/ntp/ntp_time.hpp"

#include "net/ntp/ntp_units.hpp"

using namespace p2pd::net;
using namespace p2pd::test::ntp_units;

TEST(NtpTime, UnixEpochIsSecond2208988800OfEraZero) {
  auto t = ntp_timestamp::from_unix_ns(0);
  EXPECT_EQ(t.seconds(), 2'208'988'800u);
  EXPECT_EQ(t.fraction(), 0u);
}

TEST(NtpTime, FractionIsBinary) {
  EXPECT_EQ(ntp_timestamp::from_unix_ns(s / 2).fraction(), 0x80000000u);
  EXPECT_EQ(ntp_timestamp::from_unix_ns(s / 4).fraction(), 0x40000000u);
  // 1 ns is 4.295 units of 2^-32 s, rounded to 4.
  EXPECT_EQ(ntp_timestamp::from_unix_ns(1).fraction(), 4u);
  // The last nanosecond of a second does not round up into the next one.
  auto t = ntp_timestamp::from_unix_ns(s - 1);
  EXPECT_EQ(t.seconds(), 2'208'988'800u);
  EXPECT_EQ(t.fraction(), 4'294'967'292u);
}

TEST(NtpTime, KnownDateHasKnownTimestamp) {
  // 2024-01-01 00:00:00.25 UTC = Unix 1704067200.25 = NTP 3913056000.25.
  auto t = ntp_timestamp::from_unix_ns(1'704'067'200 * s + s / 4);
  EXPECT_EQ(t.seconds(), 3'913'056'000u);
  EXPECT_EQ(t.fraction(), 0x40000000u);
  EXPECT_EQ(t.to_string(), "3913056000.250000000");
}

TEST(NtpTime, TimeBeforeTheUnixEpochRoundsDown) {
  auto t = ntp_timestamp::from_unix_ns(-1);
  EXPECT_EQ(t.seconds(), 2'208'988'799u);
  EXPECT_EQ(t.fraction(), 4'294'967'292u);
}

TEST(NtpTime, RoundTripsToTheNanosecond) {
  const int64_t values[] = {0,
                            1,
                            s - 1,
                            1'704'067'200 * s + 123'456'789,
                            1'700'000'000 * s + 999'999'999,
                            era1_unix_s * s - 1,
                            era1_unix_s * s,
                            era1_unix_s * s + 1,
                            -1,
                            -ntp_unix_offset_s * s};
  for (auto v : values)
    EXPECT_EQ(ntp_timestamp::from_unix_ns(v).to_unix_ns(v), v) << v;
  // The pivot only picks the era: a pivot decades away still finds it.
  auto v = 1'704'067'200 * s + 7;
  EXPECT_EQ(ntp_timestamp::from_unix_ns(v).to_unix_ns(0), v);
  EXPECT_EQ(ntp_timestamp::from_unix_ns(v).to_unix_ns(era1_unix_s * s + 20 * 365 * 86400 * s), v);
}

TEST(NtpTime, SecondsWrapIntoEraOneIn2036) {
  auto last = ntp_timestamp::from_unix_ns(era1_unix_s * s - s);
  auto first = ntp_timestamp::from_unix_ns(era1_unix_s * s + s);
  EXPECT_EQ(last.seconds(), 0xffffffffu);
  EXPECT_EQ(first.seconds(), 1u);
  // Read near 2036, era 1's second 1 is after era 0's last second.
  EXPECT_EQ(first.to_unix_ns(era1_unix_s * s), era1_unix_s * s + s);
  EXPECT_EQ(ntp_diff_ns(first, last), 2 * s);
  EXPECT_EQ(ntp_diff_ns(last, first), -2 * s);
}

TEST(NtpTime, DifferenceIsSignedAndRoundedToTheNanosecond) {
  auto a = ntp_timestamp::from_parts(100, 0);
  auto b = ntp_timestamp::from_parts(100, 0x80000000u);
  EXPECT_EQ(ntp_diff_ns(b, a), s / 2);
  EXPECT_EQ(ntp_diff_ns(a, b), -s / 2);
  // One unit (0.23 ns) rounds to 0 either way.
  auto c = ntp_timestamp{a.raw + 1};
  EXPECT_EQ(ntp_diff_ns(c, a), 0);
  EXPECT_EQ(ntp_diff_ns(a, c), 0);
  // 68 years apart is the limit: beyond, the nearer era is taken.
  EXPECT_EQ(ntp_diff_ns(ntp_timestamp::from_parts(0x7fffffffu, 0), ntp_timestamp{}),
            int64_t{0x7fffffff} * s);
  EXPECT_EQ(ntp_diff_ns(ntp_timestamp::from_parts(0x80000000u, 0), ntp_timestamp{}),
            -int64_t{0x80000000} * s);
}

TEST(NtpTime, FixedPointToNanoseconds) {
  EXPECT_EQ(ntp_fixed_to_ns(int64_t{1} << 32), s);
  EXPECT_EQ(ntp_fixed_to_ns(-(int64_t{1} << 31)), -s / 2);
  EXPECT_EQ(ntp_fixed_to_ns(-(int64_t{3} << 31)), -3 * s / 2);
  EXPECT_EQ(ntp_fixed_to_ns(0), 0);
}

TEST(NtpTime, ShortFormat) {
  EXPECT_EQ(ntp_short_to_ns(0x00010000u), s);
  EXPECT_EQ(ntp_short_to_ns(0x00008000u), s / 2);
  EXPECT_EQ(ntp_short_to_ns(0x00000001u), 15'259); // 15258.789 ns
  EXPECT_EQ(ntp_short_to_ns(0xffffffffu), 65'536 * s - 15'259);
  EXPECT_EQ(ntp_short_from_ns(s), 0x00010000u);
  EXPECT_EQ(ntp_short_from_ns(250'000'000), 0x00004000u);
  EXPECT_EQ(ntp_short_from_ns(-5), 0u);
  EXPECT_EQ(ntp_short_from_ns(100'000 * s), 0xffffffffu);
}

TEST(NtpTime, RandomNoncesAreNeverZeroAndDiffer) {
  auto a = ntp_timestamp::random();
  auto b = ntp_timestamp::random();
  EXPECT_FALSE(a.is_zero());
  EXPECT_NE(a, b);
}
