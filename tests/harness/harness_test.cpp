// The distributed harness on loopback: agent processes (tools/harness
// p2pd_agent, started here on free ports and stopped after) driven by the
// controller's library over CAF's middleman. Agents connect directly and
// their reports are collected; the middleman listens only where it is told;
// a wrong token is refused; an agent killed mid-run gives an error row, not
// a hang. And the scenario's text format, with bad input.
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "support/child_process.hpp"
#include "support/temp_dir.hpp"
#include "support/tls_certs.hpp"

#include "client.hpp"
#include "driver.hpp"
#include "host_port.hpp"
#include "matrix.hpp"
#include "messages.hpp"
#include "scenario.hpp"
#include "tls.hpp"
#include "token.hpp"

#include "p2pd/p2pd.hpp"

using namespace p2pd;
using namespace p2pd::test;
using namespace std::chrono_literals;

namespace {

std::string random_hex(size_t bytes) {
  std::ifstream in{"/dev/urandom", std::ios::binary};
  std::string out;
  const char* digits = "0123456789abcdef";
  for (size_t i = 0; i < bytes; ++i) {
    auto c = static_cast<unsigned char>(in.get());
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::string text_of(const std::string& path) {
  std::ifstream in{path};
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A TCP listener on 127.0.0.1 that never accepts and never speaks: the
// kernel completes connects to it (its backlog), nothing answers.
struct silent_listener {
  silent_listener() {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(sa);
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&sa), len) != 0 || ::listen(fd, 8) != 0
        || ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0)
      return;
    port = ntohs(sa.sin_port);
  }
  ~silent_listener() {
    for (int c : clients)
      ::close(c);
    if (fd >= 0)
      ::close(fd);
  }
  /// Accepts (and keeps, silent) until `n` clients came, within `limit`.
  bool await_clients(size_t n, std::chrono::milliseconds limit) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (clients.size() < n) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        end - std::chrono::steady_clock::now());
      if (left.count() <= 0)
        return false;
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) > 0)
        if (int c = ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC); c >= 0)
          clients.push_back(c);
    }
    return true;
  }
  int fd = -1;
  std::vector<int> clients;
  uint16_t port = 0; ///< 0: it could not be made
};

// The controller's actor system: p2pd's config with the harness's types.
struct controller_config : p2pd::config {
  controller_config() { harness::register_harness_types(*this); }
};

// A controller over TLS: its certificate files in `dir` (use_tls).
struct tls_controller_config : controller_config {
  explicit tls_controller_config(const std::string& dir) { err = harness::use_tls(*this, dir); }
  caf::error err;
};

// DIR/cert.pem, key.pem, ca.pem from a test PKI's files.
std::string tls_dir(const std::string& parent, const std::string& name,
                    const test::cert_pair& own, const std::string& ca) {
  namespace fs = std::filesystem;
  auto dir = parent + "/" + name;
  fs::create_directories(dir);
  fs::copy_file(own.cert, dir + "/cert.pem");
  fs::copy_file(own.key, dir + "/key.pem");
  fs::copy_file(ca, dir + "/ca.pem");
  return dir;
}

struct agent_proc {
  std::string name;
  std::string log;
  harness::host_port where;
  child_process proc;
};

class HarnessLoopback : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_TRUE(dir);
    token = random_hex(16);
    token_file = dir.path() + "/token";
    std::ofstream{token_file} << token << '\n';
  }

  // An agent on 127.0.0.1 and a free port, once it says where it listens.
  agent_proc* start_agent(const std::string& name, std::vector<std::string> extra = {}) {
    auto a = std::make_unique<agent_proc>();
    a->name = name;
    a->log = dir.path() + "/" + name + ".log";
    std::vector<std::string> argv{P2PD_AGENT_BIN, "--listen", "127.0.0.1:0", "--name", name,
                                  "--token-file", token_file, "--data-dir",
                                  dir.path() + "/" + name, "--interfaces", "lo",
                                  "--max-wait", "60"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    std::string why;
    if (!a->proc.start(argv, a->log, why)) {
      ADD_FAILURE() << why;
      return nullptr;
    }
    if (!a->proc.wait_for_text(a->log, "listening ", 0, 10000)) {
      ADD_FAILURE() << name << " did not say where it listens: " << text_of(a->log);
      return nullptr;
    }
    auto log = text_of(a->log);
    auto at = log.find("listening ") + 10;
    auto where = harness::parse_host_port(log.substr(at, log.find(' ', at) - at), false, why);
    if (!where) {
      ADD_FAILURE() << why << " in " << log;
      return nullptr;
    }
    a->where = *where;
    agents.push_back(std::move(a));
    return agents.back().get();
  }

  harness::scenario plan(const std::vector<std::pair<std::string, std::string>>& pairs,
                         uint32_t runs) {
    harness::scenario s;
    for (auto& a : agents)
      s.agents.push_back({a->name, a->where, a->name});
    for (auto& [x, y] : pairs) {
      harness::pair_entry p;
      p.first = x;
      p.second = y;
      p.strategies = "direct";
      p.runs = runs;
      s.pairs.push_back(p);
    }
    return s;
  }

  temp_dir dir{"p2pd-harness-"};
  std::string token;
  std::string token_file;
  std::vector<std::unique_ptr<agent_proc>> agents;
  controller_config cfg;
  caf::actor_system sys{cfg};
  std::ostringstream log; // the driver's progress, printed on failure
};

TEST_F(HarnessLoopback, AgentsConnectDirectlyAndTheirReportsAreCollected) {
  for (auto name : {"a1", "a2", "a3"})
    ASSERT_NE(start_agent(name), nullptr);
  harness::driver d{sys, plan({{"a1", "a2"}, {"a2", "a3"}, {"a1", "a3"}}, 2), token, log};
  ASSERT_TRUE(d.connect_all(3s).empty()) << log.str();
  auto rows = d.run();
  ASSERT_EQ(rows.size(), 6u) << log.str();
  for (auto& r : rows) {
    SCOPED_TRACE(harness::result_line(r));
    EXPECT_TRUE(r.ok()) << log.str();
    EXPECT_EQ(r.connect.strategy, "direct");
    EXPECT_EQ(r.connect.path, "same-host");
    EXPECT_EQ(r.connect.transport, "tcp");
    EXPECT_FALSE(r.connect.attempts.empty());
    EXPECT_TRUE(r.answered);
    // Odd runs from the pair's first agent, even runs from its second.
    EXPECT_EQ(r.from, r.run % 2 == 1 ? r.first : r.second);
  }
  std::vector<std::string> differences;
  auto md = harness::matrix_markdown(rows, d.plan(), nullptr, differences);
  EXPECT_NE(md.find("| a1 - a2 | - | 2/2 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| a1 |  | - ✓ | - ✓ |"), std::string::npos) << md; // the glance row of a1
  EXPECT_NE(harness::result_line(rows[0]).find(" ok=1 strategy=direct "), std::string::npos);
  // Each agent's node on loopback: no NAT seen (no servers).
  auto sites = harness::sites_markdown(d.plan(), d.facts());
  EXPECT_NE(sites.find("| a2 | a2 | unknown | unknown/0 | none | "), std::string::npos) << sites;
  // Quit: every agent process ends, with exit code 0.
  d.quit_all();
  for (auto& a : agents)
    EXPECT_TRUE(a->proc.wait_exit(10000)) << a->name << " still runs after quit";
}

TEST_F(HarnessLoopback, PairsOnDistinctAgentsRunSideBySideAndKeepTheirOrder) {
  for (auto name : {"a1", "a2", "a3", "a4"})
    ASSERT_NE(start_agent(name), nullptr);
  // a1 - a2 and a3 - a4 go side by side; a1 - a3 waits for both.
  harness::driver d{sys, plan({{"a1", "a2"}, {"a3", "a4"}, {"a1", "a3"}}, 2), token, log};
  ASSERT_TRUE(d.connect_all(3s).empty()) << log.str();
  auto rows = d.run(2);
  ASSERT_EQ(rows.size(), 6u) << log.str();
  const char* pairs[] = {"a1 - a2", "a1 - a2", "a3 - a4", "a3 - a4", "a1 - a3", "a1 - a3"};
  for (size_t i = 0; i < rows.size(); ++i) {
    SCOPED_TRACE(harness::result_line(rows[i]));
    EXPECT_TRUE(rows[i].ok()) << log.str();
    EXPECT_EQ(rows[i].pair, pairs[i]);
    EXPECT_EQ(rows[i].run, i % 2 + 1);
  }
  d.quit_all();
}

TEST_F(HarnessLoopback, TheMiddlemanListensOnlyOnTheAddressAsked) {
  auto a = start_agent("a1");
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->where.host, "127.0.0.1");
  // 127.0.0.2 is loopback too, but not the address the agent was given.
  auto other = a->where;
  other.host = "127.0.0.2";
  auto refused = harness::connect_agent(sys, other, 2000ms);
  ASSERT_FALSE(refused);
  EXPECT_EQ(code_of(refused.error()), errc::connect_refused) << render(refused.error());
  EXPECT_TRUE(harness::connect_agent(sys, a->where, 2000ms));
  // A wildcard is refused before anything listens.
  child_process wild;
  std::string why;
  auto log = dir.path() + "/wild.log";
  ASSERT_TRUE(wild.start({P2PD_AGENT_BIN, "--listen", "0.0.0.0:0", "--token-file", token_file,
                          "--data-dir", dir.path() + "/wild"},
                         log, why))
    << why;
  ASSERT_TRUE(wild.wait_exit(10000));
  EXPECT_NE(text_of(log).find("wildcard"), std::string::npos) << text_of(log);
}

TEST_F(HarnessLoopback, APeerThatNeverSpeaksTheMiddlemansProtocolDoesNotHoldTheController) {
  silent_listener peer;
  ASSERT_NE(peer.port, 0);
  auto t0 = std::chrono::steady_clock::now();
  auto hdl = harness::connect_agent(sys, {"127.0.0.1", peer.port}, 1500ms);
  auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(hdl);
  EXPECT_EQ(code_of(hdl.error()), errc::connect_timeout) << render(hdl.error());
  EXPECT_LT(took, 5s);
}

TEST_F(HarnessLoopback, OverTlsOnlyAControllerCertifiedByTheAgentsCaGetsIn) {
  std::string why;
  auto pki = tls_test_certs::make(why);
  ASSERT_TRUE(pki) << why;
  auto agent_dir = tls_dir(dir.path(), "agent-tls", pki->server, pki->ca.cert);
  for (auto name : {"a1", "a2"})
    ASSERT_NE(start_agent(name, {"--tls-dir", agent_dir}), nullptr);
  EXPECT_NE(text_of(agents[0]->log).find(" name=a1 tls"), std::string::npos);
  {
    tls_controller_config tls_cfg{tls_dir(dir.path(), "controller", pki->client, pki->ca.cert)};
    ASSERT_FALSE(tls_cfg.err) << render(tls_cfg.err);
    caf::actor_system tls_sys{tls_cfg};
    harness::driver d{tls_sys, plan({{"a1", "a2"}}, 1), token, log};
    ASSERT_TRUE(d.connect_all(3s).empty()) << log.str();
    auto rows = d.run();
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_TRUE(rows[0].ok()) << harness::result_line(rows[0]) << log.str();
    // The controller checks the agent too: one whose certificate the CA
    // did not sign is refused.
    auto impostor = start_agent(
      "a3", {"--tls-dir", tls_dir(dir.path(), "impostor", pki->self_signed, pki->ca.cert)});
    ASSERT_NE(impostor, nullptr);
    auto refused = harness::connect_agent(tls_sys, impostor->where, 3000ms);
    ASSERT_FALSE(refused);
    EXPECT_NE(render(refused.error()).find("handshake"), std::string::npos)
      << render(refused.error());
  }
  // Without TLS, and with a certificate no CA of the agent's signed: the
  // middleman's handshake fails, in time.
  auto plain = harness::connect_agent(sys, agents[0]->where, 3000ms);
  ASSERT_FALSE(plain);
  EXPECT_EQ(code_of(plain.error()), errc::connect_failed) << render(plain.error());
  tls_controller_config rogue_cfg{
    tls_dir(dir.path(), "rogue", pki->self_signed, pki->ca.cert)};
  ASSERT_FALSE(rogue_cfg.err);
  caf::actor_system rogue_sys{rogue_cfg};
  auto rogue = harness::connect_agent(rogue_sys, agents[0]->where, 3000ms);
  ASSERT_FALSE(rogue);
  EXPECT_NE(render(rogue.error()).find("handshake"), std::string::npos) << render(rogue.error());
  // A missing file is said before anything starts.
  controller_config bad;
  auto err = harness::use_tls(bad, dir.path() + "/nowhere");
  ASSERT_TRUE(err);
  EXPECT_NE(render(err).find("cert.pem"), std::string::npos) << render(err);
}

TEST_F(HarnessLoopback, AWrongTokenIsRefusedAndChangesNothing) {
  auto a = start_agent("a1");
  ASSERT_NE(a, nullptr);
  auto hdl = harness::connect_agent(sys, a->where, 2000ms);
  ASSERT_TRUE(hdl) << render(hdl.error());
  auto wrong = random_hex(16);
  auto hello = harness::ask_now<harness::agent_hello>(sys, *hdl, 5s, harness::hello_atom::value,
                                                      wrong);
  ASSERT_FALSE(hello);
  EXPECT_EQ(code_of(hello.error()), errc::auth_refused) << render(hello.error());
  auto start = harness::ask_now<harness::node_facts>(sys, *hdl, 5s, harness::start_atom::value,
                                                     wrong, harness::node_request{});
  ASSERT_FALSE(start);
  EXPECT_EQ(code_of(start.error()), errc::auth_refused) << render(start.error());
  auto quit = harness::ask_now<caf::ok_atom>(sys, *hdl, 5s, harness::quit_atom::value,
                                             std::string{});
  ASSERT_FALSE(quit);
  EXPECT_EQ(code_of(quit.error()), errc::auth_refused);
  // Nothing happened: no node runs, the agent is still there.
  auto right = harness::ask_now<harness::agent_hello>(sys, *hdl, 5s, harness::hello_atom::value,
                                                      token);
  ASSERT_TRUE(right) << render(right.error());
  EXPECT_EQ(right->name, "a1");
  EXPECT_FALSE(right->node_running);
  EXPECT_NE(text_of(a->log).find("refused a request with a wrong token (3 so far)"),
            std::string::npos)
    << text_of(a->log);
  // The controller with a wrong token: the agent is not reached, its runs
  // are error rows.
  ASSERT_NE(start_agent("a2"), nullptr);
  harness::driver d{sys, plan({{"a1", "a2"}}, 1), wrong, log};
  auto failed = d.connect_all(2000ms);
  ASSERT_EQ(failed.size(), 2u);
  EXPECT_NE(failed[0].find("auth_refused"), std::string::npos) << failed[0];
  auto rows = d.run();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_FALSE(rows[0].ok());
  EXPECT_NE(rows[0].error.find("not connected"), std::string::npos) << rows[0].error;
}

// A middleman peer needs no token to send an exit message: the agent drops
// one from another process, even exit_reason::kill (which no exit handler
// traps), and counts it.
TEST_F(HarnessLoopback, AnExitMessageFromAnotherProcessLeavesTheAgentRunning) {
  auto a = start_agent("a1");
  ASSERT_NE(a, nullptr);
  auto hdl = harness::connect_agent(sys, a->where, 2000ms);
  ASSERT_TRUE(hdl) << render(hdl.error());
  caf::anon_send_exit(*hdl, caf::exit_reason::kill);
  {
    caf::scoped_actor self{sys};
    self->send_exit(*hdl, caf::exit_reason::user_shutdown);
  }
  // Sent after the exits on the same connection: answered only if they
  // did not end the agent.
  auto hello = harness::ask_now<harness::agent_hello>(sys, *hdl, 5s, harness::hello_atom::value,
                                                      token);
  ASSERT_TRUE(hello) << render(hello.error()) << text_of(a->log);
  EXPECT_EQ(hello->name, "a1");
  EXPECT_TRUE(a->proc.wait_for_text(a->log, "message from outside this process (2 so far)", 0,
                                    5000))
    << text_of(a->log);
  EXPECT_EQ(text_of(a->log).find("ended"), std::string::npos) << text_of(a->log);
}

// Without TLS the token would cross the network in clear: the agent
// listens elsewhere than on loopback only with --tls-dir or --insecure.
TEST_F(HarnessLoopback, AnAgentRefusesANonLoopbackListenWithoutTls) {
  auto log = dir.path() + "/open.log";
  child_process p;
  std::string why;
  ASSERT_TRUE(p.start({P2PD_AGENT_BIN, "--listen", "192.0.2.1:0", "--token-file", token_file,
                       "--data-dir", dir.path() + "/open"},
                      log, why))
    << why;
  ASSERT_TRUE(p.wait_exit(10000)) << text_of(log);
  EXPECT_EQ(text_of(log).find("listening"), std::string::npos) << text_of(log);
  EXPECT_NE(text_of(log).find("not loopback"), std::string::npos) << text_of(log);
}

TEST_F(HarnessLoopback, AnAgentRefusesBadRequestsAndAFailedConnectIsARow) {
  auto a = start_agent("a1");
  ASSERT_NE(a, nullptr);
  auto hdl = harness::connect_agent(sys, a->where, 2000ms);
  ASSERT_TRUE(hdl) << render(hdl.error());
  auto connect = [&](harness::connect_request req) {
    return harness::ask_now<harness::connect_result>(sys, *hdl, 20s, harness::connect_atom::value,
                                                     token, req);
  };
  // No node yet.
  auto early = connect({"p2pd1_x", "direct", "", "", 5});
  ASSERT_FALSE(early);
  EXPECT_NE(render(early.error()).find("no node runs"), std::string::npos)
    << render(early.error());
  auto facts = harness::ask_now<harness::node_facts>(sys, *hdl, 30s, harness::start_atom::value,
                                                     token, harness::node_request{});
  ASSERT_TRUE(facts) << render(facts.error());
  EXPECT_EQ(facts->agent, "a1");
  EXPECT_EQ(facts->address.rfind("p2pd1_", 0), 0u) << facts->address;
  ASSERT_FALSE(facts->lines.empty());
  EXPECT_EQ(facts->lines[0].rfind("ready id=" + facts->id, 0), 0u) << facts->lines[0];
  // One node at a time.
  auto twice = harness::ask_now<harness::node_facts>(sys, *hdl, 30s, harness::start_atom::value,
                                                     token, harness::node_request{});
  ASSERT_FALSE(twice);
  EXPECT_NE(render(twice.error()).find("a node runs already"), std::string::npos);
  // Options that are not words of p2p_node's.
  auto fly = connect({facts->address, "fly", "", "", 5});
  ASSERT_FALSE(fly);
  EXPECT_NE(render(fly.error()).find("'fly' is not a strategy"), std::string::npos)
    << render(fly.error());
  auto sctp = connect({facts->address, "direct", "", "sctp", 5});
  ASSERT_FALSE(sctp);
  EXPECT_EQ(code_of(sctp.error()), errc::invalid_argument);
  // An address that does not parse: the node refuses the connect, and that
  // is a result (a row of the matrix), with the reason.
  auto junk = connect({"p2pd1_not-an-address", "direct", "", "", 5});
  ASSERT_TRUE(junk) << render(junk.error());
  EXPECT_FALSE(junk->ok);
  EXPECT_FALSE(junk->error.empty());
  // An echo to a peer it has no connection with fails with the reason.
  auto echo = harness::ask_now<harness::echo_result>(
    sys, *hdl, 15s, harness::echo_atom::value, token, harness::echo_request{"nobody", "hi", 5});
  ASSERT_FALSE(echo);
  EXPECT_NE(render(echo.error()).find("echo"), std::string::npos) << render(echo.error());
  // Stop, and stop again: both fine; the node is gone.
  for (int i = 0; i < 2; ++i) {
    auto stopped = harness::ask_now<caf::ok_atom>(sys, *hdl, 20s, harness::stop_atom::value,
                                                  token);
    EXPECT_TRUE(stopped) << render(stopped.error());
  }
  auto hello = harness::ask_now<harness::agent_hello>(sys, *hdl, 5s, harness::hello_atom::value,
                                                      token);
  ASSERT_TRUE(hello);
  EXPECT_FALSE(hello->node_running);
}

TEST_F(HarnessLoopback, AnAgentKilledMidRunGivesAnErrorRowNotAHang) {
  // A broker that accepts and never answers: each node's start waits for
  // its signalling (half a minute), so the kill comes mid-request.
  silent_listener broker;
  ASSERT_NE(broker.port, 0);
  auto servers = dir.path() + "/silent.conf";
  std::ofstream{servers} << "mqtt tcp://127.0.0.1:" << broker.port << '\n';
  ASSERT_NE(start_agent("a1", {"--servers", servers}), nullptr);
  auto victim = start_agent("a2", {"--servers", servers});
  ASSERT_NE(victim, nullptr);
  harness::driver d{sys, plan({{"a1", "a2"}}, 2), token, log};
  ASSERT_TRUE(d.connect_all(3s).empty()) << log.str();
  auto running = std::async(std::launch::async, [&] { return d.run(); });
  // Both nodes' starts are under way once both reached the broker.
  ASSERT_TRUE(broker.await_clients(2, 20s)) << "the nodes did not reach the broker";
  ASSERT_EQ(running.wait_for(0s), std::future_status::timeout) << "the run ended before the kill";
  ::kill(victim->proc.pid(), SIGKILL);
  auto killed = std::chrono::steady_clock::now();
  ASSERT_EQ(running.wait_for(20s), std::future_status::ready) << "the run hangs: " << log.str();
  auto rows = running.get();
  auto took = std::chrono::steady_clock::now() - killed;
  EXPECT_LT(took, 15s) << log.str();
  ASSERT_EQ(rows.size(), 2u);
  for (auto& r : rows) {
    SCOPED_TRACE(harness::result_line(r));
    EXPECT_FALSE(r.ok());
    EXPECT_TRUE(r.error.find("the agent is gone") != std::string::npos
                || r.error.find("not connected") != std::string::npos)
      << r.error;
  }
  std::vector<std::string> differences;
  auto md = harness::matrix_markdown(rows, d.plan(), nullptr, differences);
  EXPECT_NE(md.find("| a1 - a2 | - | 0/2 | - / - | failed: "), std::string::npos) << md;
}

TEST(HarnessScenario, ReadsAgentsNodeOptionsAndPairs) {
  auto s = harness::parse_scenario("# two sites\n"
                                   "agent a1 10.0.3.2:4100 label full-cone\n"
                                   "agent a2 [::1]:4101\n"
                                   "node servers /tmp/s.conf interfaces eth0 timeout 30\n"
                                   "pair a1 a2 transports udp,tcp strategies punch,relay "
                                   "families 4 runs 3  # both ways\n");
  ASSERT_TRUE(s) << render(s.error());
  ASSERT_EQ(s->agents.size(), 2u);
  EXPECT_EQ(s->agents[0].label, "full-cone");
  EXPECT_EQ(s->agents[1].label, "a2");
  EXPECT_EQ(s->agents[1].where.host, "::1");
  EXPECT_EQ(s->agents[1].where.to_string(), "[::1]:4101");
  EXPECT_EQ(s->node.servers, "/tmp/s.conf");
  EXPECT_EQ(s->node.interfaces, std::vector<std::string>{"eth0"});
  EXPECT_EQ(s->node.timeout_s, 30u);
  ASSERT_EQ(s->pairs.size(), 1u);
  EXPECT_EQ(s->pairs[0].transports, (std::vector<std::string>{"udp", "tcp"}));
  EXPECT_EQ(s->pairs[0].strategies, "punch,relay");
  EXPECT_EQ(s->pairs[0].runs, 3u);
}

TEST(HarnessScenario, RefusesBadInputNamingTheLine) {
  struct bad_case {
    const char* text;
    const char* says;
  };
  for (auto& c : std::vector<bad_case>{
         {"agent a1 127.0.0.1\n", "line 1"},
         {"agent a1 127.0.0.1:4100\nagent a1 127.0.0.1:4101\n", "twice"},
         {"agent a1 0.0.0.0:4100\n", "wildcard"},
         {"agent a1 example.org:4100\n", "not an IP address"},
         {"agent a1 127.0.0.1:70000\n", "not a port"},
         {"agent a1 127.0.0.1:4100 colour red\n", "unknown option"},
         {"agent a1 127.0.0.1:4100\nfrobnicate\n", "line 2: unknown statement"},
         {"agent a1 127.0.0.1:4100\npair a1 a9\n", "not declared"},
         {"agent a1 127.0.0.1:4100\npair a1 a1\n", "with itself"},
         {"agent a1 127.0.0.1:4100\nagent a2 127.0.0.1:4101\npair a1 a2 runs 0\n", "1..9"},
         {"agent a1 127.0.0.1:4100\nagent a2 127.0.0.1:4101\npair a1 a2 transports sctp\n",
          "neither tcp nor udp"},
         {"agent a1 127.0.0.1:4100\nagent a2 127.0.0.1:4101\npair a1 a2 strategies fly\n",
          "'fly' is not a strategy"},
         {"agent a1 127.0.0.1:4100\nagent a2 127.0.0.1:4101\npair a1 a2 runs\n", "no value"},
         {"agent a1 127.0.0.1:4100\n", "no pairs"},
         {"", "no agents"},
       }) {
    auto s = harness::parse_scenario(c.text);
    ASSERT_FALSE(s) << c.text;
    EXPECT_NE(render(s.error()).find(c.says), std::string::npos)
      << c.text << " -> " << render(s.error());
  }
}

TEST(HarnessScenario, TokensAreLongEnoughAndComparedWhole) {
  temp_dir dir;
  auto file = dir.path() + "/token";
  std::ofstream{file} << "short\n";
  auto t = harness::load_token(file);
  ASSERT_FALSE(t);
  EXPECT_NE(render(t.error()).find("at least 16"), std::string::npos) << render(t.error());
  EXPECT_FALSE(harness::load_token(dir.path() + "/missing"));
  std::ofstream{file} << "  0123456789abcdef0123  \n";
  t = harness::load_token(file);
  ASSERT_TRUE(t);
  EXPECT_EQ(*t, "0123456789abcdef0123");
  EXPECT_TRUE(harness::token_matches(*t, "0123456789abcdef0123"));
  EXPECT_FALSE(harness::token_matches(*t, "0123456789abcdef012"));
  EXPECT_FALSE(harness::token_matches(*t, "0123456789abcdef01234"));
  EXPECT_FALSE(harness::token_matches(*t, "1123456789abcdef0123"));
  EXPECT_FALSE(harness::token_matches(*t, ""));
}

} // namespace
