// The interface actor and its network stack: it lists interfaces and opens
// every probe socket through interface_spec::stack, never on its own. The
// test stack reports an interface the host does not have ("sim0" on
// 10.254.0.7) and binds that address's sockets on loopback: the actor finds
// the NIC, its external address and its NAT only if all of it goes through
// the stack.
#include <algorithm>
#include <atomic>
#include <memory>

#include "support/executors.hpp"
#include "support/expect.hpp"
#include "support/stun_server.hpp"
#include "support/test_stack.hpp"
#include "support/values.hpp"

#include "p2pd/actors/interface/interface_actor.hpp"
#include "p2pd/api/blocking.hpp"
#include "p2pd/api/system_config.hpp"

using namespace p2pd;
using namespace p2pd::test;

namespace {

const auto fam_v4 = net::family::v4;
const uint32_t sim_index = 4242;

// "sim0" with 10.254.0.7; sockets bound there are bound on 127.0.0.1.
std::shared_ptr<test_stack> sim_stack() {
  test_stack::config cfg;
  cfg.table = one_nic_table("sim0", sim_index, {ip("10.254.0.7")});
  cfg.rewrite = [](pipe_spec& spec) {
    if (spec.local && spec.local->ip == ip("10.254.0.7"))
      spec.local->ip = ip("127.0.0.1");
  };
  cfg.seed = 42;
  return std::make_shared<test_stack>(std::move(cfg));
}

} // namespace

TEST(InterfaceStack, NicsComeFromTheStackNotTheHost) {
  runtime rt;
  test_stack::config cfg;
  cfg.table = net::interface_table{}; // a host without interfaces, not even lo
  auto stack = std::make_shared<test_stack>(std::move(cfg));
  interface_spec spec;
  spec.name = "lo";
  spec.refresh_interval = {};
  spec.stack = stack;
  auto li = load_interface(rt.system(), spec);
  ASSERT_FALSE(li) << li->state.to_string();
  EXPECT_ERRC(li, errc::interface_not_found);
  EXPECT_GE(stack->interface_calls(), 1u);
  EXPECT_EQ(stack->pipe_calls(), 0u);
}

TEST(InterfaceStack, EveryProbeSocketIsAPipeOfTheStack) {
  runtime rt;
  auto srv = start_loopback_stun_server(rt);
  ASSERT_OK(srv);
  auto stack = sim_stack();
  interface_spec spec;
  spec.name = "sim0";
  spec.stun_servers = {srv->addrs.address_of({}), srv->addrs.address_of({true, false})};
  spec.nat_servers = {srv->addrs.address_of({})};
  spec.delta_samples = 3;
  spec.refresh_interval = {};
  spec.stack = stack;
  auto li = load_interface(rt.system(), spec);
  ASSERT_OK(li);
  auto& s = li->state;
  EXPECT_EQ(s.name, "sim0");
  EXPECT_EQ(s.index, sim_index);
  auto* r = s.route(fam_v4);
  ASSERT_NE(r, nullptr) << s.to_string();
  EXPECT_TRUE(r->has_nic_ip(ip("10.254.0.7"))) << s.to_string();
  // The servers saw the stack's socket (on loopback), not one on 10.254.0.7,
  // which the host could not have bound.
  ASSERT_EQ(r->ext_ips.size(), 1u) << s.to_string();
  EXPECT_EQ(r->ext_ips[0].network(), ip("127.0.0.1"));
  EXPECT_EQ(s.nat(fam_v4).nat, net::nat_type::open_internet) << s.to_string();
  // One socket for the external address, one for the NAT tests, one per
  // delta sample: all asked of the stack, all on the NIC it reported.
  auto specs = stack->specs();
  EXPECT_EQ(specs.size(), 1u + 1u + spec.delta_samples + spec.consecutive_samples)
    << s.to_string();
  EXPECT_TRUE(std::all_of(specs.begin(), specs.end(), [](const pipe_spec& p) {
    return p.local && p.local->ip == ip("10.254.0.7");
  }));
  // The delta sample ports are drawn from the stack's seed.
  EXPECT_GE(stack->seed_calls(), 1u);
  EXPECT_GE(stack->interface_calls(), 1u);
}

TEST(InterfaceStack, ServerNamesAreResolvedByTheStacksResolver) {
  // Names the host cannot resolve, in the stack's name table: the actor
  // finds its servers only through the stack, and (with addresses and names
  // both answered by actors) hands no job to the blocking executor.
  runtime rt; // the STUN server's system
  auto srv = start_loopback_stun_server(rt);
  ASSERT_OK(srv);
  auto port = std::to_string(srv->addrs.primary_port);
  auto list = net::parse_server_list("stun stun-a.sim:" + port + "\nstun STUN-B.sim:" + port
                                     + "\nnat nat.sim:" + port + "\nstun gone.sim:1\n");
  ASSERT_TRUE(list) << list.error().what;
  test_stack::config cfg;
  cfg.table = one_nic_table("sim0", sim_index, {ip("10.254.0.7")});
  cfg.rewrite = [](pipe_spec& s) {
    if (s.local && s.local->ip == ip("10.254.0.7"))
      s.local->ip = ip("127.0.0.1");
  };
  cfg.names = name_table{{"stun-a.sim", {ip("127.0.0.1")}},
                         {"stun-b.sim", {ip("127.0.0.2")}},
                         {"nat.sim", {ip("127.0.0.1")}}};
  auto stack = std::make_shared<test_stack>(std::move(cfg));
  interface_spec spec;
  spec.name = "sim0";
  spec.delta_samples = 2;
  spec.refresh_interval = {};
  spec.stack = stack;
  add_servers(spec, *list);
  std::atomic<int> jobs{0};
  config sys_cfg;
  sys_cfg.executor = counting_inline_executor(jobs);
  caf::actor_system sys{sys_cfg};
  auto li = load_interface(sys, spec);
  ASSERT_OK(li);
  auto& s = li->state;
  auto* r = s.route(fam_v4);
  ASSERT_NE(r, nullptr) << s.to_string();
  ASSERT_EQ(r->ext_ips.size(), 1u) << s.to_string();
  EXPECT_EQ(r->ext_ips[0].network(), ip("127.0.0.1"));
  EXPECT_EQ(s.nat(fam_v4).nat, net::nat_type::open_internet) << s.to_string();
  ASSERT_EQ(s.unresolved.size(), 1u) << s.to_string();
  EXPECT_NE(s.unresolved[0].find("line 4: stun gone.sim:1: gone.sim: not in the name table"),
            std::string::npos)
    << s.unresolved[0];
  EXPECT_GE(stack->resolver_calls(), 1u);
  EXPECT_EQ(jobs.load(), 0);
}
