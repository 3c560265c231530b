// Pipes over the simulated network on virtual time: under CAF's test
// coordinator, a datagram between two sim pipes takes the path's latency
// of the actor clock, and no real time; a killed pipe's sockets close as a
// dead process's do.

#include <chrono>
#include <initializer_list>
#include <tuple>
#include <utility>

#include <gtest/gtest.h>

#include "caf/scheduler/test_coordinator.hpp"
#include "caf/scoped_actor.hpp"

#include "p2pd/actors/pipe/detail/sim_transport.hpp"
#include "p2pd/api/system_config.hpp"

#include "support/actors.hpp"
#include "support/expect.hpp"

using namespace std::chrono_literals;
using namespace p2pd;

namespace {

const net::ip_address sim_pipe_server_ip = *net::ip_address::parse("198.51.100.1");
const net::ip_address sim_pipe_client_ip = *net::ip_address::parse("198.51.100.2");

// The server's and the client's public hosts, each behind an access link
// of `latency`.
std::pair<sim::host_id, sim::host_id> sim_pipe_hosts(sim::world& w, sim::sim_time latency) {
  return w.with([&](sim::world& x) {
    return std::pair{*x.fabric().add_public_host({{sim_pipe_server_ip}, {latency}}),
                     *x.fabric().add_public_host({{sim_pipe_client_ip}, {latency}})};
  });
}

// A server on port 7000 of the server's host, and a client of it.
pipe_spec sim_pipe_server_spec(net::protocol proto) {
  pipe_spec spec;
  spec.proto = proto;
  spec.local = endpoint{sim_pipe_server_ip, 7000};
  return spec;
}

pipe_spec sim_pipe_client_spec(net::protocol proto) {
  pipe_spec spec;
  spec.proto = proto;
  spec.host = sim_pipe_server_ip.to_string();
  spec.port = 7000;
  return spec;
}

// Lets the pipes and the world's driver quit before the system waits for
// them: the test coordinator runs nothing by itself.
void sim_pipe_let_quit(caf::scheduler::test_coordinator& sched, sim::world_ptr& w,
                       std::initializer_list<pipe_actor*> pipes) {
  for (auto* p : pipes) {
    if (*p)
      caf::anon_send_exit(*p, caf::exit_reason::user_shutdown);
    *p = nullptr;
  }
  w.reset();
  sched.run();
  sched.clock().cancel_all();
  sched.run();
}

TEST(SimPipeVirtual, DatagramWaitsForTheVirtualClock) {
  p2pd::config cfg;
  cfg.set("scheduler.policy", caf::atom("testing"));
  caf::actor_system sys{cfg};
  auto& sched = dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
  auto real_start = std::chrono::steady_clock::now();
  auto w = sim::world::make(sys);
  auto [a, b] = sim_pipe_hosts(*w, 5s);
  auto server = actors::spawn_sim_pipe(sys, w, a, sim_pipe_server_spec(net::protocol::udp));
  auto client = actors::spawn_sim_pipe(sys, w, b, sim_pipe_client_spec(net::protocol::udp));
  {
    caf::scoped_actor self{sys};
    int opened = 0;
    for (auto& p : {server, client}) {
      self->send(p, caf::open_atom::value);
      sched.run();
      self->receive([&](const pipe_info&) { ++opened; },
                    [&](const caf::error& err) { ADD_FAILURE() << sys.render(err); },
                    caf::after(1s) >> [] { ADD_FAILURE() << "no answer to open"; });
    }
    ASSERT_EQ(opened, 2);
    self->send(client, send_atom::value, bytes{'h', 'i'});
    self->send(server, recv_atom::value, msg_filter::any(), caf::timespan{60s});
    sched.run();
    bool early = false;
    self->receive([&](const pipe_msg&) { early = true; }, caf::after(0s) >> [] {});
    EXPECT_FALSE(early) << "the datagram came before the virtual clock moved";
    // Two access links of 5 s: due at 10 s of virtual time.
    sched.advance_time(9s);
    sched.run();
    self->receive([&](const pipe_msg&) { early = true; }, caf::after(0s) >> [] {});
    EXPECT_FALSE(early) << "the datagram came before 10 s";
    sched.advance_time(1s);
    sched.run();
    bool got = false;
    self->receive(
      [&](const pipe_msg& m) {
        got = true;
        EXPECT_EQ(std::string(m.data.begin(), m.data.end()), "hi");
        EXPECT_EQ(m.from.ip, sim_pipe_client_ip);
      },
      [&](const caf::error& err) { ADD_FAILURE() << sys.render(err); },
      caf::after(0s) >> [] {});
    EXPECT_TRUE(got) << "the datagram did not come at 10 s";
    EXPECT_LT(std::chrono::steady_clock::now() - real_start, 5s);
  }
  sim_pipe_let_quit(sched, w, {&server, &client});
}

// A TCP server on one host and a client on another, 100 ms per access
// link, on the test coordinator; the test thread owns both pipes and
// subscribes to the client's end.
class SimPipeDeath : public ::testing::Test {
protected:
  static p2pd::config& on_test_coordinator(p2pd::config& cfg) {
    cfg.set("scheduler.policy", caf::atom("testing"));
    return cfg;
  }

  SimPipeDeath() {
    std::tie(a, b) = sim_pipe_hosts(*w, 100ms);
    auto sspec = sim_pipe_server_spec(net::protocol::tcp);
    sspec.subscribers.push_back({test::as_actor(self), events::up});
    server = actors::spawn_sim_pipe(sys, w, a, sspec);
    auto cspec = sim_pipe_client_spec(net::protocol::tcp);
    cspec.subscribers.push_back({test::as_actor(self), events::end});
    client = actors::spawn_sim_pipe(sys, w, b, cspec);
  }

  // On every way out, a failed ASSERT too.
  ~SimPipeDeath() override { sim_pipe_let_quit(sched, w, {&server, &client}); }

  // Runs the coordinator and fires its timeouts one by one, in time order,
  // until `done` holds or `max_steps` timeouts have fired.
  template <class F>
  bool run_until(F done, int max_steps = 200) {
    for (int i = 0; i < max_steps; ++i) {
      sched.run();
      if (done())
        return true;
      if (!sched.trigger_timeout())
        break;
    }
    sched.run();
    return done();
  }

  // Waits, in virtual time, for a message of type T to the test thread.
  template <class T>
  std::optional<T> await() {
    std::optional<T> got;
    run_until([&] {
      if (!got)
        got = test::next<T>(self, 0s);
      return got.has_value();
    });
    return got;
  }

  // Sends open to `p` without running anything.
  void ask_open(const pipe_actor& p) { self->send(p, caf::open_atom::value); }

  // Waits for the answer to an open.
  bool opened() {
    bool ok = false;
    bool answered = false;
    run_until([&] {
      self->receive(
        [&](const pipe_info&) { answered = ok = true; },
        [&](const caf::error& err) {
          answered = true;
          ADD_FAILURE() << sys.render(err);
        },
        caf::after(0s) >> [] {});
      return answered;
    });
    return ok;
  }

  size_t server_host_sockets() {
    return w->with([&](sim::world& x) { return x.tcp(a).socket_count(); });
  }

  p2pd::config cfg;
  caf::actor_system sys{on_test_coordinator(cfg)};
  caf::scheduler::test_coordinator& sched =
    dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
  caf::scoped_actor self{sys};
  sim::world_ptr w = sim::world::make(sys);
  sim::host_id a = 0;
  sim::host_id b = 0;
  pipe_actor server;
  pipe_actor client;
};

TEST_F(SimPipeDeath, AKilledServerEndsItsClientByFin) {
  ask_open(server);
  ASSERT_TRUE(opened());
  ask_open(client); // the handshake: 400 virtual ms
  ASSERT_TRUE(opened());
  // The server has its client once the handshake's last ACK is there (a
  // client still in the accept queue of a dead listener is reset).
  ASSERT_TRUE(await<pipe_up>()) << "the server never had its client";
  // Killed: no finish_close runs; the transport's destructor posts the
  // close to the world, which sends the client a FIN.
  caf::anon_send_exit(server, caf::exit_reason::kill);
  auto end = await<pipe_end>();
  ASSERT_TRUE(end) << "the client never heard its server go";
  EXPECT_TRUE(end->whole);
  EXPECT_FALSE(end->reason) << "a dead process's socket closes in order: "
                            << sys.render(end->reason);
  // The client's pipe answers with its FIN; once it is there, the server
  // host keeps no socket of the dead pipe (its listener went at once).
  EXPECT_TRUE(run_until([&] { return server_host_sockets() == 0; }))
    << "the dead server's sockets stay open";
}

TEST_F(SimPipeDeath, ADeadServersListenerResetsAHandshakeItCompletesBeforeItsClose) {
  ask_open(server);
  ASSERT_TRUE(opened());
  ask_open(client);
  sched.run(); // the client's SYN is on its way
  // The server dies (its exit alone is run) while a handle to it remains;
  // its posted close waits in the driver's mailbox.
  caf::anon_send_exit(server, caf::exit_reason::kill);
  ASSERT_TRUE(sched.try_run_once());
  // Past the handshake's last ACK (600 ms): the world catches up to now,
  // completing the handshake at the dead listener, before the posted close.
  sched.advance_time(700ms);
  ASSERT_TRUE(opened()) << "the client's handshake did not complete";
  auto end = await<pipe_end>();
  ASSERT_TRUE(end) << "the connection the dead listener completed stays open";
  EXPECT_ERRC(end->reason, net::errc::connection_reset);
  EXPECT_TRUE(run_until([&] { return server_host_sockets() == 0; }))
    << "the dead server's sockets stay open";
}

} // namespace
