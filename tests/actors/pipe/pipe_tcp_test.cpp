#include "support/expect.hpp"
#include "support/pipes.hpp"
#include "support/sockets.hpp"
#include "support/values.hpp"

using namespace p2pd;
using namespace p2pd::test;

namespace {

class PipeTcp : public ::testing::TestWithParam<const char*> {
protected:
  endpoint loopback() const { return any_port(GetParam()); }
  runtime rt;
};

} // namespace

TEST_P(PipeTcp, EchoesThroughAnInlineHandler) {
  auto server = rt.listen(tcp, loopback(), echo_handler());
  ASSERT_OK(server);
  auto client = rt.connect(tcp, server->local());
  ASSERT_OK(client);
  EXPECT_EQ(client->remote(), server->local());
  EXPECT_OK(client->send("test msg."));
  auto out = client->recv();
  ASSERT_OK(out);
  EXPECT_EQ(to_string(out->data), "test msg.");
  EXPECT_EQ(out->from, server->local());
  EXPECT_OK(client->close());
  EXPECT_OK(server->close());
}

TEST_P(PipeTcp, ServerTracksClientsAndRepliesToEachByEndpoint) {
  auto server = rt.listen(tcp, loopback());
  ASSERT_OK(server);
  auto a = rt.connect(tcp, server->local());
  auto b = rt.connect(tcp, server->local());
  ASSERT_OK(a);
  ASSERT_OK(b);
  EXPECT_OK(a->send("from a"));
  auto got_a = server->recv(5s, msg_filter::contains("from a"));
  ASSERT_OK(got_a);
  EXPECT_EQ(got_a->from, a->local());
  EXPECT_OK(b->send("from b"));
  auto got_b = server->recv(5s, msg_filter::contains("from b"));
  ASSERT_OK(got_b);
  EXPECT_EQ(got_b->from, b->local());
  auto clients = server->clients();
  ASSERT_OK(clients);
  EXPECT_EQ(clients->size(), 2u);
  EXPECT_OK(server->send("to b", b->local()));
  EXPECT_OK(server->send("to a", a->local()));
  auto reply_a = a->recv();
  auto reply_b = b->recv();
  ASSERT_OK(reply_a);
  ASSERT_OK(reply_b);
  EXPECT_EQ(to_string(reply_a->data), "to a");
  EXPECT_EQ(to_string(reply_b->data), "to b");
}

TEST_P(PipeTcp, SubscriberRegisteredAtOpenSeesUpMessageAndEnd) {
  caf::scoped_actor sub{rt.system()};
  auto spec = server_spec(tcp, loopback());
  spec.subscribers.push_back({as_actor(sub), events::all});
  auto server = rt.open(spec);
  ASSERT_OK(server);
  auto client = rt.connect(tcp, server->local());
  ASSERT_OK(client);
  auto up = next<pipe_up>(sub);
  ASSERT_TRUE(up);
  EXPECT_EQ(up->peer, client->local());
  EXPECT_OK(client->send("hello"));
  auto msg = next<pipe_msg>(sub);
  ASSERT_TRUE(msg);
  EXPECT_EQ(to_string(msg->data), "hello");
  EXPECT_EQ(msg->from, client->local());
  EXPECT_EQ(msg->pipe, server->handle());
  auto client_ep = client->local();
  EXPECT_OK(client->close());
  auto end = next<pipe_end>(sub);
  ASSERT_TRUE(end);
  EXPECT_EQ(end->peer, client_ep);
  EXPECT_FALSE(end->whole);
  EXPECT_OK(end->reason);
}

TEST_P(PipeTcp, SubscriberRepliesThroughTheServerPipe) {
  caf::scoped_actor sub{rt.system()};
  auto server = rt.listen(tcp, loopback());
  ASSERT_OK(server);
  EXPECT_OK(server->subscribe(as_actor(sub), events::msgs));
  auto client = rt.connect(tcp, server->local());
  ASSERT_OK(client);
  EXPECT_OK(client->send("ping"));
  auto msg = next<pipe_msg>(sub);
  ASSERT_TRUE(msg);
  sub->send(msg->pipe, send_atom::value, to_bytes("pong"), msg->from);
  auto reply = client->recv();
  ASSERT_OK(reply);
  EXPECT_EQ(to_string(reply->data), "pong");
}

TEST_P(PipeTcp, ClosingAServerClosesItsClients) {
  caf::scoped_actor sub{rt.system()};
  auto server = rt.listen(tcp, loopback());
  ASSERT_OK(server);
  auto spec = client_spec(tcp, server->local().ip.to_string(), server->local().port);
  spec.subscribers.push_back({as_actor(sub), events::end});
  auto client = rt.open(spec);
  ASSERT_OK(client);
  EXPECT_OK(client->send("x"));
  ASSERT_OK(server->recv()); // the server has accepted the client
  EXPECT_OK(server->close());
  auto end = next<pipe_end>(sub);
  ASSERT_TRUE(end);
  EXPECT_TRUE(end->whole);
  auto after = client->recv(200ms);
  EXPECT_ERRC(after, errc::pipe_closed);
}

TEST_P(PipeTcp, ServerClosesOneClientByEndpoint) {
  auto server = rt.listen(tcp, loopback());
  ASSERT_OK(server);
  auto a = rt.connect(tcp, server->local());
  auto b = rt.connect(tcp, server->local());
  ASSERT_OK(a);
  ASSERT_OK(b);
  EXPECT_OK(a->send("a"));
  EXPECT_OK(b->send("b"));
  ASSERT_OK(server->recv(5s, msg_filter::sender(a->local())));
  ASSERT_OK(server->recv(5s, msg_filter::sender(b->local())));
  EXPECT_OK(server->close(a->local()));
  EXPECT_ERRC(a->recv(5s), errc::pipe_closed);
  EXPECT_OK(server->send("still here", b->local()));
  auto got = b->recv();
  ASSERT_OK(got);
  EXPECT_EQ(to_string(got->data), "still here");
}

TEST_P(PipeTcp, PeerThatResetsMidStreamEndsWithConnectionReset) {
  caf::scoped_actor sub{rt.system()};
  auto spec = server_spec(tcp, loopback());
  spec.subscribers.push_back({as_actor(sub), events::end | events::msgs});
  auto server = rt.open(spec);
  ASSERT_OK(server);
  auto raw = raw_connect(server->local());
  ASSERT_TRUE(raw);
  ASSERT_EQ(::send(raw.get(), "half a mess", 11, 0), 11);
  ASSERT_TRUE(next<pipe_msg>(sub));
  reset_close(std::move(raw));
  auto end = next<pipe_end>(sub);
  ASSERT_TRUE(end);
  EXPECT_FALSE(end->whole);
  EXPECT_ERRC(end->reason, errc::connection_reset);
}

TEST_P(PipeTcp, LingerZeroMakesCloseAReset) {
  caf::scoped_actor sub{rt.system()};
  auto spec = server_spec(tcp, loopback());
  spec.subscribers.push_back({as_actor(sub), events::end | events::msgs});
  auto server = rt.open(spec);
  ASSERT_OK(server);
  net_conf conf;
  conf.linger = 0;
  auto client = rt.connect(tcp, server->local(), conf);
  ASSERT_OK(client);
  EXPECT_OK(client->send("bye"));
  ASSERT_TRUE(next<pipe_msg>(sub));
  EXPECT_OK(client->close());
  auto end = next<pipe_end>(sub);
  ASSERT_TRUE(end);
  EXPECT_ERRC(end->reason, errc::connection_reset);
}

TEST_P(PipeTcp, HostNameResolvesWithinDnsTimeout) {
  auto server = rt.listen(tcp, any_port("127.0.0.1"), echo_handler());
  ASSERT_OK(server);
  auto client = rt.connect(tcp, "localhost", server->local().port);
  ASSERT_OK(client);
  EXPECT_EQ(client->remote(), server->local());
  EXPECT_OK(client->send("by name"));
  ASSERT_OK(client->recv());
}

TEST_P(PipeTcp, ClientBindsTheLocalAddressItIsGiven) {
  auto server = rt.listen(tcp, loopback());
  ASSERT_OK(server);
  auto reserved = net::open_bound_socket(net::protocol::tcp, loopback());
  ASSERT_TRUE(reserved);
  auto port = net::local_endpoint(reserved->get())->port;
  reserved = net::result<net::unique_fd>{net::unique_fd{}}; // free the port again
  auto spec = client_spec(tcp, server->local().ip.to_string(), server->local().port);
  spec.local = endpoint{loopback().ip, port};
  auto client = rt.open(spec);
  ASSERT_OK(client);
  EXPECT_EQ(client->local().port, port);
  EXPECT_OK(client->send("from a chosen port"));
  auto got = server->recv();
  ASSERT_OK(got);
  EXPECT_EQ(got->from.port, port);
}

TEST_P(PipeTcp, ReaderLimitBoundsEachRead) {
  caf::scoped_actor sub{rt.system()};
  net_conf conf;
  conf.reader_limit = 16;
  auto spec = server_spec(tcp, loopback());
  spec.conf = conf;
  spec.subscribers.push_back({as_actor(sub), events::msgs});
  auto server = rt.open(spec);
  ASSERT_OK(server);
  auto client = rt.connect(tcp, server->local());
  ASSERT_OK(client);
  std::string sent(100, 'x');
  EXPECT_OK(client->send(sent));
  size_t total = 0;
  for (int i = 0; i < 100 && total < sent.size(); ++i) {
    auto msg = next<pipe_msg>(sub);
    ASSERT_TRUE(msg);
    EXPECT_LE(msg->data.size(), 16u);
    total += msg->data.size();
  }
  EXPECT_EQ(total, sent.size());
}

TEST_P(PipeTcp, AdoptsAConnectedSocket) {
  auto server = rt.listen(tcp, loopback(), echo_handler());
  ASSERT_OK(server);
  auto raw = raw_connect(server->local());
  ASSERT_TRUE(raw);
  pipe_spec spec;
  spec.proto = tcp;
  spec.adopt_fd = raw.release();
  auto client = rt.open(spec);
  ASSERT_OK(client);
  EXPECT_EQ(client->remote(), server->local());
  EXPECT_OK(client->send("adopted"));
  auto got = client->recv();
  ASSERT_OK(got);
  EXPECT_EQ(to_string(got->data), "adopted");
}

TEST_P(PipeTcp, AdoptsAListeningSocket) {
  auto fd = net::open_listener(loopback());
  ASSERT_TRUE(fd);
  pipe_spec spec;
  spec.proto = tcp;
  spec.adopt_fd = fd->release();
  spec.on_msg = echo_handler();
  auto server = rt.open(spec);
  ASSERT_OK(server);
  EXPECT_TRUE(server->info().server);
  auto client = rt.connect(tcp, server->local());
  ASSERT_OK(client);
  EXPECT_OK(client->send("to an adopted listener"));
  ASSERT_OK(client->recv());
}

TEST_P(PipeTcp, ReuseAddrLetsTwoServersShareAPort) {
  net_conf conf;
  conf.reuse_addr = true;
  auto a = rt.listen(tcp, loopback(), {}, conf);
  ASSERT_OK(a);
  auto b = rt.listen(tcp, a->local(), {}, conf);
  ASSERT_OK(b);
  EXPECT_EQ(a->local(), b->local());
}

INSTANTIATE_TEST_SUITE_P(Loopback, PipeTcp, ::testing::Values("127.0.0.1", "::1"));
