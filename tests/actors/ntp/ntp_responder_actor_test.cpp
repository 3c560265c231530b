// The NTP responder actor (actors/ntp/ntp_responder) on loopback: the
// project's NTP clock measures its configured skew; bad input and a flood
// are dropped and counted.
#include <gtest/gtest.h>

#include "actors/ntp/quick_clock.hpp"
#include "net/ntp/ntp_units.hpp"
#include "support/actors.hpp"
#include "support/opener.hpp"
#include "support/expect.hpp"
#include "support/sockets.hpp"
#include "support/values.hpp"

#include "p2pd/actors/ntp/ntp_clock.hpp"
#include "p2pd/actors/ntp/ntp_responder.hpp"
#include "p2pd/api/runtime.hpp"
#include "p2pd/net/ntp/ntp_packet.hpp"

using namespace p2pd;
using namespace p2pd::test;
using p2pd::test::ntp_units::ms;

namespace {

class NtpResponder : public ::testing::Test {
protected:
  // Spawns and opens a responder owned by the test's scoped actor.
  endpoint start(ntp_responder_spec spec) {
    auto r = spawn_ntp_responder(rt.system(), std::move(spec));
    EXPECT_OK(r);
    if (!r)
      return {};
    responder = *r;
    endpoint out;
    self->request(responder, 5s, caf::open_atom::value)
      .receive([&](pipe_info& i) { out = i.local; },
               [&](caf::error& e) { ADD_FAILURE() << render(e); });
    return out;
  }

  ntp_responder_stats stats() {
    ntp_responder_stats out;
    self->request(responder, 5s, stats_atom::value)
      .receive([&](ntp_responder_stats& x) { out = x; },
               [&](caf::error& e) { ADD_FAILURE() << render(e); });
    return out;
  }

  // The stats once `done` holds of them: asked every 20 ms, at most 100
  // times (the datagrams reach the actor on another path than the request).
  template <class F>
  ntp_responder_stats stats_when(F done) {
    auto s = stats();
    for (int i = 0; i < 100 && !done(s); ++i) {
      self->receive(caf::after(std::chrono::milliseconds{20}) >> [] {});
      s = stats();
    }
    return s;
  }

  static std::string request_bytes(net::ntp_timestamp nonce) {
    auto w = net::encode_ntp(net::ntp_request(nonce));
    return std::string(w.begin(), w.end());
  }

  runtime rt;
  caf::scoped_actor self{rt.system()};
  ntp_responder_actor responder;
};

TEST_F(NtpResponder, TheNtpClockMeasuresTheConfiguredSkew) {
  ntp_responder_spec spec;
  spec.skew_ns = 250 * ms;
  auto addr = start(spec);
  ASSERT_NE(addr.port, 0);
  auto got = measure_once(rt.system(), quick_clock_spec({addr}, any_port("127.0.0.1")));
  ASSERT_OK(got);
  // Loopback and one actor hop each way: the skew within 5 ms.
  EXPECT_NEAR(got->offset_ns, 250 * ms, 5 * ms) << got->to_string();
  EXPECT_EQ(got->servers, 1u);
  EXPECT_GE(stats().answered, 3u);
}

TEST_F(NtpResponder, AnswersAClientRequestInServerModeEchoingItsTransmit) {
  ntp_responder_spec spec;
  spec.stratum = 3;
  auto addr = start(spec);
  auto fd = raw_udp(any_port("127.0.0.1"));
  auto nonce = net::ntp_timestamp::random();
  ASSERT_TRUE(raw_send_to(fd.get(), addr, request_bytes(nonce)));
  auto d = raw_recv_from(fd.get(), std::chrono::milliseconds{2000});
  ASSERT_TRUE(d);
  EXPECT_EQ(d->from, addr);
  net::ntp_reject why{};
  auto reply = net::decode_ntp_reply(reinterpret_cast<const uint8_t*>(d->data.data()),
                                     d->data.size(), nonce, &why);
  ASSERT_OK(reply) << net::to_string(why);
  EXPECT_EQ(reply->mode, net::ntp_mode::server);
  EXPECT_EQ(reply->version, net::ntp_version);
  EXPECT_EQ(reply->stratum, 3);
  EXPECT_EQ(reply->origin, nonce);
  EXPECT_EQ(stats().answered, 1u);
}

TEST_F(NtpResponder, DropsShortPacketsAndNonClientModesAndCountsThem) {
  auto addr = start({});
  auto fd = raw_udp(any_port("127.0.0.1"));
  auto good = request_bytes(net::ntp_timestamp::random());
  auto server_mode = good;
  server_mode[0] = static_cast<char>((4 << 3) | 4);    // version 4, mode 4
  auto symmetric = good;
  symmetric[0] = static_cast<char>((4 << 3) | 1);      // mode 1
  auto bad_version = good;
  bad_version[0] = static_cast<char>((7 << 3) | 3);    // version 7
  ASSERT_TRUE(raw_send_to(fd.get(), addr, good.substr(0, 47)));
  ASSERT_TRUE(raw_send_to(fd.get(), addr, std::string(1, '\x23')));
  ASSERT_TRUE(raw_send_to(fd.get(), addr, bad_version));
  ASSERT_TRUE(raw_send_to(fd.get(), addr, server_mode));
  ASSERT_TRUE(raw_send_to(fd.get(), addr, symmetric));
  // A good one last: its answer comes after the five were handled (one
  // socket, one pipe, one mailbox, in order), and is the only answer.
  ASSERT_TRUE(raw_send_to(fd.get(), addr, good));
  auto d = raw_recv_from(fd.get(), std::chrono::milliseconds{2000});
  ASSERT_TRUE(d);
  EXPECT_EQ(d->data.size(), net::ntp_header_size);
  EXPECT_FALSE(raw_recv_from(fd.get(), std::chrono::milliseconds{50}));
  auto s = stats();
  EXPECT_EQ(s.dropped_malformed, 3u);
  EXPECT_EQ(s.dropped_mode, 2u);
  EXPECT_EQ(s.answered, 1u);
}

TEST_F(NtpResponder, AFloodIsAnsweredAtTheConfiguredRateAndTheRestCounted) {
  ntp_responder_spec spec;
  spec.max_answers_per_s = 20;
  auto addr = start(spec);
  auto fd = raw_udp(any_port("127.0.0.1"));
  // In batches that fit the socket's receive buffer, each accounted for
  // before the next: what the kernel would drop we could not count.
  constexpr uint64_t batch = 50;
  constexpr uint64_t batches = 10;
  auto t0 = std::chrono::steady_clock::now();
  ntp_responder_stats s;
  for (uint64_t b = 1; b <= batches; ++b) {
    for (uint64_t i = 0; i < batch; ++i)
      raw_send_to(fd.get(), addr, request_bytes(net::ntp_timestamp::random()));
    s = stats_when([&](const ntp_responder_stats& x) {
      return x.answered + x.dropped_rate + x.dropped_flood == b * batch;
    });
    ASSERT_EQ(s.answered + s.dropped_rate + s.dropped_flood, b * batch);
  }
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // A burst of one second's worth, then 20 a second for as long as it ran.
  EXPECT_GE(s.answered, 20u);
  EXPECT_LE(static_cast<double>(s.answered), 20 + 20 * secs + 1) << secs << " s";
  EXPECT_GE(s.dropped_rate, batch * batches - s.answered);
}

TEST_F(NtpResponder, EndsWithTheActorThatOpenedIt) {
  auto r = spawn_ntp_responder(rt.system(), {});
  ASSERT_OK(r);
  EXPECT_TRUE(ends_with_its_opener(rt.system(), *r));
}

} // namespace
