// The external-address prober actor against the project's STUN server on
// loopback (127.0.0.1, with 127.0.0.2 as a second answering address), a
// silent server and one that answers garbage: asked as an actor, the way the
// interface actor asks it, with the deadline the prober documents.
#include <memory>

#include "support/actors.hpp"
#include "support/expect.hpp"
#include "support/pipes.hpp"
#include "support/stun_server.hpp"
#include "support/test_stack.hpp"
#include "support/values.hpp"

#include "p2pd/actors/stun/external_prober.hpp"
#include "p2pd/api/blocking.hpp"
#include "p2pd/messages/inspect_net.hpp"

using namespace p2pd;
using namespace p2pd::test;

namespace {

class ExternalProber : public ::testing::Test {
protected:
  void SetUp() override {
    auto srv = start_loopback_stun_server(rt);
    ASSERT_OK(srv);
    server = *srv;
  }

  /// The server's two IPs on its primary port: two servers that agree.
  external_spec two_addresses() const {
    external_spec spec;
    spec.servers = {server.addrs.address_of({false, false}),
                    server.addrs.address_of({true, false})};
    spec.timing = loopback_stun_timing();
    return spec;
  }

  /// One request to a new prober of `r`, within its deadline.
  caf::expected<net::route> ask(const net::route& r, const external_spec& spec) {
    caf::scoped_actor self{rt.system()};
    auto prober = spawn_external_prober(rt.system(), r, spec);
    caf::expected<net::route> out{make_error(errc::io_failed, "no answer")};
    self->request(prober, external_probe_deadline(r, spec), external_probe_atom::value)
      .receive([&](net::route& x) { out = std::move(x); },
               [&](caf::error& err) { out = std::move(err); });
    return out;
  }

  /// A UDP socket on loopback that answers every datagram with `reply(data)`
  /// (nothing when it is empty).
  template <class F>
  endpoint answering(F reply) {
    auto p = rt.listen(udp, any_port("127.0.0.1"),
                       [reply](pipe_io& io, std::string_view data, const endpoint&) {
                         auto out = reply(data);
                         if (!out.empty())
                           io.reply(out);
                       });
    EXPECT_TRUE(p);
    return p ? p->local() : endpoint{};
  }

  runtime rt;
  stun_server server;
};

TEST_F(ExternalProber, ServersThatAgreeGiveTheRoutesExternalAddress) {
  auto r = ask(loopback_route(net::family::v4), two_addresses());
  ASSERT_OK(r);
  EXPECT_EQ(r->interface, "lo");
  ASSERT_EQ(r->ext_ips.size(), 1u);
  EXPECT_EQ(r->ext_ips.front().network(), ip("127.0.0.1"));
}

TEST_F(ExternalProber, AnswersEveryRequestThatCameWhileItRanThenEnds) {
  caf::scoped_actor self{rt.system()};
  auto route = loopback_route(net::family::v4);
  auto spec = two_addresses();
  auto prober = spawn_external_prober(rt.system(), route, spec);
  self->monitor(prober);
  auto deadline = external_probe_deadline(route, spec);
  auto first = self->request(prober, deadline, external_probe_atom::value);
  auto second = self->request(prober, deadline, external_probe_atom::value);
  size_t answers = 0;
  for (auto* h : {&first, &second})
    h->receive(
      [&](net::route& r) {
        ASSERT_EQ(r.ext_ips.size(), 1u);
        EXPECT_EQ(r.ext_ips.front().network(), ip("127.0.0.1"));
        ++answers;
      },
      [&](caf::error& err) { ADD_FAILURE() << render(err); });
  EXPECT_EQ(answers, 2u);
  auto down = next<caf::down_msg>(self);
  ASSERT_TRUE(down) << "the prober did not end after answering";
  EXPECT_EQ(down->source, prober.address());
}

TEST_F(ExternalProber, EverySocketIsAPipeOfItsStack) {
  // A NIC address the host does not have, bound on loopback by the stack.
  test_stack::config cfg;
  cfg.rewrite = [](pipe_spec& s) {
    if (s.local && s.local->ip == ip("10.254.0.7"))
      s.local->ip = ip("127.0.0.1");
  };
  auto stack = std::make_shared<test_stack>(std::move(cfg));
  net::route route;
  route.interface = "sim0";
  route.fam = net::family::v4;
  route.nic_ips.push_back(net::ip_range::single(ip("10.254.0.7")));
  auto spec = two_addresses();
  spec.stack = stack;
  auto r = ask(route, spec);
  ASSERT_OK(r);
  ASSERT_EQ(r->ext_ips.size(), 1u);
  EXPECT_EQ(r->ext_ips.front().network(), ip("127.0.0.1"));
  auto specs = stack->specs();
  ASSERT_EQ(specs.size(), 1u);
  ASSERT_TRUE(specs[0].local);
  EXPECT_EQ(specs[0].local->ip, ip("10.254.0.7"));
}

TEST_F(ExternalProber, ANicAddressThatCannotBeBoundIsSkippedAndTheNextAsked) {
  auto route = loopback_route(net::family::v4);
  // TEST-NET-1: no interface of this host has it, so the bind fails.
  route.nic_ips.insert(route.nic_ips.begin(), net::ip_range::single(ip("192.0.2.55")));
  auto r = ask(route, two_addresses());
  ASSERT_OK(r);
  ASSERT_EQ(r->ext_ips.size(), 1u);
  EXPECT_EQ(r->ext_ips.front().network(), ip("127.0.0.1"));
}

TEST_F(ExternalProber, SilentServersAreARecvTimeoutWithinItsDeadline) {
  auto mute = [](std::string_view) { return std::string{}; };
  external_spec spec = two_addresses();
  spec.servers = {answering(mute), answering(mute)};
  auto r = ask(loopback_route(net::family::v4), spec);
  ASSERT_FALSE(r);
  // The prober's own answer, not the request's deadline (request_timeout).
  EXPECT_ERRC(r, errc::recv_timeout);
  EXPECT_NE(what_of(r.error()).find("0 of 2 servers answered"), std::string::npos)
    << render(r.error());
  EXPECT_NE(what_of(r.error()).find("after 3 sends"), std::string::npos) << render(r.error());
}

TEST_F(ExternalProber, ServersAnsweringGarbageCountAsSilent) {
  // The request's header sent back as a success with a length beyond what
  // came: its transaction id matches, its body is missing.
  auto truncated = [](std::string_view req) {
    std::string out{req.substr(0, 20)};
    if (out.size() == 20) {
      out[0] = 0x01; // binding success
      out[1] = 0x01;
      out[2] = 0x00; // length 100, none of it sent
      out[3] = 0x64;
    }
    return out;
  };
  auto noise = [](std::string_view) { return std::string{"\xff\xfe not STUN at all"}; };
  external_spec spec = two_addresses();
  spec.servers = {answering(truncated), answering(noise)};
  auto r = ask(loopback_route(net::family::v4), spec);
  ASSERT_FALSE(r);
  EXPECT_ERRC(r, errc::recv_timeout);
  EXPECT_NE(what_of(r.error()).find("0 of 2 servers answered"), std::string::npos)
    << render(r.error());
}

TEST_F(ExternalProber, OneHonestServerAmongGarbageCannotAgreeAlone) {
  auto noise = [](std::string_view) { return std::string{"garbage"}; };
  external_spec spec = two_addresses();
  spec.servers = {server.addrs.address_of({}), answering(noise)};
  auto r = ask(loopback_route(net::family::v4), spec);
  ASSERT_FALSE(r);
  EXPECT_ERRC(r, errc::recv_timeout);
  EXPECT_NE(what_of(r.error()).find("1 of 2 servers answered"), std::string::npos)
    << render(r.error());
}

TEST_F(ExternalProber, TooFewServersOfTheRoutesFamilyAreRefusedAtOnce) {
  external_spec spec = two_addresses();
  spec.servers.push_back(ep("[::1]:3478"));
  auto r = ask(loopback_route(net::family::v6), spec);
  ASSERT_FALSE(r);
  EXPECT_ERRC(r, errc::invalid_argument);
  EXPECT_NE(what_of(r.error()).find("1 IPv6 STUN servers cannot make 2 agree"),
            std::string::npos)
    << render(r.error());
}

TEST_F(ExternalProber, NoServersToAskIsAnAnswerNotAWait) {
  // min_agree 0 lets an empty server list through the check: the prober
  // must still answer (no address), not wait for answers that never come.
  external_spec spec = two_addresses();
  spec.servers.clear();
  spec.min_agree = 0;
  auto r = ask(loopback_route(net::family::v4), spec);
  ASSERT_FALSE(r);
  EXPECT_ERRC(r, errc::recv_timeout);
  EXPECT_NE(what_of(r.error()).find("0 of 0 servers answered"), std::string::npos)
    << render(r.error());
}

} // namespace
