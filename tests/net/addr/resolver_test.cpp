// Name resolution with a deadline: many names at once, each answered or
// refused with its reason within dns_timeout, against a resolver that does
// not answer (in a network and mount namespace of the test's own).
#include <chrono>

#include <gtest/gtest.h>

#include "support/fake_dns.hpp"
#include "support/netns.hpp"

#include "p2pd/net/addr/resolver.hpp"
#include "p2pd/net/util/server_list.hpp"

using namespace p2pd;
using namespace p2pd::net;
using namespace p2pd::test;
using namespace std::chrono_literals;

namespace {

// glibc's own wait (5 s, twice) is far longer than the deadline the tests
// give, so only resolve_hosts' deadline can end the wait in time.
const char* silent_resolv_conf = "nameserver 127.0.0.1\noptions timeout:5 attempts:2\n";

} // namespace

TEST(ResolveHosts, LiteralsAndSpecialNamesNeedNoQuery) {
  auto t0 = std::chrono::steady_clock::now();
  auto rs = resolve_hosts({"127.0.0.1", "localhost", "x.invalid", "::1"}, 2000ms);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 500ms);
  ASSERT_EQ(rs.size(), 4u);
  EXPECT_TRUE(rs[0]);
  EXPECT_TRUE(rs[1]);
  ASSERT_FALSE(rs[2]);
  EXPECT_EQ(rs[2].error().code, errc::resolve_failed);
  ASSERT_TRUE(rs[3]);
  EXPECT_EQ((*rs[3])[0].to_string(), "::1");
}

TEST(ResolveHosts, SilentResolverTimesOutWithinDnsTimeoutAndNxdomainIsTold) {
  P2PD_SKIP_UNLESS_NETNS();
  auto out = run_in_new_netns([]() -> std::string {
    if (auto err = sh("ip link set lo up"); !err.empty())
      return err;
    if (auto err = use_resolv_conf(silent_resolv_conf); !err.empty())
      return err;
    fake_dns dns{{"gone.example"}};
    if (!dns.error().empty())
      return dns.error();
    auto list = parse_server_list("stun silent-a.example:3478\n"
                                  "stun silent-b.example:19302\n"
                                  "nat silent-c.example:3478\n"
                                  "nat gone.example:3478\n"
                                  "stun 127.0.0.1:3478\n"
                                  "mqtt tcp://silent-d.example:1883\n");
    if (!list)
      return list.error().what;
    child_checks checks;
    auto t0 = std::chrono::steady_clock::now();
    auto rs = resolve_servers(*list, 500ms);
    auto took = std::chrono::steady_clock::now() - t0;
    // About dns_timeout, not one timeout per name, not glibc's 10 s.
    NETNS_EXPECT(checks, took >= 450ms);
    NETNS_EXPECT(checks, took < 1500ms);
    NETNS_EXPECT(checks, rs.took >= 450ms && rs.took < 1500ms);
    NETNS_EXPECT(checks, dns.queries() > 0); // the names really went to the resolver
    NETNS_EXPECT_EQ(checks, rs.of(server_kind::stun).size(), size_t{1});
    NETNS_EXPECT_EQ(checks, rs.unresolved.size(), size_t{4}); // mqtt is not resolved here
    for (const auto& u : rs.unresolved) {
      auto text = u.to_string();
      if (u.entry.host == "gone.example") {
        // Answered while the silent names before it were still waiting: in parallel.
        NETNS_EXPECT(checks, u.why.code == errc::resolve_failed);
        NETNS_EXPECT(checks, text.find("NXDOMAIN") != std::string::npos);
        NETNS_EXPECT(checks, text.find("line 4: nat gone.example:3478") != std::string::npos);
      } else {
        NETNS_EXPECT(checks, u.why.code == errc::resolve_timeout);
        NETNS_EXPECT(checks, text.find("no answer within 500 ms") != std::string::npos);
      }
    }
    return checks.failures();
  });
  EXPECT_TRUE(out.ok) << out.report;
}
