// sim::scenario: a world that owns its actor system on CAF's test
// coordinator, run on virtual time until a predicate holds or a horizon
// passes, the same run for the same seed, and a teardown that ends.

#include <chrono>
#include <stdexcept>

#include <gtest/gtest.h>

#include "caf/send.hpp"

#include "p2pd/actors/pipe/detail/sim_transport.hpp"
#include "sim/world/scenario_fixture.hpp"

using namespace std::chrono_literals;
using namespace p2pd;
using namespace p2pd::test;

namespace {

TEST(SimScenario, RunUntilStopsAtTheHorizonWhenNothingHappens) {
  sim::scenario sc;
  auto wall = std::chrono::steady_clock::now();
  auto r = sc.run_for(5min);
  EXPECT_FALSE(r.met);
  EXPECT_EQ(r.why, "horizon");
  EXPECT_EQ(sc.now(), 5min);
  EXPECT_LT(std::chrono::steady_clock::now() - wall, 5s);
}

TEST(SimScenario, RunUntilStopsWhenThePredicateHoldsOnVirtualTime) {
  sim::scenario sc;
  auto a = sc.add_public_host({}, {50ms});
  auto b = sc.add_public_host({}, {50ms});
  auto box = std::make_shared<collected>();
  auto sspec = server_spec(net::protocol::udp, endpoint{sc.addresses(a)[0], 5000});
  sspec.subscribers.push_back({spawn_collector(sc, box), events::msgs});
  auto server = sc.stack(a)->spawn_pipe(sc.system(), sspec);
  auto s_open = sc.open(server);
  auto client = sc.stack(b)->spawn_pipe(
    sc.system(), client_spec(net::protocol::udp, sc.addresses(a)[0].to_string(), 5000));
  auto c_open = sc.open(client);
  ASSERT_TRUE(sc.run_until([&] { return s_open->done() && c_open->done(); }, 1s));
  ASSERT_TRUE(s_open->ok() && c_open->ok());
  auto sent_at = sc.now();
  caf::anon_send(client, send_atom::value, text_bytes("hello"));
  auto r = sc.run_until([&] { return !box->texts.empty(); }, 1h);
  ASSERT_TRUE(r) << r.why;
  // Two access links of 50 ms and the core's 10 ms; no more.
  EXPECT_EQ(sc.now() - sent_at, 110ms);
  EXPECT_EQ(box->texts.front(), "hello");
  EXPECT_GE(r.steps, 1u);
}

TEST(SimScenario, RunUntilIsBoundedInSteps) {
  sim::scenario sc;
  auto a = sc.add_public_host();
  auto b = sc.add_public_host();
  auto sspec = server_spec(net::protocol::udp, endpoint{sc.addresses(a)[0], 5000}, echo_handler());
  auto s_open = sc.open(sc.stack(a)->spawn_pipe(sc.system(), sspec));
  auto echo = client_spec(net::protocol::udp, sc.addresses(a)[0].to_string(), 5000);
  echo.on_msg = echo_handler(); // the two echo each other for ever
  auto client = sc.stack(b)->spawn_pipe(sc.system(), echo);
  auto c_open = sc.open(client);
  ASSERT_TRUE(sc.run_until([&] { return s_open->done() && c_open->done(); }, 1s));
  caf::anon_send(client, send_atom::value, text_bytes("ball"));
  auto r = sc.run_until([] { return false; }, 24h, 50);
  EXPECT_EQ(r.why, "step limit");
  EXPECT_EQ(r.steps, 50u);
  EXPECT_LT(sc.now(), 1h);
}

// A little world with jitter and loss: UDP through a port-restricted NAT to
// an echo server, and a TCP exchange; the trace hash of what happened.
uint64_t run_exchange(uint64_t seed) {
  sim::scenario_config cfg;
  cfg.seed = seed;
  cfg.internet = {5ms, 20ms, 0.1};
  sim::scenario sc{cfg};
  auto srv = sc.add_public_host();
  auto site = sc.add_site(
    *sim::nat_profile::p2pd(net::nat_type::port_restricted, net::delta_type::random));
  auto cli = sc.add_host(site);
  auto ip = sc.addresses(srv)[0];
  auto u = sc.open(sc.stack(srv)->spawn_pipe(
    sc.system(), server_spec(net::protocol::udp, endpoint{ip, 3000}, echo_handler())));
  auto t = sc.open(sc.stack(srv)->spawn_pipe(
    sc.system(), server_spec(net::protocol::tcp, endpoint{ip, 3001}, echo_handler())));
  auto box = std::make_shared<collected>();
  auto collector = spawn_collector(sc, box);
  auto uspec = client_spec(net::protocol::udp, ip.to_string(), 3000);
  uspec.subscribers.push_back({collector, events::msgs});
  auto tspec = client_spec(net::protocol::tcp, ip.to_string(), 3001);
  tspec.subscribers.push_back({collector, events::msgs});
  auto up = sc.stack(cli)->spawn_pipe(sc.system(), uspec);
  auto tp = sc.stack(cli)->spawn_pipe(sc.system(), tspec);
  auto uo = sc.open(up);
  auto to = sc.open(tp);
  EXPECT_TRUE(sc.run_until([&] { return u->done() && t->done() && uo->done() && to->done(); },
                           30s));
  for (int i = 0; i < 20; ++i) {
    caf::anon_send(up, send_atom::value, text_bytes("u" + std::to_string(i)));
    caf::anon_send(tp, send_atom::value, text_bytes("t" + std::to_string(i)));
    sc.run_for(7ms);
  }
  sc.run_for(10s);
  EXPECT_GT(box->texts.size(), 20u) << "most echoes come back";
  return sc.trace_hash();
}

TEST(SimScenario, RunUntilEndsActorsThatOnlyMessageEachOther) {
  sim::scenario sc;
  // No timer, no packet: the clock never moves, jobs never run out.
  auto spinner = sc.system().spawn([](caf::event_based_actor* self, int) -> caf::behavior {
    return {[self](caf::ok_atom) { self->send(self, caf::ok_atom::value); }};
  }, 0);
  caf::anon_send(spinner, caf::ok_atom::value);
  auto r = sc.run_until([] { return false; }, 1h);
  EXPECT_FALSE(r.met);
  EXPECT_EQ(r.why, "job limit: 1 M jobs without the clock moving");
  EXPECT_EQ(sc.now(), sim::sim_time{0});
  caf::anon_send_exit(spinner, caf::exit_reason::user_shutdown);
  EXPECT_TRUE(sc.run_until([] { return false; }, 1s).why == "horizon");
}

TEST(SimScenario, TheSameSeedReplaysTheSameRun) {
  auto first = run_exchange(7);
  EXPECT_EQ(run_exchange(7), first);
  EXPECT_NE(run_exchange(8), first) << "another seed draws other jitter and losses";
}

} // namespace

namespace {

TEST(SimScenario, AnAddressInUseIsRefusedWithTheReason) {
  sim::scenario sc;
  sc.add_public_host({ip("11.0.9.9")});
  try {
    sc.add_public_host({ip("11.0.9.9")});
    ADD_FAILURE() << "a second host got 11.0.9.9";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string{e.what()}.find("11.0.9.9"), std::string::npos) << e.what();
  }
}

// A sim pipe spawned past a stack, for a host name: the simulated world has
// no getaddrinfo, and the open says so instead of asking the host's DNS.
TEST(SimScenario, ASimPipeWithoutAStackResolvesNoNames) {
  sim::scenario sc;
  auto h = sc.add_public_host();
  auto p = actors::spawn_sim_pipe(sc.system(), sc.net(), h,
                                  client_spec(net::protocol::tcp, "example.org", 80));
  auto opened = sc.open(p);
  ASSERT_TRUE(sc.run_until([&] { return opened->done(); }, 10s));
  ASSERT_FALSE(opened->ok());
  auto what = sc.system().render(opened->value->error());
  EXPECT_NE(what.find("through its stack"), std::string::npos) << what;
  EXPECT_NE(what.find("example.org"), std::string::npos) << what;
}

// A request to an actor that is gone lands in its box as an error.
TEST(SimScenario, AskingAnEndedActorAnswersWithAnError) {
  sim::scenario sc;
  auto h = sc.add_public_host();
  auto p = sc.stack(h)->spawn_pipe(sc.system(), server_spec(net::protocol::udp,
                                                            endpoint{sc.addresses(h)[0], 9}));
  caf::anon_send_exit(p, caf::exit_reason::kill);
  sc.run_for(1s);
  auto got = sc.ask<pipe_info>(p, 5s, caf::open_atom::value);
  ASSERT_TRUE(sc.run_until([&] { return got->done(); }, 10s));
  EXPECT_FALSE(got->ok());
}

} // namespace
