// A server file's turn lines as the relay strategy's servers.
#include <gtest/gtest.h>

#include "p2pd/actors/turn/turn_pipe_spec.hpp"
#include "support/expect.hpp"
#include "support/printers.hpp"
#include "support/values.hpp"

using namespace p2pd;
using p2pd::test::ep;

TEST(TurnServers, AnIpLiteralWithCredentialsIsARelay) {
  auto list = net::parse_server_list("stun 203.0.113.10:3478\n"
                                     "turn 203.0.113.10:3478 p2pd s3cret\n"
                                     "turn [2001:db8::10]:3478 p2pd s3cret\n");
  ASSERT_OK(list);
  auto xs = turn_servers_of(*list);
  ASSERT_EQ(xs.size(), 2u);
  EXPECT_EQ(xs[0].server, ep("203.0.113.10:3478"));
  EXPECT_EQ(xs[0].transport, net::protocol::udp);
  EXPECT_EQ(xs[0].username, "p2pd");
  EXPECT_EQ(xs[0].password, "s3cret");
  EXPECT_EQ(xs[1].server, ep("[2001:db8::10]:3478"));
}

TEST(TurnServers, ANameOrALineWithoutCredentialsIsSkippedAndSaid) {
  auto list = net::parse_server_list("turn relay.example:3478 p2pd s3cret\n"
                                     "turn 203.0.113.10:3478\n");
  ASSERT_OK(list);
  std::vector<std::string> skipped;
  EXPECT_TRUE(turn_servers_of(*list, &skipped).empty());
  ASSERT_EQ(skipped.size(), 2u);
  EXPECT_NE(skipped[0].find("line 1"), std::string::npos) << skipped[0];
  EXPECT_NE(skipped[0].find("IP literal"), std::string::npos) << skipped[0];
  EXPECT_NE(skipped[1].find("no credentials"), std::string::npos) << skipped[1];
}
