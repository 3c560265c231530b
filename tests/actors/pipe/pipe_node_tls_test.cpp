// Pipes between nodes: a node TLS context (certificates bound to node ids)
// and length-prefixed messages, as node connections use them.
#include "support/expect.hpp"
#include "support/pipes.hpp"
#include "support/sockets.hpp"
#include "support/values.hpp"

#include "p2pd/net/util/length_prefix.hpp"
#include "actors/pipe/node_tls.hpp"

using namespace p2pd;
using namespace p2pd::test;

namespace {

class PipeNodeTls : public ::testing::Test {
protected:
  pipe_spec node_server(msg_handler on_msg = echo_handler()) {
    auto spec = server_spec(tcp, any_port("127.0.0.1"), std::move(on_msg));
    spec.tls_context = node_ctx(bob, true);
    spec.length_prefixed = true;
    return spec;
  }

  pipe_spec node_client(const endpoint& to, const net::node_id& expect) {
    auto spec = client_spec(tcp, to.ip.to_string(), to.port);
    spec.tls_context = node_ctx(alice, false);
    spec.expect_node = expect;
    spec.length_prefixed = true;
    return spec;
  }

  net::identity alice = make_identity();
  net::identity bob = make_identity();
  runtime rt;
};

} // namespace

TEST_F(PipeNodeTls, BothEndsLearnTheOthersNodeId) {
  caf::scoped_actor sub{rt.system()};
  auto spec = node_server();
  spec.subscribers.push_back({as_actor(sub), events::up});
  auto server = rt.open(spec);
  ASSERT_OK(server);
  auto client = rt.open(node_client(server->local(), bob.id()));
  ASSERT_OK(client);
  EXPECT_EQ(client->info().peer_node, bob.id().to_string());
  auto up = next<pipe_up>(sub);
  ASSERT_TRUE(up);
  EXPECT_EQ(up->peer_node, alice.id().to_string());
}

TEST_F(PipeNodeTls, MessagesArriveWholeWithoutTheirPrefix) {
  auto server = rt.open(node_server());
  ASSERT_OK(server);
  auto client = rt.open(node_client(server->local(), bob.id()));
  ASSERT_OK(client);
  std::vector<std::string> sent{"one\ntwo", std::string(60000, 'x'), "", "three"};
  for (auto& m : sent)
    EXPECT_OK(client->send(m));
  for (auto& m : sent) {
    auto got = client->recv();
    ASSERT_OK(got);
    EXPECT_EQ(to_string(got->data), m);
  }
}

TEST_F(PipeNodeTls, AServerThatIsAnotherNodeFailsTheOpen) {
  auto server = rt.open(node_server());
  ASSERT_OK(server);
  auto carol = make_identity();
  auto client = rt.open(node_client(server->local(), carol.id()));
  ASSERT_FALSE(client);
  EXPECT_ERRC(client, errc::tls_verify_failed);
  EXPECT_NE(render(client.error()).find("not " + carol.id().to_string()), std::string::npos)
    << render(client.error());
}

TEST_F(PipeNodeTls, APlaintextClientReachesNoHandler) {
  int handled = 0;
  auto server = rt.open(node_server([&](pipe_io&, std::string_view, const endpoint&) { ++handled; }));
  ASSERT_OK(server);
  auto raw = raw_connect(server->local());
  ASSERT_TRUE(raw);
  set_timeouts(raw.get(), std::chrono::seconds(5));
  std::string frame;
  ASSERT_FALSE(net::append_length_prefixed("hello", 100, frame));
  ASSERT_EQ(::send(raw.get(), frame.data(), frame.size(), 0), static_cast<ssize_t>(frame.size()));
  char buf[256];
  // The server answers garbage with a TLS alert (or a reset) and hangs up.
  while (::recv(raw.get(), buf, sizeof buf, 0) > 0) {
  }
  EXPECT_EQ(handled, 0);
}

TEST_F(PipeNodeTls, AnOversizedFrameResetsTheClient) {
  caf::scoped_actor sub{rt.system()};
  auto spec = node_server();
  spec.conf.reader_limit = 1024;
  spec.subscribers.push_back({as_actor(sub), events::end});
  auto server = rt.open(spec);
  ASSERT_OK(server);
  // A client that frames with a larger limit than the server's.
  auto cspec = node_client(server->local(), bob.id());
  cspec.conf.reader_limit = 65536;
  auto client = rt.open(cspec);
  ASSERT_OK(client);
  EXPECT_OK(client->send(std::string(2000, 'x')));
  auto end = next<pipe_end>(sub);
  ASSERT_TRUE(end);
  EXPECT_ERRC(end->reason, errc::malformed);
  auto stats = server->stats();
  ASSERT_OK(stats);
  EXPECT_EQ(stats->clients_malformed, 1u);
}

TEST_F(PipeNodeTls, LengthPrefixIsForTcpOnly) {
  auto spec = server_spec(udp, any_port("127.0.0.1"));
  spec.length_prefixed = true;
  auto p = rt.open(spec);
  ASSERT_FALSE(p);
  EXPECT_ERRC(p, errc::invalid_argument);
}

TEST_F(PipeNodeTls, AServerContextOnAClientIsRefused) {
  auto server = rt.open(node_server());
  ASSERT_OK(server);
  auto spec = node_client(server->local(), bob.id());
  spec.tls_context = node_ctx(alice, true);
  auto client = rt.open(spec);
  ASSERT_FALSE(client);
  EXPECT_ERRC(client, errc::invalid_argument);
}
