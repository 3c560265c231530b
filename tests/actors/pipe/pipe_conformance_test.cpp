// One pipe core, three transports: a slice of the pipe tests run against
// the broker's epoll sockets, the in-memory network
// (actors/pipe/detail/memory_transport.hpp) and the simulated network
// (actors/pipe/detail/sim_transport.hpp). Each behaviour must be the same on
// all, so that the simulated network cannot drift from the real pipes.

#include "support/actors.hpp"
#include "support/expect.hpp"
#include "support/pipes.hpp"
#include "support/tls_certs.hpp"
#include "support/values.hpp"

#include "transports.hpp"

using namespace p2pd;
using namespace p2pd::test;

namespace {

class PipeConformance : public on_transport {
protected:
  /// A TCP client whose end `sub` is told of.
  caf::expected<pipe_handle> connect_watched(const endpoint& to, caf::scoped_actor& sub) {
    auto spec = client_spec(tcp, to.ip.to_string(), to.port);
    spec.subscribers.push_back({as_actor(sub), events::end});
    return open(spec);
  }
};

} // namespace

TEST_P(PipeConformance, UdpDatagramsGoBothWaysWithTheirSenders) {
  auto server = listen(udp);
  ASSERT_OK(server);
  auto client = connect(udp, server->local());
  ASSERT_OK(client);
  EXPECT_OK(client->send("ping"));
  auto got = server->recv(5s);
  ASSERT_OK(got);
  EXPECT_EQ(to_string(got->data), "ping");
  // The client's socket is bound to the wildcard: its port names it.
  EXPECT_EQ(got->from.port, client->local().port);
  EXPECT_OK(server->send("pong", got->from));
  auto reply = client->recv(5s);
  ASSERT_OK(reply);
  EXPECT_EQ(to_string(reply->data), "pong");
  EXPECT_EQ(reply->from, server->local());
}

TEST_P(PipeConformance, TcpEchoesThroughAnInlineHandler) {
  auto server = listen(tcp, {}, echo_handler());
  ASSERT_OK(server);
  auto client = connect(tcp, server->local());
  ASSERT_OK(client);
  EXPECT_EQ(client->remote(), server->local());
  EXPECT_OK(client->send("test msg."));
  auto out = client->recv(5s);
  ASSERT_OK(out);
  EXPECT_EQ(to_string(out->data), "test msg.");
  EXPECT_EQ(out->from, server->local());
  EXPECT_OK(client->close());
  EXPECT_OK(server->close());
}

TEST_P(PipeConformance, TcpServerSeesItsClientComeAndGo) {
  caf::scoped_actor sub{rt.system()};
  auto spec = server_spec(tcp, any_port("127.0.0.1"));
  spec.subscribers.push_back({as_actor(sub), events::up | events::end});
  auto server = open(spec);
  ASSERT_OK(server);
  auto client = connect(tcp, server->local());
  ASSERT_OK(client);
  auto up = next<pipe_up>(sub);
  ASSERT_TRUE(up);
  EXPECT_EQ(up->peer, client->local());
  EXPECT_OK(client->close());
  auto end = next<pipe_end>(sub);
  ASSERT_TRUE(end);
  EXPECT_EQ(end->peer, client->local());
  EXPECT_FALSE(end->whole);
  EXPECT_FALSE(end->reason) << "an orderly close has no reason";
}

TEST_P(PipeConformance, TcpClientResetByTheServerEndsWithConnectionReset) {
  // A framer that refuses every byte makes the server reset its client.
  auto spec = server_spec(tcp, any_port("127.0.0.1"));
  spec.framer = [](std::string_view) -> net::result<size_t> {
    return net::error{net::errc::malformed, "no byte is welcome"};
  };
  auto server = open(spec);
  ASSERT_OK(server);
  caf::scoped_actor sub{rt.system()};
  auto client = connect_watched(server->local(), sub);
  ASSERT_OK(client);
  EXPECT_OK(client->send("garbage"));
  auto end = next<pipe_end>(sub);
  ASSERT_TRUE(end);
  EXPECT_TRUE(end->whole);
  EXPECT_ERRC(end->reason, errc::connection_reset);
}

TEST_P(PipeConformance, TcpConnectWhereNothingListensIsRefused) {
  auto server = listen(tcp);
  ASSERT_OK(server);
  auto gone = server->local();
  ASSERT_OK(server->close());
  auto client = connect(tcp, gone);
  ASSERT_FALSE(client);
  EXPECT_ERRC(client, errc::connect_refused);
}

TEST_P(PipeConformance, ServerClosingAClientEndsTheClientPipeInOrder) {
  auto server = listen(tcp);
  ASSERT_OK(server);
  caf::scoped_actor sub{rt.system()};
  auto client = connect_watched(server->local(), sub);
  ASSERT_OK(client);
  EXPECT_OK(client->send("hi")); // once it came, the server has the client
  ASSERT_OK(server->recv(5s));
  EXPECT_OK(server->close(client->local()));
  auto end = next<pipe_end>(sub);
  ASSERT_TRUE(end);
  EXPECT_TRUE(end->whole);
  EXPECT_FALSE(end->reason) << "an orderly close has no reason";
}

TEST_P(PipeConformance, ServerKilledWithoutClosingEndsItsClient) {
  auto server = listen(tcp);
  ASSERT_OK(server);
  caf::scoped_actor sub{rt.system()};
  auto client = connect_watched(server->local(), sub);
  ASSERT_OK(client);
  EXPECT_OK(client->send("hi")); // once it came, the server has the client
  ASSERT_OK(server->recv(5s));
  // No finish_close runs: the peer learns of it only as from a kernel.
  caf::anon_send_exit(server->handle(), caf::exit_reason::kill);
  auto end = next<pipe_end>(sub);
  ASSERT_TRUE(end) << "the client never heard its server go";
}

TEST_P(PipeConformance, LengthPrefixedMessagesArriveOneByOne) {
  auto spec = server_spec(tcp, any_port("127.0.0.1"));
  spec.length_prefixed = true;
  auto server = open(spec);
  ASSERT_OK(server);
  auto cspec = client_spec(tcp, "127.0.0.1", server->local().port);
  cspec.length_prefixed = true;
  auto client = open(cspec);
  ASSERT_OK(client);
  for (auto text : {"one", "two", "three"})
    EXPECT_OK(client->send(text));
  for (auto text : {"one", "two", "three"}) {
    auto got = server->recv(5s);
    ASSERT_OK(got);
    EXPECT_EQ(to_string(got->data), text);
  }
}

TEST_P(PipeConformance, TlsEchoesBothWays) {
  std::string err;
  auto certs = tls_test_certs::make(err);
  ASSERT_TRUE(certs) << err;
  auto spec = server_spec(tcp, any_port("127.0.0.1"), echo_handler());
  net::tls_config stls;
  stls.cert_file = certs->server.cert;
  stls.key_file = certs->server.key;
  spec.tls = stls;
  auto server = open(spec);
  ASSERT_OK(server);
  auto cspec = client_spec(tcp, "127.0.0.1", server->local().port);
  net::tls_config ctls;
  ctls.ca_file = certs->ca.cert;
  cspec.tls = ctls;
  auto client = open(cspec);
  ASSERT_OK(client);
  for (auto text : {"first secret", "second secret"}) {
    EXPECT_OK(client->send(text));
    auto got = client->recv(5s);
    ASSERT_OK(got);
    EXPECT_EQ(to_string(got->data), text);
  }
}

INSTANTIATE_TEST_SUITE_P(Transports, PipeConformance, transports());

// The memory network's port-0 binds (actors/pipe/detail/memory_transport.hpp).

TEST(MemoryNet, PortZeroBindSkipsAnExplicitlyBoundPort) {
  runtime rt;
  caf::scoped_actor owner{rt.system()};
  auto me = caf::actor_cast<caf::weak_actor_ptr>(owner);
  actors::memory_net net;
  auto taken = net.bind(false, *endpoint::parse("127.0.0.1:40000"), me);
  ASSERT_OK(taken);
  auto picked = net.bind(false, *endpoint::parse("127.0.0.1:0"), me);
  ASSERT_OK(picked);
  EXPECT_NE(picked->port, 40000) << "a port-0 bind took a port already bound";
}

TEST(MemoryNet, PortZeroBindsWrapWithoutPortZeroAndRefuseAFullRange) {
  runtime rt;
  caf::scoped_actor owner{rt.system()};
  auto me = caf::actor_cast<caf::weak_actor_ptr>(owner);
  actors::memory_net net;
  auto any = *endpoint::parse("127.0.0.1:0");
  for (int i = 0; i < 65536 - 40000; ++i) {
    auto bound = net.bind(false, any, me);
    ASSERT_OK(bound);
    ASSERT_NE(bound->port, 0);
  }
  auto full = net.bind(false, any, me);
  ASSERT_FALSE(full) << "every port of the range is bound";
  EXPECT_ERRC(full, errc::bind_failed);
}
