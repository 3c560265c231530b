// The TURN server and the NTP responder on hosts of a simulated world
// (sim::scenario, sim::sim_stack): every socket they open goes through
// their host's stack, so they serve the project's clients on other
// simulated hosts unchanged. The world runs on virtual time (CAF's test
// coordinator), with 2 ms access links and the core's 10 ms.
#include <gtest/gtest.h>

#include "actors/ntp/quick_clock.hpp"
#include "net/ntp/ntp_units.hpp"
#include "sim/world/scenario_fixture.hpp"
#include "support/values.hpp"

#include "p2pd/actors/ntp/ntp_clock.hpp"
#include "p2pd/actors/ntp/ntp_responder.hpp"
#include "p2pd/actors/turn/turn_pipe.hpp"
#include "p2pd/actors/turn_server/turn_server.hpp"
#include "p2pd/sim/world/scenario.hpp"

using namespace p2pd;
using namespace p2pd::test;
using p2pd::test::ntp_units::ms;

namespace {

class OnSimHosts : public ::testing::Test {
protected:
  void SetUp() override {
    for (auto* a : {"198.51.100.1", "198.51.100.2", "198.51.100.3"})
      hosts.push_back(sc.add_public_host({ip(a)}, {latency}));
  }

  stack_ptr stack_of(size_t i) { return sc.stack(hosts.at(i)); }

  /// Runs the world until `box` holds its answer (bounded in virtual time).
  template <class T>
  bool await(const sim::answer_ptr<T>& box, caf::timespan horizon = std::chrono::seconds(10)) {
    return sc.run_until([&] { return box->done(); }, horizon).met;
  }

  sim::scenario sc;
  std::vector<sim::host_id> hosts;
  sim::sim_time latency = std::chrono::milliseconds{2};
};

TEST_F(OnSimHosts, TheTurnPipeRelaysThroughOurTurnServerToAPeer) {
  turn_server_spec ss;
  ss.stack = stack_of(0);
  ss.listen = at("198.51.100.1", 3478);
  ss.relay_ip = ip("198.51.100.1");
  ss.relay_port_min = 50000;
  ss.relay_port_max = 50009;
  ss.users = {{"alice", "wonderland"}};
  auto server = spawn_turn_server(sc.system(), ss);
  ASSERT_TRUE(server) << sc.system().render(server.error());
  sc.keep(caf::actor_cast<caf::actor>(*server));
  auto up = sc.open_owned(*server);
  ASSERT_TRUE(await(up));
  ASSERT_TRUE(up->ok()) << sc.system().render(up->value->error());
  auto addr = (*up->value)->local;
  ASSERT_EQ(addr, at("198.51.100.1", 3478));

  auto at_peer = std::make_shared<collected>();
  auto peer_spec = server_spec(net::protocol::udp, at("198.51.100.3", 4000));
  peer_spec.subscribers.push_back({spawn_collector(sc, at_peer), events::msgs});
  auto peer = stack_of(2)->spawn_pipe(sc.system(), peer_spec);
  auto peer_up = sc.open(peer);
  ASSERT_TRUE(await(peer_up));
  ASSERT_TRUE(peer_up->ok()) << sc.system().render(peer_up->value->error());

  auto at_client = std::make_shared<collected>();
  turn_pipe_spec cs;
  cs.stack = stack_of(1);
  cs.server = turn_server{addr, net::protocol::udp, "alice", "wonderland"};
  cs.local = at("198.51.100.2", 0);
  cs.timing = loopback_stun_timing();
  cs.subscribers.push_back({spawn_collector(sc, at_client), events::msgs});
  auto client = spawn_turn_pipe(sc.system(), cs);
  auto info = sc.open_owned(client);
  ASSERT_TRUE(await(info));
  ASSERT_TRUE(info->ok()) << sc.system().render(info->value->error());
  auto relayed = (*info->value)->local;
  EXPECT_EQ(relayed.ip, ip("198.51.100.1"));
  EXPECT_GE(relayed.port, 50000);
  EXPECT_LE(relayed.port, 50009);

  caf::anon_send(client, send_atom::value, text_bytes("through the sim"),
                 at("198.51.100.3", 4000));
  ASSERT_TRUE(sc.run_until([&] { return !at_peer->texts.empty(); }, std::chrono::seconds(5)));
  EXPECT_EQ(at_peer->texts.front(), "through the sim");
  EXPECT_EQ(at_peer->from.front(), relayed);
  caf::anon_send(peer, send_atom::value, text_bytes("and back"), relayed);
  ASSERT_TRUE(sc.run_until([&] { return !at_client->texts.empty(); }, std::chrono::seconds(5)));
  EXPECT_EQ(at_client->texts.front(), "and back");
  EXPECT_EQ(at_client->from.front(), at("198.51.100.3", 4000));
}

TEST_F(OnSimHosts, TheNtpClockMeasuresTheResponderHostsSkew) {
  ntp_responder_spec rs;
  rs.stack = stack_of(0);
  rs.local = at("198.51.100.1", 123);
  rs.skew_ns = 250 * ms;
  auto responder = spawn_ntp_responder(sc.system(), rs);
  ASSERT_TRUE(responder) << sc.system().render(responder.error());
  sc.keep(caf::actor_cast<caf::actor>(*responder));
  auto up = sc.open_owned(*responder);
  ASSERT_TRUE(await(up));
  ASSERT_TRUE(up->ok()) << sc.system().render(up->value->error());
  auto addr = (*up->value)->local;
  ASSERT_EQ(addr, at("198.51.100.1", 123));
  auto spec = quick_clock_spec({addr}, at("198.51.100.2", 0), stack_of(1));
  auto clock = spawn_ntp_clock(sc.system(), spec);
  ASSERT_TRUE(clock) << sc.system().render(clock.error());
  sc.keep(caf::actor_cast<caf::actor>(*clock));
  auto got = sc.ask<clock_offset>(*clock, spec.measurement_time() + std::chrono::seconds(5),
                                  caf::get_atom::value);
  ASSERT_TRUE(await(got, spec.measurement_time() + std::chrono::seconds(6)));
  ASSERT_TRUE(got->ok()) << sc.system().render(got->value->error());
  auto& c = **got->value;
  // Symmetric links and virtual time (no wake-up jitter): the skew itself.
  EXPECT_NEAR(c.offset_ns, 250 * ms, 1 * ms) << c.to_string();
}

} // namespace
