// The STUN server and its network stack: every socket it opens, the port
// probes that find free ports included, is a pipe of stun_server_spec::stack;
// a plan needs its ports given.
#include <algorithm>
#include <memory>

#include "support/expect.hpp"
#include "support/pipes.hpp"
#include "support/stun_server.hpp"
#include "support/test_stack.hpp"
#include "support/values.hpp"

#include "p2pd/actors/stun/stun_client.hpp"
#include "p2pd/actors/stun/stun_server.hpp"
#include "p2pd/api/blocking.hpp"

using namespace p2pd;
using namespace p2pd::test;

namespace {

// One binding to `to` from a new client pipe of `rt`.
caf::expected<stun_binding> binding(runtime& rt, const endpoint& to) {
  auto p = rt.connect(udp, to);
  if (!p)
    return p.error();
  caf::scoped_actor self{rt.system()};
  auto client = spawn_stun_client(rt.system(), loopback_stun_timing());
  caf::expected<stun_binding> out{make_error(errc::io_failed, "no answer")};
  self->request(client, stun_deadline(loopback_stun_timing(), udp), stun_atom::value,
                stun_query{p->handle(), to, {}, false})
    .receive([&](stun_binding& b) { out = std::move(b); },
             [&](caf::error& err) { out = std::move(err); });
  self->send_exit(client, caf::exit_reason::user_shutdown);
  return out;
}

} // namespace

TEST(StunServerStack, FreePortsAndEveryPipeComeFromTheStack) {
  runtime rt;
  auto stack = std::make_shared<test_stack>();
  auto spec = loopback_stun_spec(true);
  spec.stack = stack;
  auto srv = start_stun_server(rt, spec);
  ASSERT_OK(srv);
  EXPECT_NE(srv->addrs.primary_port, 0);
  ASSERT_TRUE(srv->addrs.alt_port);
  EXPECT_NE(*srv->addrs.alt_port, 0);
  EXPECT_NE(*srv->addrs.alt_port, srv->addrs.primary_port);
  ASSERT_EQ(srv->pipes.size(), 8u); // 2 IPs x 2 ports x UDP and TCP
  // Two port probes on port 0 of the primary IP, then the server's pipes on
  // the ports they found (more if a port was taken on 127.0.0.2: a retry).
  auto specs = stack->specs();
  ASSERT_GE(specs.size(), 10u);
  for (size_t i : {0u, 1u}) {
    ASSERT_TRUE(specs[i].local);
    EXPECT_EQ(*specs[i].local, at("127.0.0.1", 0));
  }
  EXPECT_TRUE(std::all_of(specs.begin() + 2, specs.end(), [](const pipe_spec& s) {
    return s.local && s.local->port != 0;
  }));
  auto b = binding(rt, srv->addrs.address_of({}));
  ASSERT_OK(b);
  EXPECT_EQ(b->other_address, srv->addrs.address_of({true, true}));
}

TEST(StunServerStack, GivenPortsNeedNoProbe) {
  runtime rt;
  std::shared_ptr<test_stack> stack;
  net::stun_server_addrs ports;
  auto try_once = [&]() -> caf::expected<stun_server> {
    {
      runtime first; // ports the kernel just gave, freed when it ends (UDP only)
      auto free = start_loopback_stun_server(first);
      if (!free)
        return free.error();
      ports = free->addrs;
    }
    stack = std::make_shared<test_stack>();
    auto spec = loopback_stun_spec(false);
    spec.addrs = ports;
    spec.stack = stack;
    return start_stun_server(rt, spec);
  };
  // Another process may take a freed port in between: a port in use means
  // another try (three in all).
  auto srv = try_once();
  for (int attempt = 1; attempt < 3 && !srv && code_of(srv.error()) == errc::bind_failed;
       ++attempt)
    srv = try_once();
  ASSERT_OK(srv);
  EXPECT_EQ(srv->addrs.primary_port, ports.primary_port);
  // The server's four UDP pipes and nothing else: no probe on port 0.
  auto specs = stack->specs();
  EXPECT_EQ(specs.size(), 4u);
  EXPECT_TRUE(std::none_of(specs.begin(), specs.end(), [](const pipe_spec& s) {
    return !s.local || s.local->port == 0;
  }));
}

TEST(StunServerStack, APlanWithoutItsPortsIsRefused) {
  runtime rt;
  auto plan = plan_stun_server(rt.system(), loopback_stun_spec(false));
  ASSERT_FALSE(plan);
  EXPECT_ERRC(plan, errc::invalid_argument);
}

TEST(StunServerStack, AnAddressNotOnThisHostFailsWithoutRetrying) {
  runtime rt;
  auto stack = std::make_shared<test_stack>();
  auto spec = loopback_stun_spec(false);
  spec.addrs.primary_ip = ip("192.0.2.55"); // TEST-NET-1: no interface has it
  spec.addrs.alt_ip = ip("192.0.2.56");
  spec.stack = stack;
  auto srv = start_stun_server(rt, spec);
  ASSERT_FALSE(srv);
  EXPECT_ERRC(srv, errc::bind_failed);
  EXPECT_EQ(stack->pipe_calls(), 1u); // the first probe, once
}
