// The scenario's servers and nodes: the real STUN and TURN servers, NTP
// responder and node code on simulated hosts.
#include "p2pd/sim/world/scenario.hpp"

#include <array>

#include "caf/event_based_actor.hpp"

#include "p2pd/actors/ntp/ntp_responder.hpp"
#include "p2pd/actors/stun/stun_server.hpp"
#include "p2pd/actors/turn_server/turn_server.hpp"
#include "p2pd/net/crypto/identity.hpp"
#include "p2pd/net/util/splitmix64.hpp"

namespace p2pd::sim {

namespace {

// Keys from the world's seed and the node's number: the same scenario gives
// the same node ids (and so the same node ports).
std::shared_ptr<const net::identity> seeded_identity(uint64_t seed, uint32_t n) {
  net::splitmix64 mix{seed * 0x9E3779B97F4A7C15ULL + n};
  std::array<uint8_t, 32> sign{}, agree{};
  for (auto* key : {&sign, &agree})
    for (size_t i = 0; i < key->size(); i += 8) {
      auto x = mix.next();
      for (size_t j = 0; j < 8; ++j)
        (*key)[i + j] = static_cast<uint8_t>(x >> (8 * j));
    }
  auto id = net::identity::from_private_keys(sign, agree);
  if (!id)
    return nullptr;
  return std::make_shared<const net::identity>(std::move(*id));
}

// A server that opens like a pipe (open -> pipe_info, the opener its
// owner), spawned or not: kept for teardown and opened by an owner actor;
// a failed spawn's error is in the box at once.
template <class Handle>
answer_ptr<pipe_info> start_served(scenario& sc, caf::expected<Handle> hdl) {
  if (!hdl) {
    auto box = std::make_shared<answer<pipe_info>>();
    box->value = std::move(hdl.error());
    return box;
  }
  sc.keep(caf::actor_cast<caf::actor>(*hdl));
  return sc.open_owned(*hdl);
}

} // namespace

answer_ptr<std::vector<pipe_info>> scenario::add_stun_server(host_id h) {
  auto ips = addresses(h);
  stun_server_spec spec;
  spec.addrs.primary_ip = ips.at(0);
  spec.addrs.primary_port = 3478;
  if (ips.size() > 1 && ips[1].fam() == ips[0].fam()) {
    spec.addrs.alt_ip = ips[1];
    spec.addrs.alt_port = 3479;
  }
  spec.stack = stack(h);
  auto box = std::make_shared<answer<std::vector<pipe_info>>>();
  auto plan = plan_stun_server(system(), spec);
  if (!plan) {
    box->value = std::move(plan.error());
    return box;
  }
  stun_.push_back(net::endpoint{spec.addrs.primary_ip, spec.addrs.primary_port});
  // One owner opens every pipe and holds them until teardown.
  auto pipes = plan->pipes;
  auto owner = system().spawn(
    [pipes](caf::event_based_actor* self,
            answer_ptr<std::vector<pipe_info>> out) -> caf::behavior {
      auto got = std::make_shared<std::vector<pipe_info>>();
      for (auto& p : pipes)
        self->request(p.first, std::chrono::seconds(10), caf::open_atom::value)
          .then(
            [out, got, n = pipes.size()](pipe_info& info) {
              got->push_back(std::move(info));
              if (got->size() == n && !out->done())
                out->value = *got;
            },
            [out](caf::error& err) {
              if (!out->done())
                out->value = std::move(err);
            });
      self->set_default_handler(caf::drop);
      return {[](caf::ok_atom) {}};
    },
    box);
  keep(owner);
  return box;
}

answer_ptr<pipe_info> scenario::add_turn_server(host_id h) {
  auto ip = addresses(h).at(0);
  turn_server_spec spec;
  spec.stack = stack(h);
  spec.listen = net::endpoint{ip, 3478};
  spec.relay_ip = ip;
  spec.relay_port_min = 50000;
  spec.relay_port_max = 50999;
  spec.users = {{turn_user, turn_password}};
  auto box = start_served(*this, spawn_turn_server(system(), spec));
  if (!box->done()) // spawned: nodes may name it
    turn_.push_back(turn_server{spec.listen, net::protocol::udp, turn_user, turn_password});
  return box;
}

answer_ptr<pipe_info> scenario::add_ntp_responder(host_id h) {
  ntp_responder_spec spec;
  spec.stack = stack(h);
  spec.local = net::endpoint{addresses(h).at(0), 123};
  auto box = start_served(*this, spawn_ntp_responder(system(), spec));
  if (!box->done())
    ntp_.push_back(spec.local);
  return box;
}

signal_hub_actor scenario::hub() {
  if (!hub_) {
    auto spec = cfg_.hub;
    if (spec.seed == signal_hub_spec{}.seed)
      spec.seed = cfg_.seed; // the world's seed draws its jitter and loss too
    hub_ = spawn_signal_hub(system(), spec);
    keep(caf::actor_cast<caf::actor>(hub_));
  }
  return hub_;
}

node_spec scenario::node_spec_for(host_id h) {
  node_spec spec;
  spec.stack = stack(h);
  spec.hub = hub();
  spec.identity = seeded_identity(cfg_.seed, ++next_node_);
  spec.iface.stun_servers = stun_;
  spec.iface.nat_servers = stun_;
  spec.iface.min_agree = 1;
  // A refresh only on request: periodic NAT probes would fill every run.
  spec.iface.refresh_interval = caf::timespan{0};
  spec.turn = turn_;
  if (!ntp_.empty()) {
    ntp_clock_spec clock;
    clock.endpoints = ntp_;
    spec.clock = std::move(clock);
  }
  return spec;
}

caf::expected<node_actor> scenario::add_node(node_spec spec) {
  auto n = spawn_node(system(), std::move(spec));
  if (n)
    keep_closing(caf::actor_cast<caf::actor>(*n));
  return n;
}

} // namespace p2pd::sim
