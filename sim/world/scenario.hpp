#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "caf/actor.hpp"
#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/expected.hpp"
#include "caf/scheduler/test_coordinator.hpp"

#include "p2pd/actors/common/run_blocking.hpp"
#include "p2pd/actors/signal/hub/signal_hub.hpp"
#include "p2pd/actors/turn/turn_pipe_spec.hpp"
#include "p2pd/messages/pipe.hpp"
#include "p2pd/net/stun/stun_responder.hpp"
#include "p2pd/node/node_actor.hpp"
#include "p2pd/sim/nat/nat_profile.hpp"
#include "p2pd/sim/world/sim_stack.hpp"
#include "p2pd/sim/world/world.hpp"

namespace p2pd::sim {

/// An actor system for a simulated world: CAF's test coordinator
/// (scheduler.policy = testing: one job queue, one virtual clock, run by
/// whoever drives it), no middleman (a pipe spawned past the stack fails at
/// once: "module not loaded"), p2pd's message types, and blocking jobs run
/// inline (the simulation's jobs answer from a model).
class sim_system_config : public caf::actor_system_config, public blocking_config {
public:
  sim_system_config();
};

/// What a scenario's world is made of.
struct scenario_config {
  uint64_t seed = 1;
  /// The Internet's core, crossed once between two edges.
  link_config internet{std::chrono::milliseconds(10)};
  /// Lines of text trace to keep (0: the hash only).
  size_t trace_log_limit = 0;
  /// Unix time in ms at virtual time 0.
  int64_t epoch_ms = 1'800'000'000'000;
  /// Hosts get an IPv6 address too (public: 2a00::<n>, sites: behind the
  /// site's IPv6 firewall).
  bool ipv6 = false;
  /// The in-process signalling hub: its latency, jitter and loss are the
  /// signalling network's (the default delivers at once).
  signal_hub_spec hub;
};

/// How a run_until() ended.
struct run_report {
  bool met = false;    ///< the predicate held
  size_t steps = 0;    ///< clock events fired
  sim_time at{0};      ///< virtual time at the end
  std::string why;     ///< "predicate held", "horizon", "step limit", ...
  explicit operator bool() const { return met; }
};

/// The answer to a request a scenario made for a test (ask()): empty until
/// it came.
template <class T>
struct answer {
  std::optional<caf::expected<T>> value;
  bool done() const { return value.has_value(); }
  bool ok() const { return value && *value; }
};

template <class T>
using answer_ptr = std::shared_ptr<answer<T>>;

/// A simulated world that owns its actor system: build the topology, hand
/// each host's stack (stack()) to what runs there, and drive everything on
/// virtual time with run_until(). Deterministic: one thread, one seed.
/// Teardown (shutdown(), or the destructor) ends every actor the scenario
/// was told about (keep()), cancels what is left on the clock and lets the
/// system end without waiting.
class scenario {
public:
  explicit scenario(scenario_config cfg = {});
  ~scenario();
  scenario(const scenario&) = delete;
  scenario& operator=(const scenario&) = delete;

  caf::actor_system& system() { return *sys_; }
  caf::scheduler::test_coordinator& coordinator() { return *sched_; }
  const world_ptr& net() const { return world_; }
  name_book& names() { return *names_; }
  const scenario_config& config() const { return cfg_; }

  // --- Topology ---
  /// A host on the Internet with these addresses (none: the next of
  /// 11.0.0.0/8, and with cfg.ipv6 of 2a00::/16). Throws std::invalid_argument
  /// for addresses in use (a test's mistake).
  host_id add_public_host(std::vector<net::ip_address> ips = {}, link_config access = {});
  /// A site behind `nat`: external address the next of 12.0.0.0/8; its LAN
  /// is 10.<n>.0.0/24 when it translates, 13.<n>.0.0/24 (routed) when not.
  site_id add_site(const nat_profile& nat, link_config uplink = {});
  /// The next host of site `s`'s LAN.
  host_id add_host(site_id s, link_config access = {});
  /// Host `h`'s addresses.
  std::vector<net::ip_address> addresses(host_id h);
  /// Host `h`'s clock error (before its stack is first asked for).
  void set_skew(host_id h, std::chrono::milliseconds skew);
  /// Host `h`'s stack (one per host, made on first use).
  stack_ptr stack(host_id h);

  // --- Running ---
  /// Virtual time now.
  sim_time now() const;
  /// Runs jobs, then fires the next clock event, and so on, until `pred`
  /// holds (checked after every batch of jobs), `horizon` of virtual time
  /// has passed (the clock then stands at the horizon), nothing is left to
  /// run, `max_steps` clock events fired, or a million jobs ran without
  /// the clock moving (actors that only message each other: "job limit").
  run_report run_until(const std::function<bool()>& pred, caf::timespan horizon,
                       size_t max_steps = 1'000'000);
  /// Runs for `d` of virtual time.
  run_report run_for(caf::timespan d) { return run_until([] { return false; }, d); }
  /// What the scenario ran so far: actor jobs, clock events fired, and the
  /// fabric's traced packet events.
  struct run_counts {
    uint64_t jobs = 0;
    uint64_t clock_events = 0;
    uint64_t packet_events = 0;
  };
  run_counts counts();
  /// The fabric's trace hash: same seed and same scenario, same hash.
  uint64_t trace_hash();
  /// The trace hash without payload bytes (trace::shape_hash): what stays
  /// equal across runs of nodes, whose TLS and STUN draw random bytes.
  uint64_t trace_shape_hash();

  /// Sends `xs...` to `hdl` as a request from a helper actor; the answer
  /// (or the error, a timeout after `timeout`) lands in the returned box
  /// as the world runs.
  template <class T, class Handle, class... Ts>
  answer_ptr<T> ask(const Handle& hdl, caf::timespan timeout, Ts... xs) {
    auto box = std::make_shared<answer<T>>();
    system().spawn(
      [hdl, timeout, xs...](caf::event_based_actor* self, answer_ptr<T> out) {
        self->request(hdl, timeout, xs...)
          .then([out](T& x) { out->value = std::move(x); },
                [out](caf::error& err) { out->value = std::move(err); });
      },
      box);
    return box;
  }

  /// Opens `pipe` from an owner actor that lives until teardown (a pipe
  /// closes with its owner); the pipe_info or the error lands in the box.
  answer_ptr<pipe_info> open(const pipe_actor& pipe,
                             caf::timespan timeout = std::chrono::seconds(30)) {
    return open_owned(pipe, timeout);
  }
  /// open() for anything that opens like a pipe (open -> pipe_info, the
  /// opener its owner): servers.
  template <class Handle>
  answer_ptr<pipe_info> open_owned(const Handle& hdl,
                                   caf::timespan timeout = std::chrono::seconds(30)) {
    auto box = std::make_shared<answer<pipe_info>>();
    auto owner = system().spawn(
      [hdl, timeout](caf::event_based_actor* self, answer_ptr<pipe_info> out) -> caf::behavior {
        self->request(hdl, timeout, caf::open_atom::value)
          .then([out](pipe_info& info) { out->value = std::move(info); },
                [out](caf::error& err) { out->value = std::move(err); });
        // Stays (as the owner) until the scenario ends it; what the pipe
        // or server sends it is dropped.
        self->set_default_handler(caf::drop);
        return {[](caf::ok_atom) {}};
      },
      box);
    keep(owner);
    return box;
  }

  // --- Servers and nodes (scenario_nodes.cpp) ---
  /// Starts the project's STUN server (plan_stun_server, its pipes opened by
  /// an owner actor: no blocking) on host `h`, on its first two addresses
  /// (RFC 5780 needs two; one address gives a plain STUN server) and ports
  /// 3478 and 3479. Nodes made later ask it for their external address and
  /// NAT (node_spec_for). Run the world to let it open (run_until ready).
  answer_ptr<std::vector<pipe_info>> add_stun_server(host_id h);
  /// The servers add_stun_server started, as endpoints (primary addresses).
  const std::vector<net::endpoint>& stun_servers() const { return stun_; }
  /// Starts the project's TURN server (spawn_turn_server, opened by an
  /// owner actor: no blocking) on host `h`'s first address, port 3478, UDP
  /// and TCP toward it, UDP relays on ports 50000..50999 of that address,
  /// one user (turn_user()). Nodes made later get it in node_spec::turn.
  /// Run the world to let it open.
  answer_ptr<pipe_info> add_turn_server(host_id h);
  /// The servers add_turn_server started, with their credentials.
  const std::vector<turn_server>& turn_servers() const { return turn_; }
  /// Starts the project's NTP responder (opened by an owner actor) on host
  /// `h`'s first address, port 123; its timestamps are that host's clock
  /// (set_skew). Nodes made later get an NTP clock (node_spec::clock) that
  /// asks it. Run the world to let it open.
  answer_ptr<pipe_info> add_ntp_responder(host_id h);
  /// The responders add_ntp_responder started.
  const std::vector<net::endpoint>& ntp_servers() const { return ntp_; }
  /// The TURN servers' one user and password.
  static constexpr const char* turn_user = "sim";
  static constexpr const char* turn_password = "relay";
  /// The in-process signalling hub of the world (made on first use).
  signal_hub_actor hub();
  /// A node spec for host `h`: its stack, the world's hub, a deterministic
  /// identity (from the seed and the node's number), the STUN servers for
  /// external addresses and NAT tests (one must agree), no refresh timer,
  /// the TURN servers (add_turn_server) for the relay strategy, and an NTP
  /// clock asking the responders (add_ntp_responder), if any.
  node_spec node_spec_for(host_id h);
  /// Spawns a node (spawn_node, as the api does) and keeps it for teardown
  /// (closed first).
  caf::expected<node_actor> add_node(node_spec spec);

  /// An actor to end at teardown (servers, nodes, owners of pipes).
  void keep(caf::actor hdl) { kept_.push_back(std::move(hdl)); }
  /// An actor to close (a close request) before the others end: nodes.
  void keep_closing(caf::actor hdl) { closing_.push_back(std::move(hdl)); }

  /// Closes and ends what was kept, clears the clock and drops the world;
  /// the system can then end. Idempotent; the destructor calls it.
  void shutdown();

private:
  scenario_config cfg_;
  std::unique_ptr<sim_system_config> sys_cfg_;
  std::unique_ptr<caf::actor_system> sys_;
  caf::scheduler::test_coordinator* sched_ = nullptr;
  world_ptr world_;
  name_book_ptr names_ = std::make_shared<name_book>();
  std::map<host_id, stack_ptr> stacks_;
  spawned_actors_ptr spawned_ = std::make_shared<spawned_actors>();
  std::map<host_id, std::chrono::milliseconds> skews_;
  std::vector<caf::actor> kept_;
  std::vector<caf::actor> closing_;
  std::vector<net::endpoint> stun_;
  std::vector<turn_server> turn_;
  std::vector<net::endpoint> ntp_;
  signal_hub_actor hub_;
  uint32_t next_node_ = 0;
  uint64_t jobs_ = 0;
  uint64_t clock_events_ = 0;
  uint32_t next_public_ = 0;
  uint32_t next_site_ = 0;
  bool down_ = false;
};

} // namespace p2pd::sim
