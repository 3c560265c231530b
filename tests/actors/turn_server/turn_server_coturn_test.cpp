// coturn's client, turnutils_uclient, against our TURN server on loopback:
// client-to-client sessions (-y) relayed through our allocations, with
// channels and with Send/Data indications (-s), without and with RTCP
// allocations (which reserve the port above with EVEN-PORT, then claim it).
#include "actors/turn_server/turn_server_fixture.hpp"

#include <regex>

#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

using namespace p2pd;
using namespace p2pd::test;

namespace {

class TurnServerCoturn : public turn_server_fixture {
protected:
  // Runs uclient with `flags` and `clients` sessions of 10 messages each
  // way; its log, or nothing when it did not end within 20 s.
  std::optional<std::string> run_uclient(std::vector<std::string> flags, int clients) {
    std::vector<std::string> argv{"turnutils_uclient"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    for (const auto& x : {"-u", user, "-w", password})
      argv.emplace_back(x);
    argv.insert(argv.end(), {"-p", std::to_string(addr.port), "-n", "10", "-m",
                             std::to_string(clients), "-L", "127.0.0.1", "127.0.0.1"});
    auto log = dir.path() + "/uclient.log";
    child_process proc;
    std::string why;
    if (!proc.start(argv, log, why)) {
      ADD_FAILURE() << why;
      return std::nullopt;
    }
    if (!proc.wait_exit(20000)) {
      ADD_FAILURE() << "turnutils_uclient did not end within 20 s: " << read_file(log);
      return std::nullopt;
    }
    return read_file(log);
  }

  // "tot_send_msgs=40, tot_recv_msgs=40" of the summary line: both counts.
  static std::optional<std::pair<int, int>> totals(const std::string& log) {
    std::smatch m;
    static const std::regex re{R"(start_mclient: tot_send_msgs=(\d+), tot_recv_msgs=(\d+)\n)"};
    if (!std::regex_search(log, m, re))
      return std::nullopt;
    return std::make_pair(std::stoi(m[1]), std::stoi(m[2]));
  }

  void SetUp() override {
    if (!have_program("turnutils_uclient"))
      GTEST_SKIP() << "turnutils_uclient is not installed (coturn, scripts/install-deps.sh)";
    // A range, so that EVEN-PORT finds even ports with a free one above.
    auto spec = base_spec();
    auto lo = free_port(udp);
    spec.relay_port_min = static_cast<uint16_t>(std::min<int>(lo, 60000) & ~1);
    spec.relay_port_max = static_cast<uint16_t>(spec.relay_port_min + 199);
    start(spec);
  }

  temp_dir dir{"p2pd-uclient-"};
};

TEST_F(TurnServerCoturn, UclientSessionsRelayEveryMessageThroughChannels) {
  auto log = run_uclient({"-y", "-c"}, 4);
  ASSERT_TRUE(log);
  auto t = totals(*log);
  ASSERT_TRUE(t) << *log;
  EXPECT_EQ(t->first, 40) << *log;
  EXPECT_EQ(t->second, 40) << *log;
  EXPECT_TRUE(contains(*log, "Total lost packets 0 ")) << *log;
  EXPECT_FALSE(contains(*log, "ERROR")) << *log;
  auto s = stats();
  EXPECT_GE(s.allocated, 4u); // one per session at least
  EXPECT_GE(s.to_peers, 40u);
  EXPECT_GE(s.to_clients, 40u);
}

TEST_F(TurnServerCoturn, UclientSessionsWithRtcpAllocationsRelayEveryMessage) {
  auto log = run_uclient({"-y"}, 2);
  ASSERT_TRUE(log);
  auto t = totals(*log);
  ASSERT_TRUE(t) << *log;
  // RTP and RTCP: twice the messages of the sessions without -c.
  EXPECT_EQ(t->first, 40) << *log;
  EXPECT_EQ(t->second, 40) << *log;
  EXPECT_TRUE(contains(*log, "Total lost packets 0 ")) << *log;
  EXPECT_FALSE(contains(*log, "ERROR")) << *log;
  auto s = stats();
  EXPECT_EQ(s.refused_capacity, 0u);
  EXPECT_GE(s.allocated, 4u);
}

TEST_F(TurnServerCoturn, UclientSessionsRelayEveryMessageThroughIndications) {
  auto log = run_uclient({"-y", "-c", "-s"}, 2);
  ASSERT_TRUE(log);
  auto t = totals(*log);
  ASSERT_TRUE(t) << *log;
  EXPECT_EQ(t->first, 20) << *log;
  EXPECT_EQ(t->second, 20) << *log;
  EXPECT_TRUE(contains(*log, "Total lost packets 0 ")) << *log;
  EXPECT_EQ(stats().channels, 0u);
}

TEST_F(TurnServerCoturn, UclientWithAWrongPasswordCannotAllocate) {
  auto spec_user = std::string{user};
  std::vector<std::string> argv{"turnutils_uclient", "-y", "-c", "-u", spec_user, "-w",
                                "wrong", "-p", std::to_string(addr.port), "-n", "1", "-m",
                                "1", "-L", "127.0.0.1", "127.0.0.1"};
  auto log = dir.path() + "/uclient.log";
  child_process proc;
  std::string why;
  ASSERT_TRUE(proc.start(argv, log, why)) << why;
  ASSERT_TRUE(proc.wait_exit(20000)) << read_file(log);
  EXPECT_TRUE(contains(read_file(log), "Cannot complete Allocation")) << read_file(log);
  auto s = stats();
  EXPECT_GE(s.auth_failed, 1u);
  EXPECT_EQ(s.allocated, 0u);
}

} // namespace
