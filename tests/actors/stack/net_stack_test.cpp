#include "p2pd/actors/stack/net_stack.hpp"

#include <gtest/gtest.h>

#include "p2pd/actors/stack/open_pipe_on.hpp"
#include "p2pd/api/runtime.hpp"

#include "support/expect.hpp"
#include "support/test_stack.hpp"

using namespace p2pd;

TEST(OsStack, IsOneSharedInstanceNamedOs) {
  EXPECT_EQ(os_stack(), os_stack());
  EXPECT_EQ(os_stack()->name(), "os");
}

TEST(OsStack, ListsThisHostsInterfacesWithLoopback) {
  auto table = os_stack()->interfaces();
  ASSERT_OK(table);
  bool loopback = false;
  for (auto& nic : table->interfaces)
    for (auto& a : nic.addrs)
      loopback = loopback || a.ip.is_loopback();
  EXPECT_TRUE(loopback);
}

TEST(OsStack, ReadsTheSystemClock) {
  // 2026-01-01 in Unix ms: a clock that reads less is not the system's.
  EXPECT_GT(os_stack()->unix_ms(), 1'767'225'600'000);
}

TEST(OsStack, SpawnsPipesThatOpenOnRequest) {
  runtime rt;
  auto spec = server_spec(tcp, endpoint{net::ip_address::loopback(net::family::v4), 0});
  auto p = os_stack()->spawn_pipe(rt.system(), spec);
  auto opened = rt.open(p, spec);
  ASSERT_OK(opened);
  EXPECT_NE(opened->local().port, 0);
  EXPECT_FALSE(opened->close());
}

TEST(OsStack, ReadsNanosecondsOfTheSameClock) {
  auto ms = os_stack()->unix_ms();
  auto ns = os_stack()->unix_ns();
  EXPECT_GE(ns / 1'000'000, ms);
  EXPECT_LT(ns / 1'000'000 - ms, 1'000); // read within a second of each other
}

namespace {

// A stack that knows only milliseconds, as a simulated host may.
class ms_stack : public net_stack {
public:
  std::string name() const override { return "ms"; }
  pipe_actor spawn_pipe(caf::actor_system& sys, pipe_spec spec) const override {
    return os_stack()->spawn_pipe(sys, std::move(spec));
  }
  net::result<net::interface_table> interfaces() const override { return os_stack()->interfaces(); }
  int64_t unix_ms() const override { return 1'767'225'600'123; }
  uint64_t rng_seed() const override { return 7; }
};

} // namespace

TEST(NetStack, NanosecondsDefaultToTheMillisecondClock) {
  EXPECT_EQ(ms_stack{}.unix_ns(), 1'767'225'600'123'000'000);
}

TEST(OsStack, StandsInForANullStack) {
  EXPECT_EQ(&stack_or_os(nullptr), os_stack().get());
  auto other = std::make_shared<test::test_stack>();
  EXPECT_EQ(&stack_or_os(other), other.get());
}

TEST(OpenPipeOn, SpawnsThePipeOnTheStackAndOpensIt) {
  runtime rt;
  auto stack = std::make_shared<test::test_stack>();
  caf::scoped_actor self{rt.system()};
  auto opened = open_pipe_on(self, *stack,
                             server_spec(udp, endpoint{net::ip_address::loopback(net::family::v4), 0}));
  ASSERT_OK(opened);
  EXPECT_NE(opened->local.port, 0);
  EXPECT_EQ(stack->pipe_calls(), 1u);
  caf::anon_send(opened->pipe, caf::close_atom::value);
}
