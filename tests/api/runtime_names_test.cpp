// The facade's handle types do not take the platform's names: under
// `using namespace p2pd` POSIX pipe() and glibc daemon() still mean what they
// mean (this file failed to compile while the handles were p2pd::pipe and
// p2pd::daemon).

#include <unistd.h>

#include <gtest/gtest.h>

#include "p2pd/p2pd.hpp"

using namespace p2pd;

TEST(RuntimeNames, PosixPipeAndDaemonAreUnambiguousUnderUsingNamespace) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  EXPECT_EQ(write(fds[1], "x", 1), 1);
  char c = 0;
  EXPECT_EQ(read(fds[0], &c, 1), 1);
  EXPECT_EQ(c, 'x');
  close(fds[0]);
  close(fds[1]);
  int (*d)(int, int) = &daemon; // declared, never called
  EXPECT_NE(d, nullptr);
}

TEST(RuntimeNames, TheHandlesAreNamedAsHandles) {
  runtime rt;
  auto server = rt.listen(tcp, endpoint{*net::ip_address::parse("127.0.0.1"), 0});
  ASSERT_TRUE(server);
  pipe_handle& p = *server;
  EXPECT_EQ(p.local().ip.to_string(), "127.0.0.1");
  auto d = rt.start_daemon([](pipe_io&, std::string_view, const endpoint&) {});
  ASSERT_TRUE(d);
  daemon_handle& h = *d;
  EXPECT_FALSE(h.close());
}
