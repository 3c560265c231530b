// p2pd_sim_scale: many nodes in one simulated world (issue 14's scale
// benchmark; not a test). N nodes, each alone behind a NAT of the 35
// presets in turn, start (interfaces, STUN and NAT probes, signalling);
// then a sample of connects between random pairs, TCP with direct,
// reverse and punch, one after another. Prints virtual time, what ran and
// the outcomes. Wall time and peak memory: run it under /usr/bin/time -v
// (nothing in sim/ reads a clock).
//   p2pd_sim_scale [--nodes N] [--connects K] [--seed S]
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>

#include "p2pd/net/util/splitmix64.hpp"
#include "p2pd/sim/world/node_scenario.hpp"

using namespace std::chrono_literals;

int main(int argc, char** argv) {
  size_t nodes = 1000, connects = 200;
  uint64_t seed = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    auto v = std::strtoull(argv[i + 1], nullptr, 10);
    if (a == "--nodes")
      nodes = v;
    else if (a == "--connects")
      connects = v;
    else if (a == "--seed")
      seed = v;
    else {
      std::cerr << "usage: p2pd_sim_scale [--nodes N] [--connects K] [--seed S]\n";
      return 2;
    }
  }
  if (nodes < 2) {
    std::cerr << "p2pd_sim_scale: at least 2 nodes\n";
    return 2;
  }
  p2pd::sim::scenario_config cfg;
  cfg.seed = seed;
  cfg.internet = {10ms};
  p2pd::sim::node_scenario w{cfg};
  using p2pd::net::delta_type;
  using p2pd::net::nat_type;
  const nat_type types[] = {nat_type::open_internet, nat_type::udp_firewall,
                            nat_type::full_cone,     nat_type::restricted,
                            nat_type::port_restricted, nat_type::symmetric,
                            nat_type::blocked};
  const delta_type allocations[] = {delta_type::equal, delta_type::preserving,
                                    delta_type::independent, delta_type::dependent,
                                    delta_type::random};
  for (size_t i = 0; i < nodes; ++i) // the 35 configurations in turn
    w.add_nat_node(types[i % 35 / 5], allocations[i % 5], "#" + std::to_string(i));
  auto ok = w.wait_ready(5min);
  auto started = w.now();
  auto c0 = w.counts();
  std::cout << "start: " << nodes << " nodes " << (ok ? "ready" : "NOT ready: " + w.why())
            << " in " << std::chrono::duration_cast<std::chrono::milliseconds>(started).count()
            << " virtual ms; " << c0.jobs << " actor jobs, " << c0.clock_events
            << " clock events, " << c0.packet_events << " packet events\n";
  if (!ok)
    return 1;
  p2pd::net::splitmix64 pick{seed};
  p2pd::node::connect_options tcp;
  tcp.strategies = {p2pd::node::strategy::direct, p2pd::node::strategy::reverse,
                    p2pd::node::strategy::punch};
  for (size_t k = 0; k < connects; ++k) {
    auto a = static_cast<size_t>(pick.next() % nodes);
    auto b = static_cast<size_t>(pick.next() % nodes);
    if (a == b)
      b = (b + 1) % nodes;
    w.connect(a, b, tcp);
  }
  auto rows = w.run_connects(30s, 5min);
  auto c1 = w.counts();
  std::map<std::string, size_t> how;
  for (auto& r : rows)
    ++how[r.how];
  std::cout << "connects: " << rows.size() << " in "
            << std::chrono::duration_cast<std::chrono::seconds>(w.now() - started).count()
            << " virtual s;";
  for (auto& [k, v] : how)
    std::cout << ' ' << k << ' ' << v;
  std::cout << "; " << c1.jobs - c0.jobs << " actor jobs, " << c1.clock_events - c0.clock_events
            << " clock events, " << c1.packet_events - c0.packet_events << " packet events\n";
  std::cout << "total: " << c1.jobs + c1.clock_events + c1.packet_events << " events\n";
  return 0;
}
