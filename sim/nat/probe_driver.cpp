#include "p2pd/sim/nat/probe_driver.hpp"

#include <algorithm>
#include <optional>

#include "p2pd/net/util/splitmix64.hpp"

namespace p2pd::sim {

namespace {

// One binding transaction: the request out through the NAT, the server's
// answer (from `reply_from`) back in. The outcome as the prober records it.
struct transaction {
  nat_table& nat;
  sim_time now;

  net::stun_test run(const net::endpoint& local, const net::endpoint& to,
                     const net::endpoint& reply_from) {
    auto out = nat.outbound(packet::udp(local, to), now);
    if (out.action != nat_action::to_internet)
      return net::stun_test::no_reply();
    const auto seen = out.pkt.src; // what the server puts in XOR-MAPPED-ADDRESS
    auto in = nat.inbound(packet::udp(reply_from, seen), now);
    if (in.action != nat_action::to_lan || in.pkt.dst != local)
      return net::stun_test::no_reply();
    return net::stun_test::replied(seen);
  }
};

} // namespace

probe_result probe_through(nat_table& nat, const stun_addresses& server, const probe_plan& plan) {
  probe_result r;
  auto now = plan.start;
  auto next = [&] {
    auto t = now;
    now += plan.step;
    return transaction{nat, t};
  };
  const auto& primary = server.primary;
  r.tests.local_ips = {plan.local.ip};
  r.tests.local_port = plan.local.port;

  r.tests.test1 = next().run(plan.local, primary, primary);
  if (r.tests.test1.reply == net::test_reply::no_reply) {
    // The prober's fallback: a TCP handshake with the primary.
    auto t = next();
    auto syn = nat.outbound(packet::tcp(plan.local, primary, tcp_flag::syn), t.now);
    bool answered = false;
    if (syn.action == nat_action::to_internet) {
      auto back = nat.inbound(
          packet::tcp(primary, syn.pkt.src, tcp_flag::syn | tcp_flag::ack), t.now);
      answered = back.action == nat_action::to_lan;
    }
    r.unreachable = !answered;
    r.notes.push_back(answered ? "no answer over UDP, but one over TCP: UDP is blocked"
                               : "server unreachable: no answer over UDP nor TCP");
    r.nat = net::classify_nat(r.tests);
    r.delta = net::classify_delta(r.nat, r.samples);
    return r;
  }

  auto p = net::plan_nat_tests(primary, server.other);
  r.notes.insert(r.notes.end(), p.notes.begin(), p.notes.end());
  // II and III leave together; neither opens anything for the other.
  auto t23 = next();
  if (p.test2)
    r.tests.test2 = t23.run(plan.local, primary, server.other);
  if (p.test3)
    r.tests.test3 = t23.run(plan.local, primary, net::endpoint{primary.ip, server.other.port});
  if (p.test1_alt)
    r.tests.test1_alt = next().run(plan.local, *p.test1_alt, *p.test1_alt);
  r.nat = net::classify_nat(r.tests);

  // The delta samples, one socket each, one after the other.
  net::splitmix64 rng{plan.seed};
  std::vector<uint16_t> used{plan.local.port};
  uint32_t order = 0;
  auto sample = [&](uint16_t port) {
    const net::endpoint local{plan.local.ip, port};
    auto got = next().run(local, primary, primary);
    if (got.reply != net::test_reply::replied || !got.mapped) {
      r.notes.push_back("delta sample from port " + std::to_string(port) + ": no answer");
      return;
    }
    r.samples.push_back({port, got.mapped->port, primary, order++});
  };
  for (size_t i = 0; i < plan.delta_samples; ++i) {
    std::optional<uint16_t> port;
    for (int attempt = 0; attempt < 100 && !port; ++attempt) {
      auto x = static_cast<uint16_t>(rng.between(plan.sample_port_min, plan.sample_port_max));
      bool clear = std::none_of(used.begin(), used.end(),
                                [x](uint16_t u) { return x + 1 >= u && x <= u + 1; });
      if (clear)
        port = x;
    }
    if (!port) {
      r.notes.push_back("delta sample " + std::to_string(i) + ": no acceptable port");
      continue;
    }
    used.push_back(*port);
    sample(*port);
  }
  if (plan.consecutive_samples > 0) {
    // From a random start clear of the ports used so far.
    uint16_t base = 0;
    const auto span = static_cast<uint16_t>(plan.consecutive_samples);
    for (int attempt = 0; attempt < 100 && base == 0; ++attempt) {
      auto x = static_cast<uint16_t>(
          rng.between(plan.sample_port_min, plan.sample_port_max - span));
      bool clear = std::none_of(used.begin(), used.end(), [x, span](uint16_t u) {
        return u + 1 >= x && u <= x + span;
      });
      if (clear)
        base = x;
    }
    if (base == 0)
      r.notes.push_back("consecutive samples: no clear run of ports");
    for (uint16_t i = 0; base != 0 && i < span; ++i)
      sample(static_cast<uint16_t>(base + i));
  }
  r.delta = net::classify_delta(r.nat, r.samples);
  return r;
}

} // namespace p2pd::sim
