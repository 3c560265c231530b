#include "p2pd/net/sock/socket.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include "support/sockets.hpp"

using namespace p2pd::net;

using p2pd::test::sockopt_int;

TEST(Ttl, AnIPv4SocketSendsWithTheTtlAsked) {
  socket_options opts;
  opts.ttl = 2;
  auto fd = open_bound_socket(protocol::udp, {ip_address::loopback(family::v4), 0}, opts);
  ASSERT_TRUE(fd) << fd.error().what;
  EXPECT_EQ(sockopt_int(fd->get(), IPPROTO_IP, IP_TTL), 2);
}

TEST(Ttl, AnIPv6SocketGetsItAsItsHopLimit) {
  socket_options opts;
  opts.ttl = 3;
  auto fd = open_bound_socket(protocol::tcp, {ip_address::loopback(family::v6), 0}, opts);
  ASSERT_TRUE(fd) << fd.error().what;
  EXPECT_EQ(sockopt_int(fd->get(), IPPROTO_IPV6, IPV6_UNICAST_HOPS), 3);
}

TEST(Ttl, AnOutOfRangeTtlIsAClearError) {
  socket_options opts;
  opts.ttl = 300;
  auto fd = open_bound_socket(protocol::udp, {ip_address::loopback(family::v4), 0}, opts);
  ASSERT_FALSE(fd);
  EXPECT_NE(fd.error().what.find("TTL to 300"), std::string::npos) << fd.error().what;
}
