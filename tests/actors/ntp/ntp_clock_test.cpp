// The NTP clock against real chronyd and against a responder whose offset
// and path delay are known: the maths to the millisecond, several servers,
// outliers, the periodic measurement, the facade.
#include <cstdlib>

#include "net/ntp/ntp_units.hpp"
#include "support/chrony_fixture.hpp"
#include "support/expect.hpp"

#include "actors/ntp/ntp_responder.hpp"

#include "p2pd/api/blocking.hpp"

using namespace p2pd;
using namespace p2pd::test;
using p2pd::test::ntp_units::ms;

namespace {

// Tests on loopback: answers come in microseconds, so short waits and no
// spacing; the server answers every request (no RATE to fear).
ntp_clock_spec loopback_spec(std::vector<endpoint> servers) {
  ntp_clock_spec s;
  s.endpoints = std::move(servers);
  s.samples = 3;
  s.retries = 1;
  s.reply_timeout = 500ms;
  s.spacing = caf::timespan{0};
  s.refresh_interval = caf::timespan{0};
  s.local = {any_port("127.0.0.1")};
  return s;
}

class NtpClock : public ::testing::Test {
protected:
  caf::expected<clock_offset> request(const ntp_clock_actor& c, const ntp_clock_spec& spec,
                                      bool refresh = false) {
    caf::scoped_actor self{rt.system()};
    caf::expected<clock_offset> out{make_error(errc::io_failed, "no answer")};
    auto on_ok = [&](clock_offset& x) { out = std::move(x); };
    auto on_err = [&](caf::error& e) { out = std::move(e); };
    auto wait = spec.measurement_time() + 5s;
    if (refresh)
      self->request(c, wait, refresh_atom::value).receive(on_ok, on_err);
    else
      self->request(c, wait, caf::get_atom::value).receive(on_ok, on_err);
    return out;
  }

  ntp_clock_stats stats(const ntp_clock_actor& c) {
    caf::scoped_actor self{rt.system()};
    ntp_clock_stats out;
    self->request(c, 5s, stats_atom::value)
      .receive([&](ntp_clock_stats& x) { out = std::move(x); },
               [&](caf::error& e) { ADD_FAILURE() << render(e); });
    return out;
  }

  // A clock for `spec`, ended with the test.
  ntp_clock_actor spawn(ntp_clock_spec spec) {
    auto c = spawn_ntp_clock(rt.system(), std::move(spec));
    EXPECT_OK(c);
    clocks.push_back(*c);
    return *c;
  }

  void TearDown() override {
    for (auto& c : clocks)
      caf::anon_send_exit(c, caf::exit_reason::user_shutdown);
  }

  runtime rt;
  std::vector<ntp_clock_actor> clocks;
};

std::unique_ptr<chrony_server> start_chrony() {
  std::string why;
  auto s = chrony_server::start(why);
  if (!s && !not_installed(why))
    ADD_FAILURE() << why;
  return s;
}

} // namespace

TEST_F(NtpClock, AgreesWithChronyServingTheSameClock) {
  auto chrony = start_chrony();
  if (!chrony)
    GTEST_SKIP() << "chronyd is not installed (scripts/install-deps.sh)";
  auto spec = loopback_spec({chrony->endpoint()});
  auto c = spawn(spec);
  auto x = request(c, spec);
  ASSERT_OK(x) << chrony->log();
  // chronyd serves the system clock we read: the offset is the loopback's
  // asymmetry, microseconds, and within the bound.
  EXPECT_LE(std::llabs(x->offset_ns), x->error_ns) << x->to_string();
  EXPECT_LT(x->error_ns, 5 * ms) << x->to_string();
  EXPECT_GT(x->delay_ns, 0);
  EXPECT_EQ(x->servers, 1u);
  EXPECT_EQ(x->round, 1u);
  EXPECT_TRUE(x->notes.empty()) << x->notes.front();
  auto st = stats(c);
  EXPECT_EQ(st.requests, 3u);
  EXPECT_EQ(st.samples, 3u);
  EXPECT_EQ(st.rounds, 1u);
  for (size_t i = 0; i < net::ntp_reject_count; ++i)
    EXPECT_EQ(st.rejected[i], 0u) << net::to_string(static_cast<net::ntp_reject>(i));
}

TEST_F(NtpClock, MeasuresALaggingClockAgainstChronyToTheMillisecond) {
  auto chrony = start_chrony();
  if (!chrony)
    GTEST_SKIP() << "chronyd is not installed (scripts/install-deps.sh)";
  auto spec = loopback_spec({chrony->endpoint()});
  spec.stack = std::make_shared<shifted_stack>(-250 * ms); // our clock is 250 ms behind
  auto c = spawn(spec);
  auto x = request(c, spec);
  ASSERT_OK(x) << chrony->log();
  EXPECT_NEAR(x->offset_ns, 250 * ms, 1 * ms) << x->to_string();
  EXPECT_LE(std::llabs(x->offset_ns - 250 * ms), x->error_ns) << x->to_string();
}

TEST_F(NtpClock, MeasuresAKnownOffsetAndDelayToTheMillisecond) {
  auto srv = start_responder(rt, answering(250 * ms, 20ms));
  ASSERT_OK(srv);
  auto spec = loopback_spec({srv->addr()});
  auto c = spawn(spec);
  auto x = request(c, spec);
  ASSERT_OK(x);
  EXPECT_NEAR(x->offset_ns, 250 * ms, 1 * ms) << x->to_string();
  // The hold is the path: 20 ms and what the timer fires late by.
  EXPECT_GE(x->delay_ns, 20 * ms);
  EXPECT_LT(x->delay_ns, 20 * ms + 200 * ms);
  EXPECT_GE(x->error_ns, x->delay_ns / 2);
  EXPECT_EQ(x->servers, 1u);
}

TEST_F(NtpClock, MeasuresAServerBehindUs) {
  auto srv = start_responder(rt, answering(-1'500 * ms, 5ms));
  ASSERT_OK(srv);
  auto spec = loopback_spec({srv->addr()});
  auto x = request(spawn(spec), spec);
  ASSERT_OK(x);
  EXPECT_NEAR(x->offset_ns, -1'500 * ms, 1 * ms) << x->to_string();
}

TEST_F(NtpClock, AsksSeveralServersAtOnceAndDropsTheFalseticker) {
  auto a = start_responder(rt, answering(250 * ms, 2ms));
  auto b = start_responder(rt, answering(250 * ms, 2ms));
  auto c = start_responder(rt, answering(250 * ms, 2ms));
  auto liar = start_responder(rt, answering(5'250 * ms, 2ms));
  ASSERT_OK(a);
  ASSERT_OK(b);
  ASSERT_OK(c);
  ASSERT_OK(liar);
  auto spec = loopback_spec({a->addr(), b->addr(), liar->addr(), c->addr()});
  auto clock = spawn(spec);
  auto x = request(clock, spec);
  ASSERT_OK(x);
  EXPECT_NEAR(x->offset_ns, 250 * ms, 1 * ms) << x->to_string();
  EXPECT_EQ(x->servers, 3u);
  EXPECT_EQ(x->outliers, 1u);
  EXPECT_EQ(x->asked, 4u);
  ASSERT_EQ(x->notes.size(), 1u);
  EXPECT_NE(x->notes[0].find(liar->addr().to_string() + ": dropped as an outlier"),
            std::string::npos)
    << x->notes[0];
  EXPECT_EQ(stats(clock).outliers, 1u);
}

TEST_F(NtpClock, ServerThatDoesNotAnswerIsNotedAndTheOthersStillCount) {
  auto good = start_responder(rt, answering(250 * ms, 2ms));
  auto mute = start_responder(rt, answering(0, caf::timespan{0}, ntp_fault::silent));
  ASSERT_OK(good);
  ASSERT_OK(mute);
  auto spec = loopback_spec({good->addr(), mute->addr()});
  spec.reply_timeout = 100ms;
  auto c = spawn(spec);
  auto x = request(c, spec);
  ASSERT_OK(x);
  EXPECT_NEAR(x->offset_ns, 250 * ms, 1 * ms);
  EXPECT_EQ(x->servers, 1u);
  ASSERT_EQ(x->notes.size(), 1u);
  EXPECT_EQ(x->notes[0], mute->addr().to_string()
                           + ": 4 of 4 requests unanswered within 100 ms");
  // The silent one's four; on a loaded host an answer of the other may
  // come later than 100 ms too.
  EXPECT_GE(stats(c).timeouts, 4u);
}

TEST_F(NtpClock, GetAnswersTheLastEstimateAndRefreshMeasuresAgain) {
  auto srv = start_responder(rt, answering(250 * ms, 1ms));
  ASSERT_OK(srv);
  auto spec = loopback_spec({srv->addr()});
  auto c = spawn(spec);
  auto first = request(c, spec);
  ASSERT_OK(first);
  auto again = request(c, spec);
  ASSERT_OK(again);
  EXPECT_EQ(again->round, 1u);
  EXPECT_EQ(again->at_ms, first->at_ms);
  auto fresh = request(c, spec, true);
  ASSERT_OK(fresh);
  EXPECT_EQ(fresh->round, 2u);
  EXPECT_GE(fresh->at_ms, first->at_ms);
  EXPECT_EQ(stats(c).requests, 6u);
}

TEST_F(NtpClock, MeasuresAgainByItselfEveryRefreshInterval) {
  caf::scoped_actor self{rt.system()};
  auto cfg = answering(250 * ms, caf::timespan{0});
  cfg.notify = as_actor(self);
  auto srv = start_responder(rt, cfg);
  ASSERT_OK(srv);
  auto spec = loopback_spec({srv->addr()});
  spec.samples = 1;
  spec.retries = 0;
  spec.reply_timeout = 100ms;
  spec.refresh_interval = 300ms;
  spawn(spec);
  // The first request comes with the clock's start, the next ones with its
  // ticks: three requests, and nobody asked for them.
  int requests = 0;
  EXPECT_TRUE(receive_until<caf::ok_atom>(self, 5s, [&](caf::ok_atom) { return ++requests == 3; }));
}

TEST_F(NtpClock, ServersComeFromTheServerFilesNtpLines) {
  auto srv = start_responder(rt, answering(250 * ms, 1ms));
  ASSERT_OK(srv);
  auto list = net::parse_server_list("stun 127.0.0.1:3478\nntp " + srv->addr().to_string()
                                     + "\nmqtt tcp://127.0.0.1:1883\n");
  ASSERT_OK(list);
  auto spec = loopback_spec({});
  add_ntp_servers(spec, *list);
  ASSERT_EQ(spec.servers.size(), 1u);
  auto x = request(spawn(spec), spec);
  ASSERT_OK(x);
  EXPECT_NEAR(x->offset_ns, 250 * ms, 1 * ms);
  EXPECT_EQ(x->asked, 1u);
}

TEST_F(NtpClock, NameThatDoesNotResolveIsNoted) {
  auto srv = start_responder(rt, answering(250 * ms, 1ms));
  ASSERT_OK(srv);
  auto list = net::parse_server_list("ntp no-such-server.invalid:123\n");
  ASSERT_OK(list);
  auto spec = loopback_spec({srv->addr()});
  add_ntp_servers(spec, *list);
  auto x = request(spawn(spec), spec);
  ASSERT_OK(x);
  ASSERT_EQ(x->notes.size(), 1u);
  EXPECT_NE(x->notes[0].find("no-such-server.invalid"), std::string::npos) << x->notes[0];
}

TEST_F(NtpClock, WithoutServersEveryRequestFailsWithTheReason) {
  auto spec = loopback_spec({});
  auto x = request(spawn(spec), spec);
  ASSERT_ERRC(x, errc::invalid_argument);
  EXPECT_NE(render(x.error()).find("no NTP server to ask"), std::string::npos);
}

TEST_F(NtpClock, SpecThatCannotWorkIsRefusedAtOnce) {
  auto spec = loopback_spec({});
  spec.samples = 0;
  EXPECT_ERRC(spawn_ntp_clock(rt.system(), spec), errc::invalid_argument);
  spec = loopback_spec({});
  spec.local.push_back(any_port("127.0.0.2"));
  EXPECT_ERRC(spawn_ntp_clock(rt.system(), spec), errc::invalid_argument);
}

TEST_F(NtpClock, ClockThatNobodyHoldsEnds) {
  // Its ticker holds it weakly and its pipe knows it by address only; the
  // waits of its last requests hold it for at most reply_timeout.
  auto srv = start_responder(rt, answering(250 * ms, caf::timespan{0}));
  ASSERT_OK(srv);
  auto spec = loopback_spec({srv->addr()});
  spec.reply_timeout = 100ms;
  spec.refresh_interval = 1s;
  auto c = spawn_ntp_clock(rt.system(), spec);
  ASSERT_OK(c);
  ASSERT_OK(request(*c, spec));
  caf::scoped_actor self{rt.system()};
  self->monitor(*c);
  c = make_error(errc::pipe_closed, "dropped"); // the last handle
  EXPECT_TRUE(next<caf::down_msg>(self, 5s).has_value());
}

TEST_F(NtpClock, RefreshIntervalShorterThanAMeasurementIsRefused) {
  // The waits of one measurement would still hold the clock at the next
  // tick, and a clock nobody holds would measure forever.
  auto spec = loopback_spec({});
  spec.refresh_interval = 100ms; // a measurement may take 4 x 500 ms
  auto c = spawn_ntp_clock(rt.system(), spec);
  ASSERT_ERRC(c, errc::invalid_argument);
  EXPECT_NE(render(c.error()).find("refresh_interval"), std::string::npos);
}

TEST_F(NtpClock, FacadeMeasuresOnceAgainstChrony) {
  auto chrony = start_chrony();
  if (!chrony)
    GTEST_SKIP() << "chronyd is not installed (scripts/install-deps.sh)";
  auto spec = loopback_spec({chrony->endpoint()});
  spec.stack = std::make_shared<shifted_stack>(40 * ms); // we are 40 ms ahead
  auto x = measure_clock(rt.system(), spec);
  ASSERT_OK(x) << chrony->log();
  EXPECT_NEAR(x->offset_ns, -40 * ms, 1 * ms) << x->to_string();
}
