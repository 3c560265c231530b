// `p2pd netcheck` against miniupnpd in namespaces (support/miniupnpd_fixture,
// the router's table read as the port mapper's tests do):
// a SIGINT while the check holds port mappings at the gateway deletes them
// before the program ends. miniupnpd answers PCP and NAT-PMP and has UPnP
// off, so the check waits for UPnP's discovery (2 s) with the others'
// mappings made: the signal comes then.

#include <csignal>

#include <gtest/gtest.h>

#include "actors/portmap/portmap_fixture.hpp"
#include "support/child_process.hpp"
#include "support/files.hpp"
#include "support/miniupnpd_fixture.hpp"
#include "support/temp_dir.hpp"

namespace p2pd::test {

TEST(NetcheckPortmap, ASigintWhileMappingsAreHeldDeletesThem) {
  std::string why;
  miniupnpd_options opts;
  opts.upnp = false;
  auto lab = miniupnpd_lab::start(why, opts);
  if (!lab && (not_installed(why) || why.find("needs root") != std::string::npos))
    GTEST_SKIP() << why;
  ASSERT_TRUE(lab) << why;
  temp_dir dir;
  auto log = dir.path() + "/netcheck.log";
  child_process netcheck;
  ASSERT_TRUE(netcheck.start({"ip", "netns", "exec", lab->client_ns(), P2PD_CLI, "netcheck",
                              "--interfaces", "eth0"},
                             log, why))
    << why;
  ASSERT_TRUE(router_table_becomes(*lab, std::chrono::seconds(10),
                              [](const std::vector<router_mapping>& m) { return !m.empty(); }))
    << read_file(log) << lab->log();
  ASSERT_TRUE(netcheck.alive()) << "the check ended before the signal: " << read_file(log);
  ::kill(netcheck.pid(), SIGINT);
  EXPECT_TRUE(netcheck.wait_exit(10000)) << read_file(log);
  EXPECT_NE(read_file(log).find("stopped by a signal"), std::string::npos) << read_file(log);
  // Deleted by the program (PCP/NAT-PMP with lifetime 0), not expired: the
  // mappings were asked for 30 s.
  EXPECT_TRUE(router_table_becomes(*lab, std::chrono::seconds(3),
                              [](const std::vector<router_mapping>& m) { return m.empty(); }))
    << read_file(log) << lab->log();
}

} // namespace p2pd::test
