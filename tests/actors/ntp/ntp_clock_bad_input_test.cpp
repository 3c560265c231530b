// The NTP clock against servers that answer badly, one way each: every
// answer is refused with its reason, counted, and the measurement fails
// saying why (or goes on without the server).
#include <cstdlib>

#include "net/ntp/ntp_units.hpp"
#include "support/expect.hpp"

#include "actors/ntp/ntp_responder.hpp"

#include "p2pd/actors/ntp/ntp_clock.hpp"

using namespace p2pd;
using namespace p2pd::test;
using p2pd::test::ntp_units::ms;

namespace {

class NtpClockBadInput : public ::testing::Test {
protected:
  // One server, one request and one retry, short waits.
  ntp_clock_spec spec_for(const endpoint& server) {
    ntp_clock_spec s;
    s.endpoints = {server};
    s.samples = 1;
    s.retries = 1;
    s.reply_timeout = 150ms;
    s.spacing = caf::timespan{0};
    s.refresh_interval = caf::timespan{0};
    s.local = {any_port("127.0.0.1")};
    return s;
  }

  // A clock asking a responder with `fault`; its first measurement.
  caf::expected<clock_offset> measure(ntp_fault fault, responder_config cfg = {}) {
    cfg.fault = fault;
    auto srv = start_responder(rt, cfg);
    if (!srv)
      return srv.error();
    server = srv->addr();
    spec = spec_for(server);
    auto c = spawn_ntp_clock(rt.system(), spec);
    if (!c)
      return c.error();
    clock = *c;
    return ask(refresh_atom::value);
  }

  template <class Atom>
  caf::expected<clock_offset> ask(Atom atom) {
    caf::scoped_actor self{rt.system()};
    caf::expected<clock_offset> out{make_error(errc::io_failed, "no answer")};
    self->request(clock, spec.measurement_time() + 5s, atom)
      .receive([&](clock_offset& x) { out = std::move(x); },
               [&](caf::error& e) { out = std::move(e); });
    return out;
  }

  ntp_clock_stats stats() {
    caf::scoped_actor self{rt.system()};
    ntp_clock_stats out;
    self->request(clock, 5s, stats_atom::value)
      .receive([&](ntp_clock_stats& x) { out = std::move(x); },
               [&](caf::error& e) { ADD_FAILURE() << render(e); });
    return out;
  }

  // Only `reason` was counted, `n` times.
  void expect_only(net::ntp_reject reason, uint64_t n) {
    auto st = stats();
    for (size_t i = 0; i < net::ntp_reject_count; ++i) {
      auto r = static_cast<net::ntp_reject>(i);
      EXPECT_EQ(st.rejected[i], r == reason ? n : 0u) << net::to_string(r);
    }
    EXPECT_EQ(st.samples, 0u);
    EXPECT_EQ(st.rounds_failed, 1u);
  }

  static std::string text(const caf::expected<clock_offset>& x) {
    return x ? x->to_string() : render(x.error());
  }

  void TearDown() override {
    if (clock)
      caf::anon_send_exit(clock, caf::exit_reason::user_shutdown);
  }

  runtime rt;
  ntp_clock_spec spec;
  endpoint server;
  ntp_clock_actor clock;
};

bool has(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

} // namespace

TEST_F(NtpClockBadInput, ShortPacketIsRefusedAndCounted) {
  auto x = measure(ntp_fault::short_packet);
  ASSERT_ERRC(x, errc::malformed);
  EXPECT_TRUE(has(text(x), server.to_string()
                             + ": NTP packet of 47 bytes, shorter than the 48-byte header"))
    << text(x);
  // Unreadable, so no request it answers: both wait out their time.
  EXPECT_TRUE(has(text(x), "2 of 2 requests unanswered")) << text(x);
  expect_only(net::ntp_reject::short_packet, 2);
}

TEST_F(NtpClockBadInput, KissOfDeathRateEndsTheServersPart) {
  auto x = measure(ntp_fault::kiss_rate);
  ASSERT_ERRC(x, errc::server_refused);
  EXPECT_TRUE(has(text(x), "kiss-o'-death RATE (stratum 0): rate exceeded")) << text(x);
  expect_only(net::ntp_reject::kiss_of_death, 1); // no second request
  EXPECT_EQ(stats().requests, 1u);
}

TEST_F(NtpClockBadInput, KissOfDeathDenyMeansNeverAskAgain) {
  auto x = measure(ntp_fault::kiss_deny);
  ASSERT_ERRC(x, errc::server_refused);
  EXPECT_TRUE(has(text(x), "kiss-o'-death DENY (stratum 0): access denied")) << text(x);
  EXPECT_EQ(stats().denied, 1u);
  auto again = ask(refresh_atom::value);
  ASSERT_ERRC(again, errc::invalid_argument);
  EXPECT_TRUE(has(text(again), server.to_string() + ": not asked: it refused us")) << text(again);
  EXPECT_EQ(stats().requests, 1u);
}

TEST_F(NtpClockBadInput, StratumZeroIsRefused) {
  auto x = measure(ntp_fault::stratum_zero);
  ASSERT_ERRC(x, errc::server_refused);
  EXPECT_TRUE(has(text(x), "kiss-o'-death 0x00000000 (stratum 0)")) << text(x);
  // Not a code that says stop: the retry is sent, and refused the same way.
  expect_only(net::ntp_reject::kiss_of_death, 2);
}

TEST_F(NtpClockBadInput, LeapIndicatorThreeIsRefused) {
  auto x = measure(ntp_fault::leap3);
  ASSERT_ERRC(x, errc::server_refused);
  EXPECT_TRUE(has(text(x), "not synchronised (leap indicator 3")) << text(x);
  expect_only(net::ntp_reject::unsynchronised, 1);
}

TEST_F(NtpClockBadInput, AnswerWithAnotherOriginIsRefused) {
  auto x = measure(ntp_fault::wrong_origin);
  ASSERT_ERRC(x, errc::malformed);
  EXPECT_TRUE(has(text(x), "origin matches no request outstanding")) << text(x);
  expect_only(net::ntp_reject::origin_mismatch, 2);
  EXPECT_EQ(stats().timeouts, 2u);
}

TEST_F(NtpClockBadInput, ZeroTransmitTimestampIsRefused) {
  auto x = measure(ntp_fault::zero_transmit);
  ASSERT_ERRC(x, errc::malformed);
  EXPECT_TRUE(has(text(x), "without a transmit timestamp")) << text(x);
  expect_only(net::ntp_reject::zero_timestamp, 2);
  EXPECT_EQ(stats().timeouts, 0u); // each was an answer, if a useless one
}

TEST_F(NtpClockBadInput, ReflectedRequestIsRefused) {
  auto x = measure(ntp_fault::client_mode);
  ASSERT_ERRC(x, errc::malformed);
  EXPECT_TRUE(has(text(x), "mode client (3), not server")) << text(x);
  expect_only(net::ntp_reject::bad_mode, 2);
}

TEST_F(NtpClockBadInput, AnswerFromAnotherAddressIsRefused) {
  auto other = rt.listen(udp, any_port("127.0.0.2"));
  ASSERT_OK(other);
  responder_config cfg;
  cfg.other = other->handle();
  auto x = measure(ntp_fault::other_address, cfg);
  ASSERT_ERRC(x, errc::malformed);
  EXPECT_TRUE(has(text(x), "an answer from " + other->local().to_string()
                             + ", not from the address asked"))
    << text(x);
  expect_only(net::ntp_reject::wrong_sender, 2);
  EXPECT_EQ(stats().timeouts, 2u);
}

TEST_F(NtpClockBadInput, SpoofFromAnotherAddressLosesToTheRealAnswer) {
  // The spoof comes first and carries +10 s; the server's own answer comes
  // 5 ms later and is the one measured.
  auto other = rt.listen(udp, any_port("127.0.0.2"));
  ASSERT_OK(other);
  responder_config cfg;
  cfg.hold = 5ms;
  cfg.other = other->handle();
  auto x = measure(ntp_fault::spoof_first, cfg);
  ASSERT_OK(x);
  // One sample: no least-delay filter, so the bound, not a millisecond.
  EXPECT_LE(std::llabs(x->offset_ns - 250 * ms), x->error_ns) << text(x);
  EXPECT_LT(x->error_ns, 1'000 * ms) << text(x);
  auto st = stats();
  EXPECT_EQ(st.rejected_for(net::ntp_reject::wrong_sender), 1u);
  EXPECT_EQ(st.samples, 1u);
}
