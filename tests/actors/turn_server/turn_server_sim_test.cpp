// The TURN server and the NTP responder on hosts of a simulated network
// (sim::world, actors/pipe/detail/sim_transport): every socket they open
// goes through their stack, so on a stack whose pipes are a simulated
// host's they serve the project's clients on other simulated hosts
// unchanged. The world runs in real time here (each step waits on its
// wake-ups), with 2 ms access links.
#include <gtest/gtest.h>

#include "actors/ntp/quick_clock.hpp"
#include "net/ntp/ntp_units.hpp"
#include "support/actors.hpp"
#include "support/expect.hpp"
#include "support/values.hpp"

#include "p2pd/actors/ntp/ntp_clock.hpp"
#include "p2pd/actors/ntp/ntp_responder.hpp"
#include "p2pd/actors/pipe/detail/sim_transport.hpp"
#include "p2pd/actors/turn/turn_pipe.hpp"
#include "p2pd/actors/turn_server/turn_server.hpp"
#include "p2pd/api/runtime.hpp"

using namespace p2pd;
using namespace p2pd::test;
using p2pd::test::ntp_units::ms;

namespace {

// A stack whose pipes are a simulated host's; time and seed are this
// host's (the world runs in real time).
class sim_host_stack : public net_stack {
public:
  sim_host_stack(sim::world_ptr w, sim::host_id host) : w_(std::move(w)), host_(host) {}
  std::string name() const override { return "sim/host-" + std::to_string(host_); }
  pipe_actor spawn_pipe(caf::actor_system& sys, pipe_spec spec) const override {
    return actors::spawn_sim_pipe(sys, w_, host_, std::move(spec));
  }
  net::result<net::interface_table> interfaces() const override {
    return net::interface_table{};
  }
  int64_t unix_ms() const override { return os_stack()->unix_ms(); }
  int64_t unix_ns() const override { return os_stack()->unix_ns(); }
  uint64_t rng_seed() const override { return 7; }

private:
  sim::world_ptr w_;
  sim::host_id host_;
};

class OnSimHosts : public ::testing::Test {
protected:
  void SetUp() override {
    world = sim::world::make(rt.system());
    world->with([this](sim::world& w) {
      for (auto* ip : {"198.51.100.1", "198.51.100.2", "198.51.100.3"})
        hosts.push_back(*w.fabric().add_public_host({{test::ip(ip)}, {latency}}));
      return 0;
    });
  }

  stack_ptr stack_of(size_t i) { return std::make_shared<sim_host_stack>(world, hosts.at(i)); }

  runtime rt;
  caf::scoped_actor self{rt.system()};
  sim::world_ptr world;
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
  auto server = spawn_turn_server(rt.system(), ss);
  ASSERT_OK(server);
  endpoint addr;
  self->request(*server, 5s, caf::open_atom::value)
    .receive([&](pipe_info& i) { addr = i.local; }, [&](caf::error& e) { FAIL() << render(e); });
  ASSERT_EQ(addr, at("198.51.100.1", 3478));

  auto peer_spec = server_spec(udp, at("198.51.100.3", 4000));
  auto peer = rt.open(actors::spawn_sim_pipe(rt.system(), world, hosts[2], peer_spec), peer_spec);
  ASSERT_OK(peer);

  turn_pipe_spec cs;
  cs.stack = stack_of(1);
  cs.server = turn_server{addr, net::protocol::udp, "alice", "wonderland"};
  cs.local = at("198.51.100.2", 0);
  cs.timing = loopback_stun_timing();
  cs.subscribers.push_back(subscriber{as_actor(self), events::msgs});
  auto client = spawn_turn_pipe(rt.system(), cs);
  caf::expected<pipe_info> info{make_error(errc::io_failed, "no answer")};
  self->request(client, 10s, caf::open_atom::value)
    .receive([&](pipe_info& i) { info = i; }, [&](caf::error& e) { info = e; });
  ASSERT_OK(info);
  EXPECT_EQ(info->local.ip, ip("198.51.100.1"));
  EXPECT_GE(info->local.port, 50000);
  EXPECT_LE(info->local.port, 50009);

  caf::anon_send(client, send_atom::value, to_bytes("through the sim"), at("198.51.100.3", 4000));
  auto got = peer->recv(5s);
  ASSERT_OK(got);
  EXPECT_EQ(to_string(got->data), "through the sim");
  EXPECT_EQ(got->from, info->local);
  ASSERT_FALSE(peer->send("and back", info->local));
  auto m = next<pipe_msg>(self, 5s);
  ASSERT_TRUE(m);
  EXPECT_EQ(to_string(m->data), "and back");
  EXPECT_EQ(m->from, at("198.51.100.3", 4000));
  caf::anon_send_exit(client, caf::exit_reason::user_shutdown);
}

TEST_F(OnSimHosts, TheNtpClockMeasuresTheResponderHostsSkew) {
  ntp_responder_spec rs;
  rs.stack = stack_of(0);
  rs.local = at("198.51.100.1", 123);
  rs.skew_ns = 250 * ms;
  auto responder = spawn_ntp_responder(rt.system(), rs);
  ASSERT_OK(responder);
  endpoint addr;
  self->request(*responder, 5s, caf::open_atom::value)
    .receive([&](pipe_info& i) { addr = i.local; }, [&](caf::error& e) { FAIL() << render(e); });
  ASSERT_EQ(addr, at("198.51.100.1", 123));
  auto got =
    measure_once(rt.system(), quick_clock_spec({addr}, at("198.51.100.2", 0), stack_of(1)));
  ASSERT_OK(got);
  // Symmetric 2 ms links: the skew to within the wake-ups' jitter.
  EXPECT_NEAR(got->offset_ns, 250 * ms, 5 * ms) << got->to_string();
}

} // namespace
