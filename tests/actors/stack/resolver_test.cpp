// The resolvers a network stack gives: this host's (getaddrinfo as a
// blocking job) and the name table a simulated network answers from. Only
// names that need no query: literals, "localhost", "*.invalid" (RFC 6761).
#include <chrono>
#include <string>
#include <vector>

#include "support/expect.hpp"
#include "support/test_stack.hpp"
#include "support/values.hpp"

#include "p2pd/actors/stack/os_resolver.hpp"
#include "p2pd/actors/stack/table_resolver.hpp"
#include "p2pd/api/runtime.hpp"

using namespace p2pd;
using namespace p2pd::test;
using namespace std::chrono_literals;

namespace {

caf::expected<resolved_hosts> ask(caf::actor_system& sys, const resolver_actor& r,
                                  std::vector<std::string> hosts, caf::timespan timeout = 2s) {
  caf::scoped_actor self{sys};
  caf::expected<resolved_hosts> out{make_error(errc::io_failed, "no answer")};
  self->request(r, timeout + 5s, resolve_atom::value, std::move(hosts), timeout)
    .receive([&](resolved_hosts& x) { out = std::move(x); },
             [&](caf::error& err) { out = std::move(err); });
  return out;
}

} // namespace

TEST(OsResolver, AnswersEveryHostInTheOrderAsked) {
  runtime rt;
  auto r = ask(rt.system(), spawn_os_resolver(rt.system()),
               {"127.0.0.2", "localhost", "nowhere.invalid", "::1"});
  ASSERT_OK(r);
  ASSERT_EQ(r->answers.size(), 4u);
  ASSERT_TRUE(r->answers[0]);
  EXPECT_EQ(*r->answers[0], std::vector<net::ip_address>{ip("127.0.0.2")});
  ASSERT_TRUE(r->answers[1]);
  EXPECT_EQ(r->answers[1]->front(), ip("127.0.0.1"));
  ASSERT_FALSE(r->answers[2]);
  EXPECT_EQ(r->answers[2].error().code, net::errc::resolve_failed);
  ASSERT_TRUE(r->answers[3]);
  EXPECT_EQ(*r->answers[3], std::vector<net::ip_address>{ip("::1")});
}

TEST(OsResolver, IsWhatTheOsStackAndAStackWithoutOneGive) {
  runtime rt;
  auto r = ask(rt.system(), os_stack()->resolver(rt.system()), {"localhost"});
  ASSERT_OK(r);
  ASSERT_EQ(r->answers.size(), 1u);
  EXPECT_TRUE(r->answers[0]);
}

TEST(TableResolver, AnswersNamesOfItsTableWithoutRegardToCase) {
  runtime rt;
  name_table names{{"stun.sim", {ip("::1"), ip("10.0.0.1"), ip("10.0.0.2")}}};
  auto r = ask(rt.system(), spawn_table_resolver(rt.system(), names), {"STUN.Sim"});
  ASSERT_OK(r);
  ASSERT_EQ(r->answers.size(), 1u);
  ASSERT_TRUE(r->answers[0]);
  // IPv4 first, as the OS resolver orders them.
  EXPECT_EQ(*r->answers[0],
            (std::vector<net::ip_address>{ip("10.0.0.1"), ip("10.0.0.2"), ip("::1")}));
}

TEST(TableResolver, ALiteralIsItselfAndAnUnknownNameFails) {
  runtime rt;
  auto r = ask(rt.system(), spawn_table_resolver(rt.system(), {}),
               {"192.0.2.9", "localhost", "gone.sim"});
  ASSERT_OK(r);
  ASSERT_EQ(r->answers.size(), 3u);
  ASSERT_TRUE(r->answers[0]);
  EXPECT_EQ(*r->answers[0], std::vector<net::ip_address>{ip("192.0.2.9")});
  // Not even "localhost": a simulated host knows what its table says.
  for (size_t i : {1u, 2u}) {
    ASSERT_FALSE(r->answers[i]);
    EXPECT_EQ(r->answers[i].error().code, net::errc::resolve_failed);
  }
  EXPECT_NE(r->answers[2].error().what.find("gone.sim: not in the name table"),
            std::string::npos);
}

TEST(TestStack, ResolvesFromItsNameTableNotTheHost) {
  runtime rt;
  test_stack::config cfg;
  cfg.names = name_table{{"stun.sim", {ip("127.0.0.7")}}};
  test_stack stack{std::move(cfg)};
  auto r = ask(rt.system(), stack.resolver(rt.system()), {"stun.sim"});
  ASSERT_OK(r);
  ASSERT_EQ(r->answers.size(), 1u);
  ASSERT_TRUE(r->answers[0]);
  EXPECT_EQ(*r->answers[0], std::vector<net::ip_address>{ip("127.0.0.7")});
  EXPECT_EQ(stack.resolver_calls(), 1u);
}
