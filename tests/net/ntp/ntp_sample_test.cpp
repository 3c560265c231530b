// Offset and delay from the four timestamps (RFC 5905 section 8), checked
// against values worked out by hand, to the nanosecond.
#include <gtest/gtest.h>

#include "net/ntp/ntp_units.hpp"
#include "support/expect.hpp"

#include "p2pd/net/ntp/ntp_sample.hpp"

using namespace p2pd::net;
using namespace p2pd::test::ntp_units;

namespace {

// An exchange with a server whose clock is `offset` ahead of ours: the
// request travels `out`, the server holds it `hold`, the answer travels
// `back`. Times are local Unix ns; T2 and T3 are the server's.
result<ntp_sample> exchange(int64_t t1, int64_t offset, int64_t out, int64_t hold,
                            int64_t back) {
  auto t2 = ntp_timestamp::from_unix_ns(t1 + out + offset);
  auto t3 = ntp_timestamp::from_unix_ns(t1 + out + hold + offset);
  return make_ntp_sample(t1, t2, t3, t1 + out + hold + back);
}

} // namespace

TEST(NtpSample, SymmetricPathGivesTheExactOffset) {
  auto x = exchange(1'700'000'000 * s + 123'456 * us, 250 * ms, 20 * ms, 1 * ms, 20 * ms);
  ASSERT_OK(x);
  EXPECT_NEAR(x->offset_ns, 250 * ms, 1); // rounding of the 2^-32 s fractions
  EXPECT_EQ(x->delay_ns, 40 * ms);
  EXPECT_EQ(x->error_ns(), 20 * ms);
}

TEST(NtpSample, AsymmetricPathIsWrongByHalfTheDifferenceAndWithinTheBound) {
  // 10 ms out, 30 ms back: theta = ((260) + (261 - 41)) / 2 = 240 ms.
  auto x = exchange(1'700'000'000 * s, 250 * ms, 10 * ms, 1 * ms, 30 * ms);
  ASSERT_OK(x);
  EXPECT_NEAR(x->offset_ns, 240 * ms, 1);
  EXPECT_EQ(x->delay_ns, 40 * ms);
  EXPECT_LE(250 * ms - x->offset_ns, x->error_ns());
}

TEST(NtpSample, MicrosecondValuesWorkedByHand) {
  // T1 = 1700000000.000100, T2 = .000350 + 1.5 s, T3 = .000370 + 1.5 s
  // (server), T4 = .000900: theta = ((1.50025) + (1.49947)) / 2 s
  // = 1.499860 s, delta = 800 us - 20 us = 780 us.
  auto t1 = 1'700'000'000 * s + 100 * us;
  auto t2 = ntp_timestamp::from_unix_ns(1'700'000'001 * s + 500 * ms + 350 * us);
  auto t3 = ntp_timestamp::from_unix_ns(1'700'000'001 * s + 500 * ms + 370 * us);
  auto x = make_ntp_sample(t1, t2, t3, 1'700'000'000 * s + 900 * us);
  ASSERT_OK(x);
  EXPECT_NEAR(x->offset_ns, 1'499'860 * us, 1);
  EXPECT_EQ(x->delay_ns, 780 * us);
}

TEST(NtpSample, ServerBehindGivesANegativeOffset) {
  auto x = exchange(1'700'000'000 * s, -3'500 * ms, 5 * ms, 0, 5 * ms);
  ASSERT_OK(x);
  EXPECT_NEAR(x->offset_ns, -3'500 * ms, 1);
  EXPECT_EQ(x->delay_ns, 10 * ms);
}

TEST(NtpSample, OffsetOfDecadesIsExact) {
  // A host that booted with its clock at 1970 asks a server in 2023.
  auto x = exchange(5 * s, 1'700'000'000 * s, 3 * ms, 0, 3 * ms);
  ASSERT_OK(x);
  EXPECT_NEAR(x->offset_ns, 1'700'000'000 * s, 1);
  EXPECT_EQ(x->delay_ns, 6 * ms);
}

TEST(NtpSample, ExchangeAcrossTheEraChangeOf2036) {
  // We are 10 ms before the wrap, the server (100 ms ahead) already past it.
  auto t1 = era1_unix_s * s - 10 * ms;
  auto x = exchange(t1, 100 * ms, 2 * ms, 0, 2 * ms);
  ASSERT_OK(x);
  EXPECT_LT(ntp_timestamp::from_unix_ns(t1 + 102 * ms).seconds(), 1u); // era 1
  EXPECT_NEAR(x->offset_ns, 100 * ms, 1);
  EXPECT_EQ(x->delay_ns, 4 * ms);
  // And the other way: the server behind, still in era 0.
  auto y = exchange(era1_unix_s * s + 10 * ms, -100 * ms, 2 * ms, 0, 2 * ms);
  ASSERT_OK(y);
  EXPECT_NEAR(y->offset_ns, -100 * ms, 1);
}

TEST(NtpSample, NegativeDelayIsRefused) {
  // The server claims to have held the request 5 ms of a 2 ms round trip.
  auto t1 = 1'700'000'000 * s;
  auto t2 = ntp_timestamp::from_unix_ns(t1);
  auto t3 = ntp_timestamp::from_unix_ns(t1 + 5 * ms);
  auto x = make_ntp_sample(t1, t2, t3, t1 + 2 * ms);
  ASSERT_ERRC(x, errc::malformed);
  EXPECT_NE(x.error().what.find("negative round trip"), std::string::npos) << x.error().what;
}

TEST(NtpSample, RootDistanceOfTheServerAddsToTheError) {
  ntp_packet p;
  p.mode = ntp_mode::server;
  p.stratum = 3;
  p.root_delay = 0x00000800;      // 31.25 ms
  p.root_dispersion = 0x00000100; // 3.90625 ms
  auto t1 = 1'700'000'000 * s;
  p.receive = ntp_timestamp::from_unix_ns(t1 + 4 * ms);
  p.transmit = p.receive;
  auto x = make_ntp_sample(t1, p, t1 + 8 * ms);
  ASSERT_OK(x);
  EXPECT_EQ(x->root_distance_ns, 15'625'000 + 3'906'250);
  EXPECT_EQ(x->error_ns(), 4 * ms + 15'625'000 + 3'906'250);
  EXPECT_EQ(x->stratum, 3);
  EXPECT_EQ(x->t4_ns, t1 + 8 * ms);
}
