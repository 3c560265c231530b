// p2pd/pipes.hpp is what a TCP echo includes: it must be enough for one, and
// bring no signalling (the protobuf-generated headers, MQTT) with it.
#include "p2pd/pipes.hpp"

#include <gtest/gtest.h>

#ifdef GOOGLE_PROTOBUF_VERSION
#error "p2pd/pipes.hpp pulls in protobuf headers"
#endif
#ifdef MQTTASYNC_H
#error "p2pd/pipes.hpp pulls in the MQTT client headers"
#endif

namespace {

TEST(PipesUmbrella, IsEnoughForATcpEcho) {
  p2pd::runtime rt;
  auto server = rt.listen(p2pd::tcp, {}, [](p2pd::pipe_io& io, std::string_view data,
                                            const p2pd::endpoint&) { io.reply(data); });
  ASSERT_TRUE(server) << p2pd::render(server.error());
  auto client = rt.connect(p2pd::tcp, server->local());
  ASSERT_TRUE(client) << p2pd::render(client.error());
  ASSERT_FALSE(client->send("ping"));
  auto out = client->recv();
  ASSERT_TRUE(out) << p2pd::render(out.error());
  EXPECT_EQ(p2pd::to_string(out->data), "ping");
}

} // namespace
