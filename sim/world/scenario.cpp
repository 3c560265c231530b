#include "p2pd/sim/world/scenario.hpp"

#include <stdexcept>

#include "caf/send.hpp"

#include "p2pd/messages/register.hpp"
#include "p2pd/node/node_messages.hpp"

namespace p2pd::sim {

sim_system_config::sim_system_config() {
  set("scheduler.policy", caf::atom("testing"));
  register_types(*this);
  register_node_types(*this);
  executor = inline_executor();
}

scenario::scenario(scenario_config cfg)
  : cfg_(cfg), sys_cfg_(std::make_unique<sim_system_config>()) {
  sys_ = std::make_unique<caf::actor_system>(*sys_cfg_);
  // Actors still alive at the end (a test that failed half-way) must not
  // make the system wait for ever: nothing runs them but us.
  sys_->await_actors_before_shutdown(false);
  sched_ = &dynamic_cast<caf::scheduler::test_coordinator&>(sys_->scheduler());
  fabric::config fc;
  fc.seed = cfg.seed;
  fc.internet = cfg.internet;
  fc.trace_log_limit = cfg.trace_log_limit;
  world_ = world::make(*sys_, fc);
}

scenario::~scenario() {
  shutdown();
}

host_id scenario::add_public_host(std::vector<net::ip_address> ips, link_config access) {
  auto n = ++next_public_;
  if (ips.empty()) {
    ips.push_back(net::ip_address::v4(0x0B000000u + n));
    if (cfg_.ipv6) {
      net::ip_address::bytes_type b{};
      b[0] = 0x2a;
      b[14] = static_cast<uint8_t>(n >> 8);
      b[15] = static_cast<uint8_t>(n);
      ips.push_back(net::ip_address::v6(b));
    }
  }
  auto h = world_->with([&](world& x) { return x.fabric().add_public_host({ips, access}); });
  if (!h)
    throw std::invalid_argument("add_public_host: " + net::to_string(h.error()));
  return *h;
}

site_id scenario::add_site(const nat_profile& nat, link_config uplink) {
  auto n = ++next_site_;
  site_config sc;
  sc.nat = nat;
  sc.external = net::ip_address::v4(0x0C000000u + n);
  bool translates = nat.mode == nat_mode::nat || nat.mode == nat_mode::blocked;
  sc.lan_base = net::ip_address::v4((translates ? 0x0A000000u : 0x0D000000u) + (n << 16) + 2);
  sc.uplink = uplink;
  if (cfg_.ipv6) {
    net::ip_address::bytes_type b{};
    b[0] = 0x2a;
    b[1] = 0x01;
    b[2] = static_cast<uint8_t>(n >> 8);
    b[3] = static_cast<uint8_t>(n);
    b[15] = 2;
    sc.v6_base = net::ip_address::v6(b);
  }
  auto s = world_->with([&](world& x) { return x.fabric().add_site(sc); });
  if (!s)
    throw std::invalid_argument("add_site: " + net::to_string(s.error()));
  return *s;
}

host_id scenario::add_host(site_id s, link_config access) {
  auto h = world_->with([&](world& x) { return x.fabric().add_host(s, access); });
  if (!h)
    throw std::invalid_argument("add_host: " + net::to_string(h.error()));
  return *h;
}

std::vector<net::ip_address> scenario::addresses(host_id h) {
  return world_->with([&](world& x) { return x.fabric().addresses(h); });
}

void scenario::set_skew(host_id h, std::chrono::milliseconds skew) {
  skews_[h] = skew;
}

stack_ptr scenario::stack(host_id h) {
  auto& slot = stacks_[h];
  if (!slot) {
    sim_stack_config sc;
    sc.w = world_;
    sc.host = h;
    sc.names = names_;
    sc.epoch_ms = cfg_.epoch_ms;
    if (auto i = skews_.find(h); i != skews_.end())
      sc.skew = i->second;
    sc.seed = cfg_.seed;
    sc.spawned = spawned_;
    slot = std::make_shared<sim_stack>(sc);
  }
  return slot;
}

sim_time scenario::now() const {
  return world_ ? world_->clock_now() : sim_time{0};
}

run_report scenario::run_until(const std::function<bool()>& pred, caf::timespan horizon,
                               size_t max_steps) {
  // Jobs per batch: a ping-pong without timers would otherwise never yield.
  constexpr size_t batch = 100'000;
  auto& clk = sched_->clock();
  auto end = clk.now() + horizon;
  run_report out;
  auto done = [&](bool met, const char* why) {
    out.met = met;
    out.why = why;
    out.at = now();
    return out;
  };
  // Full batches in a row: actors that only message each other would never
  // let the clock move; past this many the run ends ("job limit").
  constexpr size_t max_full_batches = 10;
  size_t full_batches = 0;
  for (;;) {
    auto ran = sched_->run(batch);
    jobs_ += ran;
    if (ran == batch) { // more jobs: run them before the clock moves
      if (pred())
        return done(true, "predicate held");
      if (++full_batches >= max_full_batches)
        return done(false, "job limit: 1 M jobs without the clock moving");
      continue;
    }
    full_batches = 0;
    if (sys_->detached_actors() > 0)
      return done(false, "a detached actor joined the world (it would run on a thread of its own)");
    if (pred())
      return done(true, "predicate held");
    if (out.steps >= max_steps)
      return done(false, "step limit");
    if (!clk.has_pending_timeout() || clk.schedule().begin()->first > end) {
      if (clk.current_time < end)
        clk.current_time = end;
      return done(false, "horizon");
    }
    clk.trigger_timeout();
    ++out.steps;
    ++clock_events_;
  }
}

uint64_t scenario::trace_hash() {
  return world_->with([](world& x) { return x.fabric().run_trace().hash(); });
}

scenario::run_counts scenario::counts() {
  run_counts c;
  c.jobs = jobs_;
  c.clock_events = clock_events_;
  c.packet_events = world_->with([](world& x) { return x.fabric().run_trace().events(); });
  return c;
}

uint64_t scenario::trace_shape_hash() {
  return world_->with([](world& x) { return x.fabric().run_trace().shape_hash(); });
}

void scenario::shutdown() {
  if (down_)
    return;
  down_ = true;
  // Nodes close in order (their connections, listeners, signalling), within
  // their own timeouts; then everything kept ends.
  auto left = std::make_shared<size_t>(closing_.size());
  for (auto& hdl : closing_)
    system().spawn(
      [hdl](caf::event_based_actor* self, std::shared_ptr<size_t> n) {
        self->request(hdl, std::chrono::seconds(30), caf::close_atom::value)
          .then([n](caf::ok_atom) { --*n; }, [n](caf::error&) { --*n; });
      },
      left);
  run_until([&] { return *left == 0; }, std::chrono::seconds(60));
  for (auto& hdl : closing_)
    caf::anon_send_exit(hdl, caf::exit_reason::user_shutdown);
  for (auto& hdl : kept_)
    caf::anon_send_exit(hdl, caf::exit_reason::user_shutdown);
  closing_.clear();
  kept_.clear();
  stacks_.clear();
  // What ends gracefully (a TURN pipe's last Refresh, a node's goodbyes)
  // finishes on virtual time, bounded; an answer that never comes times
  // out within it.
  run_until([] { return false; }, std::chrono::minutes(1), 100'000);
  // Pipes whose owner lives on (one the scenario was not told of) would
  // keep themselves and the world to the process's exit.
  for (auto& hdl : spawned_->alive())
    caf::anon_send_exit(hdl, caf::exit_reason::kill);
  // Pipes that ended may still be held by their sockets' handlers in the
  // world, and hold the world in turn: the cycle is cut here.
  sched_->run();
  if (world_)
    world_->clear();
  // The world quits its driver when the last pipe lets it go.
  world_.reset();
  // What is left on the clock (stale request timeouts, tickers of actors
  // that ended) is dropped; the system's own stop then finds nothing to
  // run. Bounded: a timer re-armed by a job is cancelled again.
  for (int round = 0; round < 100; ++round) {
    sched_->run();
    if (!sched_->clock().has_pending_timeout())
      break;
    sched_->clock().cancel_all();
  }
  sched_->run();
}

} // namespace p2pd::sim
