// sim::world drives the fabric's event queue from the actor clock: in real
// time under the normal scheduler, in virtual time under CAF's test
// coordinator (scheduler.policy = testing).

#include <atomic>
#include <chrono>
#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/scheduler/test_coordinator.hpp"
#include "caf/scoped_actor.hpp"

#include "p2pd/sim/world/world.hpp"

using namespace std::chrono_literals;
using namespace p2pd;

namespace {

using world_got_atom = caf::atom_constant<caf::atom("p2stgot")>;

/// Two public hosts, each behind an access link of `latency`, and a UDP
/// socket on each; datagrams to `b` report the virtual time they arrive.
struct two_hosts {
  sim::world_ptr w;
  net::endpoint a_ep, b_ep;
  int a_sock = 0, b_sock = 0;
  sim::host_id a = 0, b = 0;

  two_hosts(caf::actor_system& sys, sim::sim_time latency,
            std::function<void(sim::sim_time)> on_arrival) {
    w = sim::world::make(sys);
    w->with([&](sim::world& x) {
      a = *x.fabric().add_public_host({{*net::ip_address::parse("198.51.100.1")}, {latency}});
      b = *x.fabric().add_public_host({{*net::ip_address::parse("198.51.100.2")}, {latency}});
      a_sock = *x.udp(a).bind(*net::endpoint::parse("198.51.100.1:5000"));
      b_sock = *x.udp(b).bind(*net::endpoint::parse("198.51.100.2:6000"));
      a_ep = *x.udp(a).local_endpoint(a_sock);
      b_ep = *x.udp(b).local_endpoint(b_sock);
      auto* self = &x;
      x.udp(b).on_receive(b_sock, [self, on_arrival](sim::udp_datagram) {
        on_arrival(self->fabric().now());
      });
      return 0;
    });
  }

  void send_a_to_b() {
    w->with([&](sim::world& x) { return x.udp(a).send_to(a_sock, b_ep, {1, 2, 3}); });
  }
};

TEST(SimWorld, DeliversAfterTheLinksLatencyInRealTime) {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  caf::actor me = self;
  two_hosts net{sys, 30ms, [me](sim::sim_time at) {
                  caf::anon_send(me, world_got_atom::value,
                                 std::chrono::duration_cast<caf::timespan>(at));
                }};
  auto start = std::chrono::steady_clock::now();
  net.send_a_to_b();
  bool got = false;
  self->receive(
    [&](world_got_atom, caf::timespan at) {
      got = true;
      // Two access links of 30 ms each: 60 ms of virtual time after the send.
      EXPECT_GE(at, 60ms);
      EXPECT_GE(std::chrono::steady_clock::now() - start, 55ms)
        << "virtual time follows the real clock under the normal scheduler";
    },
    caf::after(5s) >> [] {});
  EXPECT_TRUE(got) << "the datagram never arrived";
}

TEST(SimWorld, RunsOnVirtualTimeUnderTheTestCoordinator) {
  caf::actor_system_config cfg;
  cfg.set("scheduler.policy", caf::atom("testing"));
  caf::actor_system sys{cfg};
  auto& sched = dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
  std::optional<sim::sim_time> arrived;
  two_hosts net{sys, 10s, [&](sim::sim_time at) { arrived = at; }};
  // The test coordinator runs nothing by itself: the world's driver must
  // be let quit before the system waits for it.
  struct stop_driver {
    two_hosts& n;
    caf::scheduler::test_coordinator& s;
    ~stop_driver() {
      n.w.reset();
      s.run();
    }
  } stop{net, sched};
  auto real_start = std::chrono::steady_clock::now();
  net.send_a_to_b();
  sched.run();
  EXPECT_FALSE(arrived) << "nothing moves until the virtual clock does";
  sched.advance_time(19s);
  sched.run();
  EXPECT_FALSE(arrived) << "20 s of latency are not over after 19 s";
  sched.advance_time(1s);
  sched.run();
  ASSERT_TRUE(arrived);
  EXPECT_EQ(*arrived, 20s);
  EXPECT_LT(std::chrono::steady_clock::now() - real_start, 5s) << "20 virtual seconds, not real ones";
}

// world::post: calls from where the world's lock may already be held (a
// sim pipe's destructor), run later under the lock.
class SimWorldPost : public ::testing::Test {
protected:
  static caf::actor_system_config& on_test_coordinator(caf::actor_system_config& cfg) {
    cfg.set("scheduler.policy", caf::atom("testing"));
    return cfg;
  }

  // The test coordinator runs nothing by itself: the world's driver must be
  // let quit before the system waits for it.
  ~SimWorldPost() override {
    net.w.reset();
    sched.run();
  }

  caf::actor_system_config cfg;
  caf::actor_system sys{on_test_coordinator(cfg)};
  caf::scheduler::test_coordinator& sched =
    dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
  two_hosts net{sys, 1s, [](sim::sim_time) {}};
};

TEST_F(SimWorldPost, ACallPostedUnderTheLockRunsAtTheDriversTurn) {
  int ran = 0;
  sim::world* seen = nullptr;
  net.w->with([&](sim::world& x) {
    // As a destructor inside the queue: with() here would deadlock.
    x.post([&](sim::world& y) {
      ++ran;
      seen = &y;
    });
    return 0;
  });
  EXPECT_EQ(ran, 0) << "a posted call ran inside the call that posted it";
  sched.run(); // the driver's message
  EXPECT_EQ(ran, 1);
  EXPECT_EQ(seen, net.w.get());
}

TEST_F(SimWorldPost, PostedCallsRunInOrderBeforeTheNextWith) {
  std::vector<int> order;
  net.w->post([&](sim::world&) { order.push_back(1); });
  net.w->post([&](sim::world&) { order.push_back(2); });
  net.w->with([&](sim::world&) {
    order.push_back(3);
    return 0;
  });
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  sched.run(); // the driver's messages find nothing left to run
  EXPECT_EQ(order.size(), 3u);
}

TEST_F(SimWorldPost, CallsPostedToAWorldThatGoesFirstAreDroppedUnrun) {
  bool ran = false;
  auto capture = std::make_shared<int>(0);
  net.w->post([&ran, capture](sim::world&) { ran = true; });
  net.w.reset();
  EXPECT_EQ(capture.use_count(), 1) << "the world kept the posted call";
  sched.run(); // the driver's message finds no world
  EXPECT_FALSE(ran);
}

} // namespace
