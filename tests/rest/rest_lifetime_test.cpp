// What the REST server leaves behind once it ended: nothing holds it.

#include <sys/socket.h>

#include "caf/actor_cast.hpp"

#include "rest_fixture.hpp"
#include "support/sockets.hpp"

namespace p2pd::test {

class RestLifetime : public rest_fixture {};

TEST_F(RestLifetime, AReceiveWaitingWhenTheNodeEndsDoesNotHoldTheServer) {
  auto a = serve();
  auto b = start();
  ASSERT_EQ(post(a, "/open/c/" + b.address()).status, 200);
  // A receive that would wait a minute, on a socket of our own; once the
  // server counted it, its wait is armed.
  auto before = stats_of(a).requests;
  auto fd = raw_connect({net::ip_address::loopback(net::family::v4), a.rest.port});
  ASSERT_TRUE(fd);
  auto req = "GET /recv/c?timeout=60 HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(a.rest.port)
             + "\r\nAuthorization: Bearer " + a.rest.token + "\r\n\r\n";
  ASSERT_EQ(::send(fd.get(), req.data(), req.size(), MSG_NOSIGNAL), static_cast<ssize_t>(req.size()));
  ASSERT_TRUE(eventually([&] { return stats_of(a).requests == before + 1; }));

  caf::actor_addr server = a.rest.server.address();
  a.rest.server = nullptr;
  ASSERT_OK(a.node.close());
  // The server ended with its node; once its daemon and pipes let go of
  // it, nothing may keep it (a timer that holds it strongly would for the
  // receive's minute).
  EXPECT_TRUE(eventually([&] { return caf::actor_cast<caf::strong_actor_ptr>(server) == nullptr; },
                         std::chrono::seconds(10)));
}

} // namespace p2pd::test
