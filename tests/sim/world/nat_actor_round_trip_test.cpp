// Every simulated NAT preset classifies as itself through the real actors:
// an interface actor on a host behind it, its NAT prober's pipes on the
// host's sim stack, the project's STUN server on a simulated public host,
// on virtual time (the pure counterpart is NatRoundTrip in sim_tests).

#include <chrono>
#include <vector>

#include <gtest/gtest.h>

#include "p2pd/actors/interface/interface_actor.hpp"
#include "sim/world/scenario_fixture.hpp"

using namespace std::chrono_literals;
using namespace p2pd;
using namespace p2pd::test;

namespace {

using net::delta_type;
using net::nat_type;

struct preset {
  nat_type nat;
  delta_type delta;
};

// The 35 configurations: 7 NAT types x 5 allocations.
std::vector<preset> all_presets() {
  std::vector<preset> out;
  for (auto n : {nat_type::open_internet, nat_type::udp_firewall, nat_type::full_cone,
                 nat_type::restricted, nat_type::port_restricted, nat_type::symmetric,
                 nat_type::blocked})
    for (auto d : {delta_type::equal, delta_type::preserving, delta_type::independent,
                   delta_type::dependent, delta_type::random})
      out.push_back({n, d});
  return out;
}

bool translates(nat_type n) {
  return n == nat_type::full_cone || n == nat_type::restricted || n == nat_type::port_restricted
         || n == nat_type::symmetric;
}

TEST(SimNatActors, All35PresetsClassifyAsThemselvesThroughTheInterfaceActor) {
  sim::scenario sc;
  auto stun = sc.add_public_host({ip("11.0.200.1"), ip("11.0.200.2")});
  auto up = sc.add_stun_server(stun);
  ASSERT_TRUE(sc.run_until([&] { return up->done(); }, 10s));
  ASSERT_TRUE(up->ok());
  struct probe {
    nat_type nat;
    delta_type delta;
    sim::answer_ptr<interface_snapshot> snap;
  };
  std::vector<probe> probes;
  for (auto& preset : all_presets()) {
    auto site = sc.add_site(*sim::nat_profile::p2pd(preset.nat, preset.delta));
    auto h = sc.add_host(site);
    interface_spec spec;
    spec.stack = sc.stack(h);
    spec.stun_servers = sc.stun_servers();
    spec.nat_servers = sc.stun_servers();
    spec.min_agree = 1;
    spec.refresh_interval = caf::timespan{0};
    auto iface = spawn_interface(sc.system(), spec);
    sc.keep(caf::actor_cast<caf::actor>(iface));
    probes.push_back({preset.nat, preset.delta,
                      sc.ask<interface_snapshot>(iface, 10min, ready_atom::value)});
  }
  auto r = sc.run_until(
    [&] {
      return std::all_of(probes.begin(), probes.end(), [](auto& p) { return p.snap->done(); });
    },
    5min);
  ASSERT_TRUE(r) << r.why;
  for (auto& p : probes) {
    auto what = std::string{net::to_string(p.nat)} + "/" + net::to_string(p.delta);
    ASSERT_TRUE(p.snap->ok()) << what;
    auto got = (*p.snap->value)->nat(net::family::v4);
    EXPECT_EQ(got.nat, p.nat) << what;
    if (!translates(p.nat)) {
      EXPECT_EQ(got.delta, delta_type::not_applicable) << what;
      continue;
    }
    EXPECT_EQ(got.delta, p.delta) << what;
    bool stepped = p.delta == delta_type::independent || p.delta == delta_type::dependent;
    EXPECT_EQ(got.delta_value, stepped ? 1 : 0) << what;
  }
  EXPECT_LT(sc.now(), 2min) << "35 probes at once take virtual seconds";
}

} // namespace
