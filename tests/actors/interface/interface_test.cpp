// The interface actor: a NIC's addresses, routes, external addresses and NAT,
// on loopback, against the project's own STUN server and against coturn.
#include <algorithm>
#include <atomic>
#include <memory>

#include "support/coturn_fixture.hpp"
#include "support/executors.hpp"
#include "support/expect.hpp"
#include "support/fake_dns.hpp"
#include "support/netns.hpp"
#include "support/pipes.hpp"
#include "support/stun_server.hpp"
#include "support/values.hpp"

#include "p2pd/api/blocking.hpp"
#include "p2pd/api/system_config.hpp"
#include "p2pd/actors/interface/interface_actor.hpp"
#include "p2pd/actors/stun/stun_server.hpp"

using namespace p2pd;
using namespace p2pd::test;

namespace {

const auto v4 = net::family::v4;

// The project's STUN server on 127.0.0.1 and 127.0.0.2, two ports each.
stun_server own_server(runtime& rt) {
  auto srv = start_loopback_stun_server(rt);
  EXPECT_OK(srv);
  return srv ? *srv : stun_server{};
}

interface_spec loopback_spec(const endpoint& primary, const endpoint& other_ip) {
  interface_spec spec;
  spec.name = "lo";
  spec.stun_servers = {primary, other_ip};
  spec.nat_servers = {primary};
  spec.refresh_interval = {};
  return spec;
}

} // namespace

TEST(Interface, OfflineStartHasRoutesAndNatUnknown) {
  runtime rt;
  interface_spec spec;
  spec.name = "lo";
  auto li = load_interface(rt.system(), spec);
  ASSERT_OK(li);
  auto& s = li->state;
  EXPECT_EQ(s.name, "lo");
  EXPECT_EQ(s.refreshes, 1u);
  auto* r = s.route(v4);
  ASSERT_NE(r, nullptr);
  EXPECT_TRUE(r->has_nic_ip(ip("127.0.0.1")));
  EXPECT_TRUE(r->ext_ips.empty());
  EXPECT_EQ(s.nat(v4).nat, net::nat_type::unknown);
  EXPECT_EQ(s.notes.size(), 2u) << s.to_string(); // no STUN and no NAT servers
}

TEST(Interface, UnknownInterfaceIsAnError) {
  runtime rt;
  interface_spec spec;
  spec.name = "nosuchnic0";
  auto li = load_interface(rt.system(), spec);
  ASSERT_FALSE(li);
  EXPECT_ERRC(li, errc::interface_not_found);
  EXPECT_NE(render(li.error()).find("nosuchnic0"), std::string::npos);
}

TEST(Interface, SpawnedForAMissingNicQuitsWithTheReason) {
  runtime rt;
  interface_spec spec;
  spec.name = "nosuchnic0";
  caf::scoped_actor self{rt.system()};
  auto hdl = spawn_interface(rt.system(), spec);
  self->monitor(hdl);
  auto down = next<caf::down_msg>(self);
  ASSERT_TRUE(down);
  EXPECT_ERRC(down->reason, errc::interface_not_found);
}

TEST(Interface, OwnServerOnLoopbackGivesExternalAddressAndOpenNat) {
  runtime rt;
  auto srv = own_server(rt);
  auto li = load_interface(rt.system(), loopback_spec(srv.addrs.address_of({}),
                                                      srv.addrs.address_of({true, false})));
  ASSERT_OK(li);
  auto& s = li->state;
  auto* r = s.route(v4);
  ASSERT_NE(r, nullptr);
  ASSERT_EQ(r->ext_ips.size(), 1u) << s.to_string();
  EXPECT_EQ(r->ext_ips[0].network(), ip("127.0.0.1"));
  auto n = s.nat(v4);
  EXPECT_EQ(n.nat, net::nat_type::open_internet) << s.to_string();
  EXPECT_EQ(n.delta, net::delta_type::not_applicable) << s.to_string();
  EXPECT_EQ(n.server, srv.addrs.address_of({}));
}

TEST(Interface, ARefreshOfServerAddressesRunsNoBlockingJob) {
  // The STUN probes are actors: with servers given as addresses (no name to
  // resolve) a refresh hands no job to the system's blocking executor.
  runtime rt; // the STUN server's system
  auto srv = own_server(rt);
  std::atomic<int> jobs{0};
  config cfg;
  cfg.executor = counting_inline_executor(jobs);
  caf::actor_system sys{cfg};
  auto li = load_interface(sys, loopback_spec(srv.addrs.address_of({}),
                                              srv.addrs.address_of({true, false})));
  ASSERT_OK(li);
  auto& s = li->state;
  auto* r = s.route(v4);
  ASSERT_NE(r, nullptr);
  ASSERT_EQ(r->ext_ips.size(), 1u) << s.to_string();
  EXPECT_EQ(s.nat(v4).nat, net::nat_type::open_internet) << s.to_string();
  EXPECT_EQ(jobs.load(), 0);
}

TEST(Interface, ServersOfAServerFileAreResolvedByTheActor) {
  runtime rt;
  auto srv = own_server(rt);
  auto primary = srv.addrs.address_of({});
  auto port = std::to_string(primary.port);
  auto list = net::parse_server_list("stun 127.0.0.1:" + port + "\nstun 127.0.0.2:" + port
                                     + "\nnat localhost:" + port + "\nstun nowhere.invalid:1\n");
  ASSERT_TRUE(list) << list.error().what;
  interface_spec spec;
  spec.name = "lo";
  spec.refresh_interval = {};
  add_servers(spec, *list);
  auto li = load_interface(rt.system(), spec);
  ASSERT_OK(li);
  auto& s = li->state;
  auto* r = s.route(v4);
  ASSERT_NE(r, nullptr);
  ASSERT_EQ(r->ext_ips.size(), 1u) << s.to_string();
  EXPECT_EQ(s.nat(v4).nat, net::nat_type::open_internet) << s.to_string();
  ASSERT_EQ(s.unresolved.size(), 1u) << s.to_string();
  EXPECT_NE(s.unresolved[0].find("line 4: stun nowhere.invalid:1"), std::string::npos)
    << s.unresolved[0];
}

// A resolver that never answers: the start takes about dns_timeout (not one
// timeout per name, not 60 s), names every server that did not resolve and
// why, and does not claim that no servers were configured.
TEST(Interface, SilentResolverCostsOneDnsTimeoutAndIsReported) {
  P2PD_SKIP_UNLESS_NETNS();
  auto out = run_in_new_netns([]() -> std::string {
    if (auto err = sh("ip link set lo up"); !err.empty())
      return err;
    if (auto err = use_resolv_conf("nameserver 127.0.0.1\noptions timeout:5 attempts:2\n");
        !err.empty())
      return err;
    fake_dns dns{{"gone.example"}};
    if (!dns.error().empty())
      return dns.error();
    auto list = net::parse_server_list("stun silent-a.example:3478\n"
                                       "stun silent-b.example:3478\n"
                                       "stun gone.example:3478\n"
                                       "nat silent-c.example:3478\n");
    if (!list)
      return list.error().what;
    child_checks checks;
    interface_spec spec;
    spec.name = "lo";
    spec.refresh_interval = {};
    spec.dns_timeout = std::chrono::milliseconds(500);
    add_servers(spec, *list);
    runtime rt;
    auto t0 = std::chrono::steady_clock::now();
    auto li = load_interface(rt.system(), spec);
    auto took = std::chrono::steady_clock::now() - t0;
    if (!li)
      return "load_interface: " + render(li.error());
    auto& s = li->state;
    NETNS_EXPECT(checks, took >= std::chrono::milliseconds(450));
    NETNS_EXPECT(checks, took < std::chrono::milliseconds(2000));
    NETNS_EXPECT(checks, s.resolve_ms >= 450 && s.resolve_ms < 2000);
    NETNS_EXPECT_EQ(checks, s.unresolved.size(), size_t{4});
    auto text = s.to_string();
    NETNS_EXPECT(checks, text.find("no answer within 500 ms") != std::string::npos);
    NETNS_EXPECT(checks, text.find("NXDOMAIN") != std::string::npos);
    NETNS_EXPECT(checks, text.find("none of the 3 stun servers configured could be resolved")
                           != std::string::npos);
    NETNS_EXPECT(checks, text.find("none of the 1 nat servers configured could be resolved")
                           != std::string::npos);
    NETNS_EXPECT(checks, text.find("servers configured:") == std::string::npos);
    if (!checks.failures().empty())
      return checks.failures() + "\n" + text;
    return "";
  });
  EXPECT_TRUE(out.ok) << out.report;
}

TEST(Interface, CoturnOnLoopbackGivesExternalAddressAndOpenNat) {
  std::string why;
  auto turn = coturn_server::start(why);
  if (!turn && not_installed(why))
    GTEST_SKIP() << why;
  ASSERT_TRUE(turn) << why;
  runtime rt;
  auto li = load_interface(rt.system(), loopback_spec(turn->primary(), turn->other_ip()));
  ASSERT_OK(li);
  auto& s = li->state;
  auto* r = s.route(v4);
  ASSERT_NE(r, nullptr);
  ASSERT_EQ(r->ext_ips.size(), 1u) << s.to_string();
  EXPECT_EQ(r->ext_ips[0].network(), ip("127.0.0.1"));
  EXPECT_EQ(s.nat(v4).nat, net::nat_type::open_internet) << s.to_string() << turn->log();
  EXPECT_EQ(s.nat(v4).delta, net::delta_type::not_applicable) << s.to_string();
}

TEST(Interface, SilentServersLeaveNatUnknownAndSayWhy) {
  runtime rt;
  auto silent = rt.listen(udp, any_port("127.0.0.1"), [](pipe_io&, std::string_view,
                                                         const endpoint&) {});
  ASSERT_OK(silent);
  auto li = load_interface(rt.system(), loopback_spec(silent->local(), silent->local()));
  ASSERT_OK(li);
  auto& s = li->state;
  EXPECT_TRUE(s.route(v4)->ext_ips.empty());
  // No answer at all proves nothing about the network (the servers may be
  // down): unknown, not blocked.
  EXPECT_EQ(s.nat(v4).nat, net::nat_type::unknown) << s.to_string();
  EXPECT_NE(s.to_string().find("server unreachable"), std::string::npos) << s.to_string();
  ASSERT_FALSE(s.notes.empty());
  EXPECT_NE(s.to_string().find("external address"), std::string::npos) << s.to_string();
}

TEST(Interface, RefreshOnRequestCountsAndRouteQueryAnswers) {
  runtime rt;
  auto srv = own_server(rt);
  auto hdl = spawn_interface(rt.system(), loopback_spec(srv.addrs.address_of({}),
                                                        srv.addrs.address_of({true, false})));
  caf::scoped_actor self{rt.system()};
  uint64_t first = 0;
  self->request(hdl, caf::infinite, refresh_atom::value)
    .receive([&](interface_snapshot& s) { first = s.refreshes; },
             [&](caf::error& e) { FAIL() << render(e); });
  self->request(hdl, caf::infinite, refresh_atom::value)
    .receive([&](interface_snapshot& s) { EXPECT_EQ(s.refreshes, first + 1); },
             [&](caf::error& e) { FAIL() << render(e); });
  self->request(hdl, caf::infinite, route_atom::value, v4)
    .receive([&](net::route& r) { EXPECT_EQ(r.ext(), ip("127.0.0.1")); },
             [&](caf::error& e) { FAIL() << render(e); });
}

TEST(Interface, PeriodicRefreshesReachSubscribers) {
  runtime rt;
  interface_spec spec;
  spec.name = "lo";
  spec.refresh_interval = std::chrono::milliseconds(20);
  auto hdl = spawn_interface(rt.system(), spec);
  caf::scoped_actor self{rt.system()};
  self->request(hdl, caf::infinite, caf::subscribe_atom::value, as_actor(self))
    .receive([](caf::ok_atom) {}, [](caf::error& e) { FAIL() << render(e); });
  uint64_t last = 0;
  for (int i = 0; i < 3; ++i) {
    auto s = next<interface_snapshot>(self);
    ASSERT_TRUE(s) << "no periodic refresh";
    EXPECT_GT(s->refreshes, last);
    last = s->refreshes;
  }
}

TEST(Interface, ActorEndsWhenItsLastHandleGoesDespiteItsTimer) {
  runtime rt;
  caf::scoped_actor self{rt.system()};
  {
    interface_spec spec;
    spec.name = "lo";
    spec.refresh_interval = std::chrono::hours(1);
    auto hdl = spawn_interface(rt.system(), spec);
    self->monitor(hdl);
  }
  auto down = next<caf::down_msg>(self);
  EXPECT_TRUE(down) << "the interface actor outlived its last handle";
}

namespace {

nat_summary given_v4_nat() {
  nat_summary n;
  n.fam = v4;
  n.nat = net::nat_type::port_restricted;
  n.delta = net::delta_type::equal;
  return n;
}

} // namespace

TEST(Interface, AGivenNatIsReportedAndNeverProbed) {
  runtime rt;
  // A "NAT server" that counts what reaches it: a probe would send to it.
  auto probes = std::make_shared<std::atomic<int>>(0);
  auto counter = rt.listen(udp, any_port("127.0.0.1"),
                           [probes](pipe_io&, std::string_view, const endpoint&) { ++*probes; });
  ASSERT_OK(counter);
  auto srv = own_server(rt);
  auto spec = loopback_spec(srv.addrs.address_of({}), srv.addrs.address_of({true, false}));
  spec.nat_servers = {counter->local()};
  spec.nats = {given_v4_nat()};
  auto li = load_interface(rt.system(), spec);
  ASSERT_OK(li);
  auto n = li->state.nat(v4);
  EXPECT_EQ(n.nat, net::nat_type::port_restricted);
  EXPECT_EQ(n.delta, net::delta_type::equal);
  ASSERT_FALSE(n.notes.empty());
  EXPECT_EQ(n.notes.back(), "given, not probed");
  EXPECT_EQ(li->state.route(v4)->ext(), ip("127.0.0.1")) << "external addresses are still asked";
  EXPECT_EQ(probes->load(), 0);
}

TEST(Interface, AGivenNatNeedsNoNatServers) {
  runtime rt;
  interface_spec spec;
  spec.name = "lo";
  spec.refresh_interval = {};
  spec.nats = {given_v4_nat()};
  auto li = load_interface(rt.system(), spec);
  ASSERT_OK(li);
  EXPECT_EQ(li->state.nat(v4).nat, net::nat_type::port_restricted);
  for (auto& note : li->state.notes) { // lo may have IPv6 too, whose NAT is unknown
    if (note.find("NAT type unknown") != std::string::npos) {
      EXPECT_NE(li->state.route(net::family::v6), nullptr) << note;
    }
  }
}

TEST(Interface, ANatSetOnARunningActorReachesSubscribersAndOutlivesRefreshes) {
  runtime rt;
  interface_spec spec;
  spec.name = "lo";
  spec.refresh_interval = {};
  auto li = load_interface(rt.system(), spec);
  ASSERT_OK(li);
  EXPECT_EQ(li->state.nat(v4).nat, net::nat_type::unknown);
  caf::scoped_actor self{rt.system()};
  self->request(li->hdl, caf::infinite, caf::subscribe_atom::value, as_actor(self))
    .receive([](caf::ok_atom) {}, [](caf::error& e) { FAIL() << render(e); });
  self->request(li->hdl, caf::infinite, nat_atom::value, given_v4_nat())
    .receive([](caf::ok_atom) {}, [](caf::error& e) { FAIL() << render(e); });
  auto pushed = next<interface_snapshot>(self);
  ASSERT_TRUE(pushed);
  EXPECT_EQ(pushed->nat(v4).nat, net::nat_type::port_restricted);
  self->request(li->hdl, caf::infinite, refresh_atom::value)
    .receive([](interface_snapshot& s) { EXPECT_EQ(s.nat(v4).nat, net::nat_type::port_restricted); },
             [](caf::error& e) { FAIL() << render(e); });
}

TEST(Interface, TwoNatsGivenForOneFamilyAreRefused) {
  // Which of the two would count is left to their order: the caller meant one.
  runtime rt;
  interface_spec spec;
  spec.name = "lo";
  spec.refresh_interval = {};
  auto other = given_v4_nat();
  other.nat = net::nat_type::symmetric;
  spec.nats = {given_v4_nat(), other};
  auto li = load_interface(rt.system(), spec);
  ASSERT_FALSE(li);
  EXPECT_ERRC(li, errc::invalid_argument);
  EXPECT_NE(what_of(li.error()).find("IPv4"), std::string::npos) << render(li.error());
}

TEST(Interface, AnInterfaceActorSpawnedWithTwoNatsOfOneFamilyQuitsSayingWhy) {
  runtime rt;
  interface_spec spec;
  spec.name = "lo";
  spec.refresh_interval = {};
  spec.nats = {given_v4_nat(), given_v4_nat()};
  caf::scoped_actor self{rt.system()};
  auto hdl = spawn_interface(rt.system(), spec);
  self->monitor(hdl);
  auto down = next<caf::down_msg>(self);
  ASSERT_TRUE(down);
  EXPECT_ERRC(down->reason, errc::invalid_argument);
}

TEST(Interface, NatsGivenToARunningActorLeaveNoNoteThatTheyAreUnknown) {
  // Without NAT servers the first refresh notes "NAT type unknown"; once
  // every family's NAT is given, a snapshot saying so contradicts itself.
  runtime rt;
  interface_spec spec;
  spec.name = "lo";
  spec.refresh_interval = {};
  auto li = load_interface(rt.system(), spec);
  ASSERT_OK(li);
  auto unknown_note = [](const interface_snapshot& s) {
    return std::any_of(s.notes.begin(), s.notes.end(), [](const std::string& n) {
      return n.find("NAT type unknown") != std::string::npos;
    });
  };
  ASSERT_TRUE(unknown_note(li->state)) << li->state.to_string();
  caf::scoped_actor self{rt.system()};
  for (const auto& known : li->state.nats) {
    auto n = given_v4_nat();
    n.fam = known.fam;
    self->request(li->hdl, caf::infinite, nat_atom::value, n)
      .receive([](caf::ok_atom) {}, [](caf::error& e) { FAIL() << render(e); });
  }
  self->request(li->hdl, caf::infinite, caf::get_atom::value)
    .receive([&](interface_snapshot& s) { EXPECT_FALSE(unknown_note(s)) << s.to_string(); },
             [](caf::error& e) { FAIL() << render(e); });
}
