// probe_nat and probe_nat_any against the project's STUN server on loopback
// (127.0.0.1 with 127.0.0.2 as the alternate), silent and TCP-only servers,
// and coturn (whose second address names itself as OTHER-ADDRESS): no NAT
// there, so the verdict is open_internet, unknown or an error; NAT modes are
// checked in the lab (tests/lab/nat_classification.sh).
#include "support/coturn_fixture.hpp"
#include "support/expect.hpp"
#include "support/pipes.hpp"
#include "support/stun_server.hpp"
#include "support/test_stack.hpp"
#include "support/values.hpp"

#include <map>

#include "p2pd/api/blocking.hpp"
#include "p2pd/actors/stun/nat_probe.hpp"
#include "p2pd/actors/stun/stun_server.hpp"

using namespace p2pd;
using namespace p2pd::test;

namespace {

class NatProbe : public ::testing::Test {
protected:
  void SetUp() override {
    auto srv = start_loopback_stun_server(rt);
    ASSERT_OK(srv);
    server = *srv;
  }

  nat_probe_spec probe_spec(endpoint to) const {
    nat_probe_spec s;
    s.server = to;
    s.timing = loopback_stun_timing();
    s.delta_samples = 5;
    return s;
  }

  endpoint primary() const { return server.addrs.address_of({false, false}); }

  /// A STUN server on 127.0.0.1 only (UDP): it sends no OTHER-ADDRESS.
  caf::expected<stun_server> one_address_server() {
    stun_server_spec one;
    one.addrs.primary_ip = *net::ip_address::parse("127.0.0.1");
    one.addrs.primary_port = 0;
    one.tcp = false;
    return start_stun_server(rt, one);
  }

  /// A UDP socket on loopback that never answers.
  caf::expected<p2pd::pipe_handle> mute_udp() {
    return rt.listen(udp, any_port("127.0.0.1"), [](pipe_io&, std::string_view, const endpoint&) {});
  }

  /// A STUN server that answers over TCP only, on a port where UDP is held
  /// by a socket that never answers: to the probe, UDP looks blocked.
  std::optional<stun_server> tcp_only_server() {
    for (int i = 0; i < 20; ++i) { // the TCP port may be taken; another try
      auto mute = mute_udp();
      if (!mute)
        continue;
      stun_server_spec spec;
      spec.addrs.primary_ip = *net::ip_address::parse("127.0.0.1");
      spec.addrs.primary_port = mute->local().port;
      spec.udp = false;
      auto srv = start_stun_server(rt, spec);
      if (srv) {
        mutes.push_back(std::move(*mute));
        return std::move(*srv);
      }
    }
    return std::nullopt;
  }

  runtime rt;
  stun_server server;
  std::vector<p2pd::pipe_handle> mutes; // sockets held for tcp_only_server()
};

} // namespace

TEST_F(NatProbe, LoopbackIsOpenInternet) {
  auto spec = probe_spec(primary());
  spec.local = any_port("127.0.0.1");
  auto rep = probe_nat(rt, spec);
  ASSERT_OK(rep);
  EXPECT_EQ(rep->nat, net::nat_type::open_internet);
  EXPECT_EQ(rep->delta.type, net::delta_type::not_applicable);
  ASSERT_TRUE(rep->mapped);
  EXPECT_EQ(*rep->mapped, rep->local);
  ASSERT_TRUE(rep->alternate);
  EXPECT_EQ(*rep->alternate, server.addrs.address_of({true, true}));
  EXPECT_EQ(rep->tests.test1.reply, net::test_reply::replied);
  EXPECT_EQ(rep->tests.test2.reply, net::test_reply::replied);
  EXPECT_EQ(rep->tests.test3.reply, net::test_reply::replied);
  EXPECT_EQ(rep->tests.test1_alt.reply, net::test_reply::replied);
  EXPECT_EQ(rep->tests.local_port, rep->local.port);
  // 5 random ports, then a run of consecutive_samples (6) consecutive ones.
  const size_t first = 5;
  const size_t run = nat_probe_spec{}.consecutive_samples;
  // A run's port that another process holds is skipped, not retried.
  ASSERT_GE(rep->samples.size(), first + 2);
  ASSERT_LE(rep->samples.size(), first + run);
  for (size_t i = 0; i < rep->samples.size(); ++i) {
    const auto& s = rep->samples[i];
    EXPECT_EQ(s.order, i);
    EXPECT_EQ(s.local_port, s.mapped_port);
    EXPECT_GE(s.local_port, 20000);
    EXPECT_LE(s.local_port, 60000);
    if (i >= first + 1) { // the run: rising, within run ports of its start
      EXPECT_GT(s.local_port, rep->samples[i - 1].local_port);
      EXPECT_LT(s.local_port, rep->samples[first].local_port + run);
      continue;
    }
    for (size_t j = 0; j < i; ++j) // never equal or adjacent to an earlier one
      EXPECT_GT(std::abs(int{s.local_port} - int{rep->samples[j].local_port}), 1);
  }
  EXPECT_TRUE(rep->mapped_ports);
  EXPECT_TRUE(rep->notes.empty());
}

TEST_F(NatProbe, AnyAddressBindSeesItsInterfaceAddresses) {
  auto rep = probe_nat(rt, probe_spec(primary()));
  ASSERT_OK(rep);
  EXPECT_TRUE(rep->local.ip.is_any());
  EXPECT_EQ(rep->nat, net::nat_type::open_internet);
}

TEST_F(NatProbe, AnyAddressProbeTakesItsLocalAddressesFromItsStack) {
  test_stack::config cfg;
  cfg.table = one_nic_table("sim0", 4242, {ip("10.254.0.7")});
  auto stack = std::make_shared<test_stack>(std::move(cfg));
  auto spec = probe_spec(primary());
  spec.delta_samples = 0;
  spec.stack = stack;
  auto rep = probe_nat(rt, spec);
  ASSERT_OK(rep);
  EXPECT_TRUE(rep->local.ip.is_any());
  ASSERT_EQ(rep->tests.local_ips.size(), 1u);
  EXPECT_EQ(rep->tests.local_ips[0], ip("10.254.0.7"));
  // Mapped to 127.0.0.1, which is none of the stack's addresses: a NAT.
  EXPECT_NE(rep->nat, net::nat_type::open_internet);
  EXPECT_EQ(stack->interface_calls(), 1u);
  EXPECT_EQ(stack->pipe_calls(), 1u);
}

TEST_F(NatProbe, SamplePortsFollowTheStacksSeed) {
  // The ports each run asks its stack for, delta samples only (the probe
  // socket binds port 0).
  auto asked = [&](uint64_t seed) {
    test_stack::config cfg;
    cfg.seed = seed;
    auto stack = std::make_shared<test_stack>(std::move(cfg));
    auto spec = probe_spec(primary());
    spec.local = any_port("127.0.0.1");
    spec.stack = stack;
    EXPECT_OK(probe_nat(rt, spec));
    EXPECT_EQ(stack->seed_calls(), 1u);
    std::vector<uint16_t> ports;
    for (const auto& p : stack->specs())
      if (p.local && p.local->port != 0)
        ports.push_back(p.local->port);
    return ports;
  };
  auto a = asked(7);
  auto b = asked(7);
  ASSERT_GE(a.size(), 5u);
  ASSERT_GE(b.size(), 5u);
  // A port another process holds makes a run ask for one more, so only the
  // first, always asked, must match in any case; all of them when neither
  // run met a busy port.
  EXPECT_EQ(a.front(), b.front());
  if (a.size() == 5 && b.size() == 5) {
    EXPECT_EQ(a, b);
  }
}

TEST_F(NatProbe, SamplePortsThatNeverBindEndTheDeltaTestWithinItsRetries) {
  // Every sample socket is moved to an address no host has (TEST-NET-1), so
  // each bind fails: the test must give up after bind_retries + 1 tries per
  // random sample (one per run port), not retry for ever.
  test_stack::config cfg;
  cfg.rewrite = [](pipe_spec& p) {
    if (p.local && p.local->port != 0)
      p.local->ip = ip("192.0.2.1");
  };
  auto stack = std::make_shared<test_stack>(std::move(cfg));
  auto spec = probe_spec(primary());
  spec.local = any_port("127.0.0.1");
  spec.delta_samples = 2;
  spec.consecutive_samples = 3;
  spec.bind_retries = 4;
  spec.stack = stack;
  auto rep = probe_nat(rt, spec);
  ASSERT_OK(rep);
  EXPECT_TRUE(rep->samples.empty());
  size_t tries = 0;
  for (const auto& p : stack->specs())
    if (p.local && p.local->port != 0)
      ++tries;
  EXPECT_EQ(tries, spec.delta_samples * (spec.bind_retries + 1) + spec.consecutive_samples);
  ASSERT_FALSE(rep->notes.empty());
  EXPECT_NE(rep->notes.front().find("no free port"), std::string::npos) << rep->notes.front();
}

TEST_F(NatProbe, SilentServerIsAnErrorNamedServerUnreachable) {
  // Nothing answers over UDP or TCP: that says nothing about our network, so
  // it is an error, not "blocked".
  auto mute = mute_udp();
  ASSERT_OK(mute);
  auto spec = probe_spec(mute->local());
  spec.local = any_port("127.0.0.1");
  auto rep = probe_nat(rt, spec);
  ASSERT_FALSE(rep) << net::to_string(rep->nat);
  EXPECT_ERRC(rep, errc::recv_timeout);
  EXPECT_NE(render(rep.error()).find("server unreachable"), std::string::npos)
    << render(rep.error());
  EXPECT_NE(render(rep.error()).find(mute->local().to_string()), std::string::npos)
    << render(rep.error());
}

TEST_F(NatProbe, ServerAnsweringOnlyOverTcpMeansUdpIsBlocked) {
  auto tcp_only = tcp_only_server();
  ASSERT_TRUE(tcp_only);
  auto spec = probe_spec(tcp_only->addrs.address_of({}));
  spec.local = any_port("127.0.0.1");
  auto rep = probe_nat(rt, spec);
  ASSERT_OK(rep);
  EXPECT_EQ(rep->nat, net::nat_type::blocked);
  EXPECT_EQ(rep->tests.test1.reply, net::test_reply::no_reply);
  EXPECT_EQ(rep->tests.test2.reply, net::test_reply::not_run);
  EXPECT_FALSE(rep->mapped);
  EXPECT_TRUE(rep->samples.empty());
  EXPECT_EQ(rep->delta.type, net::delta_type::not_applicable); // nothing is allocated
  ASSERT_EQ(rep->notes.size(), 1u);
  EXPECT_NE(rep->notes[0].find("TCP"), std::string::npos) << rep->notes[0];
}

TEST_F(NatProbe, BadArguments) {
  auto spec = probe_spec(endpoint{*net::ip_address::parse("127.0.0.1"), 0});
  auto rep = probe_nat(rt, spec);
  ASSERT_FALSE(rep);
  EXPECT_ERRC(rep, errc::invalid_argument);
  spec = probe_spec(primary());
  spec.local = any_port("::1");
  rep = probe_nat(rt, spec);
  ASSERT_FALSE(rep);
  EXPECT_ERRC(rep, errc::invalid_argument);
}

TEST_F(NatProbe, ServerWithoutOtherAddressLeavesTheTypeUnknown) {
  // One address only: it cannot answer change requests, so their silence
  // would prove nothing; the probe does not send them.
  auto srv = one_address_server();
  ASSERT_OK(srv);
  auto spec = probe_spec(srv->addrs.address_of({}));
  spec.local = any_port("127.0.0.1");
  auto rep = probe_nat(rt, spec);
  ASSERT_OK(rep);
  EXPECT_EQ(rep->nat, net::nat_type::unknown);
  EXPECT_EQ(rep->tests.test1.reply, net::test_reply::replied);
  EXPECT_EQ(rep->tests.test2.reply, net::test_reply::not_run);
  EXPECT_EQ(rep->tests.test1_alt.reply, net::test_reply::not_run);
  ASSERT_FALSE(rep->notes.empty());
  EXPECT_NE(rep->notes[0].find("OTHER-ADDRESS"), std::string::npos) << rep->notes[0];
}

TEST_F(NatProbe, ServerWhoseOtherAddressSharesItsIpLeavesTheTypeUnknownAndSaysWhy) {
  // coturn asked on its second address names that same address (another
  // port) as OTHER-ADDRESS: it cannot answer from another IP, so test II
  // cannot tell whether a firewall filters by address.
  std::string why;
  auto turn = coturn_server::start(why);
  if (!turn && not_installed(why))
    GTEST_SKIP() << why;
  ASSERT_TRUE(turn) << why;
  auto spec = probe_spec(turn->other_ip());
  spec.local = any_port("127.0.0.1");
  auto rep = probe_nat(rt, spec);
  ASSERT_OK(rep);
  ASSERT_TRUE(rep->alternate);
  ASSERT_EQ(rep->alternate->ip, turn->other_ip().ip) << "coturn changed its OTHER-ADDRESS";
  EXPECT_EQ(rep->nat, net::nat_type::unknown) << turn->log();
  EXPECT_EQ(rep->tests.test1.reply, net::test_reply::replied);
  EXPECT_EQ(rep->tests.test2.reply, net::test_reply::not_run);
  bool said = false;
  for (const auto& n : rep->notes)
    said = said || (n.find("test II") != std::string::npos && n.find("IP") != std::string::npos);
  EXPECT_TRUE(said) << "no note says why test II did not run";
}

TEST_F(NatProbe, MappingTestGoesToTheAlternateIpOnThePrimaryPort) {
  // RFC 5780 section 4.3. Test II's unanswered reply came from the alternate
  // IP *and* port; a NAT that keeps state for it (a router whose own input
  // is open) would give I' another mapping there, a false "symmetric".
  caf::scoped_actor self{rt.system()};
  std::map<caf::actor_addr, endpoint> where;
  for (const auto& p : server.pipes) {
    if (p.proto != net::protocol::udp)
      continue;
    where[p.pipe.address()] = p.local;
    bool ok = false;
    self->request(p.pipe, caf::infinite, caf::subscribe_atom::value, as_actor(self), events::msgs)
      .receive([&](caf::ok_atom) { ok = true; }, [](caf::error&) {});
    ASSERT_TRUE(ok);
  }
  auto spec = probe_spec(primary());
  spec.local = any_port("127.0.0.1");
  spec.delta_samples = 0;
  auto rep = probe_nat(rt, spec);
  ASSERT_OK(rep);
  EXPECT_EQ(rep->nat, net::nat_type::open_internet);
  std::map<endpoint, int> requests; // per server socket, from the probe's socket
  const auto alt_ip = server.addrs.address_of({true, false});
  const auto alt_both = server.addrs.address_of({true, true});
  auto count = [&](const pipe_msg& m) {
    if (m.from != rep->local)
      return false;
    auto at = where[m.pipe.address()];
    ++requests[at];
    return at == alt_ip || at == alt_both; // I', the last test
  };
  // Every request was answered, so its pipe has told us of it: up to I',
  // then whatever else is queued.
  receive_until<pipe_msg>(self, 5s, count);
  while (auto m = next<pipe_msg>(self, 50ms))
    count(*m);
  EXPECT_GE(requests[alt_ip], 1);
  EXPECT_EQ(requests[alt_both], 0);
}

// --- probe_nat_any: several servers ----------------------------------------------

TEST_F(NatProbe, AnyServerSkipsOneThatIsDownAndSaysSo) {
  auto mute = mute_udp();
  ASSERT_OK(mute);
  auto spec = probe_spec(primary());
  spec.local = any_port("127.0.0.1");
  auto rep = probe_nat_any(rt.system(), {mute->local(), primary()}, spec);
  ASSERT_OK(rep);
  EXPECT_EQ(rep->nat, net::nat_type::open_internet);
  EXPECT_EQ(rep->server, primary());
  ASSERT_FALSE(rep->notes.empty());
  EXPECT_EQ(rep->notes[0].rfind(mute->local().to_string() + ": ", 0), 0u) << rep->notes[0];
  EXPECT_NE(rep->notes[0].find("server unreachable"), std::string::npos) << rep->notes[0];
}

TEST_F(NatProbe, AnyServerTriesTheNextWhenOneCannotTell) {
  auto srv = one_address_server(); // no change requests: type unknown
  ASSERT_OK(srv);
  auto spec = probe_spec(primary());
  spec.local = any_port("127.0.0.1");
  spec.delta_samples = 0;
  auto rep = probe_nat_any(rt.system(), {srv->addrs.address_of({}), primary()}, spec);
  ASSERT_OK(rep);
  EXPECT_EQ(rep->nat, net::nat_type::open_internet);
  EXPECT_EQ(rep->server, primary());
  ASSERT_FALSE(rep->notes.empty()); // why the first could not tell
  EXPECT_EQ(rep->notes[0].rfind(srv->addrs.address_of({}).to_string() + ": ", 0), 0u)
    << rep->notes[0];
}

TEST_F(NatProbe, AnyServerKeepsTheFirstReportWhenNoneCanTell) {
  auto srv = one_address_server();
  ASSERT_OK(srv);
  auto mute = mute_udp();
  ASSERT_OK(mute);
  auto spec = probe_spec(primary());
  spec.local = any_port("127.0.0.1");
  spec.delta_samples = 0;
  auto rep = probe_nat_any(rt.system(), {srv->addrs.address_of({}), mute->local()}, spec);
  ASSERT_OK(rep);
  EXPECT_EQ(rep->nat, net::nat_type::unknown);
  EXPECT_EQ(rep->server, srv->addrs.address_of({}));
  ASSERT_EQ(rep->notes.size(), 2u) << ::testing::PrintToString(rep->notes);
  EXPECT_NE(rep->notes[0].find("OTHER-ADDRESS"), std::string::npos) << rep->notes[0];
  EXPECT_EQ(rep->notes[1].rfind(mute->local().to_string() + ": ", 0), 0u) << rep->notes[1];
}

TEST_F(NatProbe, AnyServerWithNoAnswerAtAllIsServerUnreachable) {
  auto mute1 = mute_udp();
  auto mute2 = mute_udp();
  ASSERT_OK(mute1);
  ASSERT_OK(mute2);
  auto spec = probe_spec(primary());
  spec.local = any_port("127.0.0.1");
  auto rep = probe_nat_any(rt.system(), {mute1->local(), mute2->local()}, spec);
  ASSERT_FALSE(rep) << net::to_string(rep->nat);
  EXPECT_ERRC(rep, errc::recv_timeout);
  auto text = render(rep.error());
  EXPECT_NE(text.find("server unreachable"), std::string::npos) << text;
  EXPECT_NE(text.find(mute1->local().to_string()), std::string::npos) << text;
  EXPECT_NE(text.find(mute2->local().to_string()), std::string::npos) << text;
}

TEST_F(NatProbe, AnyServerNeedsAServer) {
  auto rep = probe_nat_any(rt.system(), {}, probe_spec(primary()));
  ASSERT_FALSE(rep);
  EXPECT_ERRC(rep, errc::invalid_argument);
}
