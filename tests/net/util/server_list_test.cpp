// Server lists: the configuration file that names STUN, NAT, MQTT, TURN and
// NTP servers (nothing public is built into the code).
#include <gtest/gtest.h>

#include <fstream>

#include "p2pd/net/util/server_list.hpp"

#include "support/expect.hpp"

using namespace p2pd::net;

TEST(ServerList, ParsesKindsAddressesAndComments) {
  auto xs = parse_server_list("# servers\n"
                              "stun 127.0.0.1:3478  # a comment\n"
                              "\n"
                              "nat [::1]:3479\n"
                              "mqtt tcp://127.0.0.1:1883\n"
                              "  turn   example.invalid:3478\n");
  ASSERT_TRUE(xs) << xs.error().what;
  ASSERT_EQ(xs->size(), 4u);
  EXPECT_EQ((*xs)[0].kind, server_kind::stun);
  EXPECT_EQ((*xs)[0].host, "127.0.0.1");
  EXPECT_EQ((*xs)[0].port, 3478);
  EXPECT_EQ((*xs)[0].line, 2u);
  EXPECT_EQ((*xs)[1].kind, server_kind::nat);
  EXPECT_EQ((*xs)[1].host, "::1");
  EXPECT_EQ((*xs)[1].port, 3479);
  EXPECT_EQ((*xs)[2].host, "tcp://127.0.0.1:1883");
  EXPECT_EQ((*xs)[3].kind, server_kind::turn);
}

TEST(ServerList, ANameLineNamesANameServer) {
  auto xs = parse_server_list("name 127.0.0.1:5300\n");
  ASSERT_TRUE(xs) << xs.error().what;
  ASSERT_EQ(xs->size(), 1u);
  EXPECT_EQ((*xs)[0].kind, server_kind::name);
  EXPECT_EQ((*xs)[0].port, 5300);
  EXPECT_STREQ(to_string(server_kind::name), "name");
}

TEST(ServerList, ATurnLineMayCarryAUsernameAndPassword) {
  auto xs = parse_server_list("turn 203.0.113.10:3478 p2pd s3cret\nturn [::1]:3478\n");
  ASSERT_TRUE(xs) << xs.error().what;
  ASSERT_EQ(xs->size(), 2u);
  EXPECT_EQ((*xs)[0].username, "p2pd");
  EXPECT_EQ((*xs)[0].password, "s3cret");
  EXPECT_TRUE((*xs)[1].username.empty());
}

TEST(ServerList, BadLinesAreRefusedWithTheirLineNumber) {
  struct bad {
    const char* text;
    const char* says;
  };
  for (auto [text, says] : {bad{"stun5 1.2.3.4:3478", "line 1: unknown server kind 'stun5'"},
                            bad{"\nstun example.org", "line 2: 'example.org' has no port"},
                            bad{"stun 1.2.3.4:0", "no valid host and port"},
                            bad{"stun 1.2.3.4:65536", "no valid host and port"},
                            bad{"stun 1.2.3.4:34x", "no valid host and port"},
                            bad{"stun ::1:3478", "in brackets"},
                            bad{"stun [::1]3478", "is not [address]:port"},
                            bad{"stun", "has no address"},
                            bad{"stun 1.2.3.4:1 extra", "unexpected 'extra'"},
                            bad{"mqtt 127.0.0.1:1883", "is a URI"},
                            bad{"turn 1.2.3.4:3478 alice", "a username and a password"},
                            bad{"turn 1.2.3.4:3478 a b c", "unexpected 'c' after the password"},
                            bad{"stun 1.2.3.4:3478 a b", "unexpected 'a'"}}) {
    auto xs = parse_server_list(text);
    ASSERT_FALSE(xs) << text;
    EXPECT_ERRC(xs, errc::invalid_argument);
    EXPECT_NE(xs.error().what.find(says), std::string::npos) << xs.error().what;
  }
}

TEST(ServerList, ResolvesLiteralsAndSkipsNamesThatDoNotResolve) {
  auto xs = parse_server_list("stun 127.0.0.1:3478\nstun [::1]:3478\n"
                              "stun nothing.invalid:3478\nnat 127.0.0.2:3479\n"
                              "mqtt tcp://127.0.0.1:1883\n");
  ASSERT_TRUE(xs);
  auto rs = resolve_servers(*xs, std::chrono::milliseconds{2000});
  auto eps = rs.of(server_kind::stun);
  ASSERT_EQ(eps.size(), 2u);
  EXPECT_EQ(eps[0].to_string(), "127.0.0.1:3478");
  EXPECT_EQ(eps[1].to_string(), "[::1]:3478");
  ASSERT_EQ(rs.unresolved.size(), 1u);
  EXPECT_EQ(rs.unresolved[0].entry.line, 3u);
  EXPECT_EQ(rs.unresolved[0].why.code, errc::resolve_failed);
  EXPECT_NE(rs.unresolved[0].to_string().find("line 3: stun nothing.invalid:3478"),
            std::string::npos)
    << rs.unresolved[0].to_string();
  EXPECT_EQ(rs.unresolved_count(server_kind::stun), 1u);
  EXPECT_EQ(rs.of(server_kind::nat).size(), 1u);
  EXPECT_TRUE(rs.of(server_kind::mqtt).empty());
  EXPECT_LT(rs.took.count(), 1000); // no query: literals and .invalid
}

TEST(ServerList, AnotherResolversAnswersAreCollectedInFileOrder) {
  // What an actor does with its stack's resolver: pick, resolve elsewhere,
  // collect. A name without an answer is unresolved, never dropped.
  auto xs = parse_server_list("mqtt tcp://127.0.0.1:1883\nstun a.sim:3478\nturn t.sim:3478\n"
                              "nat b.sim:3479\nstun c.sim:1\n");
  ASSERT_TRUE(xs);
  auto picked = servers_to_resolve(*xs, {server_kind::stun, server_kind::nat});
  ASSERT_EQ(picked.size(), 3u);
  EXPECT_EQ(picked[0].host, "a.sim");
  EXPECT_EQ(picked[1].host, "b.sim");
  std::vector<result<std::vector<ip_address>>> ips;
  ips.emplace_back(std::vector<ip_address>{*ip_address::parse("10.0.0.1")});
  ips.emplace_back(error{errc::resolve_timeout, "no answer within 500 ms"});
  auto rs = collect_servers(picked, ips, std::chrono::milliseconds{7});
  auto stun = rs.of(server_kind::stun);
  ASSERT_EQ(stun.size(), 1u);
  EXPECT_EQ(stun[0].to_string(), "10.0.0.1:3478");
  ASSERT_EQ(rs.unresolved.size(), 2u);
  EXPECT_EQ(rs.unresolved[0].why.code, errc::resolve_timeout);
  EXPECT_EQ(rs.unresolved[1].entry.host, "c.sim");
  EXPECT_EQ(rs.unresolved[1].why.code, errc::resolve_failed);
  EXPECT_EQ(rs.took.count(), 7);
}

TEST(ServerList, MissingFileIsAnError) {
  auto xs = load_server_list("/nonexistent/p2pd/servers.conf");
  ASSERT_FALSE(xs);
  EXPECT_NE(xs.error().what.find("/nonexistent/p2pd/servers.conf"), std::string::npos);
}

TEST(ServerList, ShippedDefaultFileParses) {
  auto xs = load_server_list(P2PD_SOURCE_DIR "/config/servers.conf");
  ASSERT_TRUE(xs) << xs.error().what;
  EXPECT_FALSE(xs->empty());
}
