#include "p2pd/net/sock/socket.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include "support/sockets.hpp"

using namespace p2pd::net;

using p2pd::test::sockopt_int;

TEST(KeepAlive, ProbesAfterTheIdleTimeFiveTimes) {
  auto fd = open_bound_socket(protocol::tcp, {ip_address::loopback(family::v4), 0});
  ASSERT_TRUE(fd) << fd.error().what;
  socket_options opts;
  opts.keep_alive = 60;
  ASSERT_FALSE(apply_late_options(fd->get(), protocol::tcp, opts));
  EXPECT_EQ(sockopt_int(fd->get(), SOL_SOCKET, SO_KEEPALIVE), 1);
  EXPECT_EQ(sockopt_int(fd->get(), IPPROTO_TCP, TCP_KEEPIDLE), 60);
  EXPECT_EQ(sockopt_int(fd->get(), IPPROTO_TCP, TCP_KEEPINTVL), 60);
  EXPECT_EQ(sockopt_int(fd->get(), IPPROTO_TCP, TCP_KEEPCNT), 5);
}

TEST(KeepAlive, IsOffUnlessAsked) {
  auto fd = open_bound_socket(protocol::tcp, {ip_address::loopback(family::v4), 0});
  ASSERT_TRUE(fd) << fd.error().what;
  ASSERT_FALSE(apply_late_options(fd->get(), protocol::tcp, socket_options{}));
  EXPECT_EQ(sockopt_int(fd->get(), SOL_SOCKET, SO_KEEPALIVE), 0);
}
