#include <gtest/gtest.h>

#include "p2pd/p2pd.hpp"

using namespace p2pd;
using namespace std::chrono_literals;

namespace {

msg_handler echo() {
  return [](pipe_io& io, std::string_view data, const endpoint&) { io.reply(data); };
}

class PipeTcp : public ::testing::TestWithParam<const char*> {
protected:
  endpoint loopback() const { return {*net::ip_address::parse(GetParam()), 0}; }
  runtime rt;
};

} // namespace

TEST_P(PipeTcp, EchoesThroughAnInlineHandler) {
  auto server = rt.listen(tcp, loopback(), echo());
  ASSERT_TRUE(server) << render(server.error());
  auto client = rt.connect(tcp, server->local());
  ASSERT_TRUE(client) << render(client.error());
  EXPECT_EQ(client->remote(), server->local());
  ASSERT_FALSE(client->send("test msg."));
  auto out = client->recv();
  ASSERT_TRUE(out) << render(out.error());
  EXPECT_EQ(to_string(out->data), "test msg.");
  EXPECT_EQ(out->from, server->local());
  EXPECT_FALSE(client->close());
  EXPECT_FALSE(server->close());
}

INSTANTIATE_TEST_SUITE_P(Loopback, PipeTcp, ::testing::Values("127.0.0.1", "::1"));
