#include <string>

#include "world_fixture.hpp"

namespace p2pd::sim::test {
namespace {

struct run_result {
  uint64_t hash = 0;
  uint64_t events = 0;
  std::vector<std::string> log;
};

// A mixed scenario: UDP through NATs over a jittery, lossy core, a TCP
// connection with data, a refused connect.
run_result mixed(uint64_t seed, sim_time jitter) {
  world w{seed, link_config{ms(20), jitter, 0.1}, 64};
  auto& server = w.public_host("198.51.100.10", link_config{ms(2), jitter, 0.0});
  const int ss = server.udp_socket(3478);
  auto s1 = w.site(preset(net::nat_type::port_restricted, net::delta_type::equal), "203.0.113.1", "192.168.1.10");
  auto s2 = w.site(preset(net::nat_type::symmetric, net::delta_type::random), "203.0.113.2",
                   "192.168.2.10");
  auto& a = w.inside(s1, link_config{ms(1), jitter, 0.0});
  auto& b = w.inside(s2, link_config{ms(1), jitter, 0.0});
  const int sa = a.udp_socket(0);
  const int sb = b.udp_socket(0);
  for (int i = 0; i < 20; ++i) {
    a.send(sa, ep("198.51.100.10:3478"), "a" + std::to_string(i));
    b.send(sb, ep("198.51.100.10:3478"), "b" + std::to_string(i));
    w.run(ms(5));
  }
  w.run(ms(500));
  for (auto& d : server.drain(ss))
    server.send(ss, d.from, "echo");
  (void) server.tcp->listen(ep("0.0.0.0:80"));
  auto c = a.tcp->connect(ep("0.0.0.0:0"), ep("198.51.100.10:80"));
  (void) b.tcp->connect(ep("0.0.0.0:0"), ep("198.51.100.10:81"));
  w.run(ms(500));
  if (c)
    (void) a.tcp->send(*c, bytes("data"));
  w.run(ms(500));
  EXPECT_GT(w.net.run_trace().events(), 100u);
  return {w.net.run_trace().hash(), w.net.run_trace().events(), w.net.run_trace().log()};
}

TEST(SimFabricTrace, TheSameSeedGivesTheSameTraceHash) {
  const auto first = mixed(7, ms(5));
  const auto again = mixed(7, ms(5));
  EXPECT_EQ(first.hash, again.hash);
  EXPECT_EQ(first.events, again.events);
  EXPECT_EQ(first.log, again.log);
  EXPECT_EQ(first.log.size(), 64u); // bounded
}

TEST(SimFabricTrace, ADifferentSeedGivesADifferentTraceHashWithJitter) {
  const auto first = mixed(7, ms(5));
  const auto other = mixed(8, ms(5));
  EXPECT_NE(first.hash, other.hash);
}

} // namespace
} // namespace p2pd::sim::test
