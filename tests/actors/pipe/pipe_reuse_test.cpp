// What TCP hole punching is made of, on loopback: one local port shared by a
// listener and several client pipes (net_conf::reuse_addr), a simultaneous
// open between two client pipes bound to each other's target port, and a
// server that listens only until a connection is up.
#include "support/expect.hpp"
#include "support/pipes.hpp"
#include "support/sockets.hpp"
#include "support/values.hpp"
#include "actors/pipe/node_tls.hpp"

#include "actors/pipe/syn_sink.hpp"

using namespace p2pd;
using namespace p2pd::test;

namespace {

net_conf reuse() {
  net_conf c;
  c.reuse_addr = true;
  return c;
}

pipe_spec bound_client(const endpoint& from, const endpoint& to) {
  auto spec = client_spec(tcp, to.ip.to_string(), to.port);
  spec.local = from;
  spec.conf = reuse();
  spec.conf.con_timeout = std::chrono::seconds(10);
  return spec;
}

struct open_pair {
  std::optional<pipe_info> a;
  std::optional<pipe_info> b;
};

// B connects toward A's port first: its SYN is dropped there and B stays in
// SYN_SENT. Then A connects from that port toward B's: its SYN meets B's
// connecting socket and both open from it (SYN_SENT -> SYN_RECEIVED ->
// ESTABLISHED on B's side), no listener involved.
open_pair simultaneous_open(caf::scoped_actor& self, pipe_spec a, pipe_spec b) {
  open_pair out;
  auto& sys = self->system();
  auto pb = spawn_pipe(sys, std::move(b));
  auto b_open = self->request(pb, std::chrono::seconds(20), caf::open_atom::value);
  // B answers this after its open request: its connect() has run (and on
  // loopback the SYN has met the full listener) by then.
  self->request(pb, std::chrono::seconds(5), info_atom::value)
    .receive([](pipe_info&) { ADD_FAILURE() << "B opened before A connected"; },
             [](caf::error&) {});
  auto pa = spawn_pipe(sys, std::move(a));
  self->request(pa, std::chrono::seconds(20), caf::open_atom::value)
    .receive([&](pipe_info& x) { out.a = x; },
             [&](caf::error& err) { ADD_FAILURE() << "A: " << render(err); });
  b_open.receive([&](pipe_info& x) { out.b = x; },
                 [&](caf::error& err) { ADD_FAILURE() << "B: " << render(err); });
  return out;
}

// Sends `text` on `from` and receives it on `to`, both opened by `self`.
std::string pass(caf::scoped_actor& self, const pipe_actor& from, const pipe_actor& to,
                 const std::string& text) {
  caf::anon_send(from, send_atom::value, to_bytes(text));
  std::string got;
  self->request(to, std::chrono::seconds(10), recv_atom::value, msg_filter::any(),
                caf::timespan{std::chrono::seconds(5)})
    .receive([&](pipe_msg& m) { got = to_string(m.data); },
             [&](caf::error& err) { got = render(err); });
  return got;
}

} // namespace

TEST(PipeReuse, AListenerAndClientPipesShareOneLocalPort) {
  runtime rt;
  caf::scoped_actor sub{rt.system()};
  auto lspec = server_spec(tcp, any_port("127.0.0.1"), echo_handler());
  lspec.conf = reuse();
  lspec.subscribers.push_back({as_actor(sub), events::up});
  auto listener = rt.open(lspec);
  ASSERT_OK(listener);
  std::vector<pipe_handle> servers;
  std::vector<pipe_handle> clients;
  for (int i = 0; i < 3; ++i) {
    auto s = rt.listen(tcp, any_port("127.0.0.1"), echo_handler());
    ASSERT_OK(s);
    auto c = rt.open(bound_client(listener->local(), s->local()));
    ASSERT_OK(c);
    EXPECT_EQ(c->local(), listener->local());
    EXPECT_EQ(c->remote(), s->local());
    auto text = "from the shared port to server " + std::to_string(i);
    EXPECT_OK(c->send(text));
    auto got = c->recv();
    ASSERT_OK(got);
    EXPECT_EQ(to_string(got->data), text);
    servers.push_back(std::move(*s));
    clients.push_back(std::move(*c));
  }
  // The listener still takes connections on the port the clients share.
  auto got = echo_once(rt, tcp, listener->local(), "to the listener");
  ASSERT_OK(got);
  EXPECT_EQ(to_string(got->data), "to the listener");
  EXPECT_TRUE(next<pipe_up>(sub));
}

TEST(PipeReuse, WithoutReuseAClientCannotBindAListenersPort) {
  runtime rt;
  auto lspec = server_spec(tcp, any_port("127.0.0.1"));
  lspec.conf = reuse();
  auto listener = rt.open(lspec);
  ASSERT_OK(listener);
  auto server = rt.listen(tcp, any_port("127.0.0.1"), echo_handler());
  ASSERT_OK(server);
  auto spec = bound_client(listener->local(), server->local());
  spec.conf.reuse_addr = false;
  auto c = rt.open(spec);
  ASSERT_FALSE(c);
  EXPECT_ERRC(c, errc::bind_failed);
}

TEST(PipeReuse, TwoClientPipesConnectBySimultaneousOpen) {
  auto sink = syn_sink::make();
  ASSERT_TRUE(sink);
  auto b_port = at("127.0.0.1", free_port(tcp));
  runtime rt;
  caf::scoped_actor self{rt.system()};
  auto pair = simultaneous_open(self, bound_client(sink->local, b_port),
                                bound_client(b_port, sink->local));
  ASSERT_TRUE(pair.a && pair.b);
  EXPECT_EQ(pair.a->local, sink->local);
  EXPECT_EQ(pair.a->remote, b_port);
  EXPECT_EQ(pair.b->local, b_port);
  EXPECT_EQ(pair.b->remote, sink->local);
  EXPECT_EQ(pass(self, pair.a->pipe, pair.b->pipe, "a to b"), "a to b");
  EXPECT_EQ(pass(self, pair.b->pipe, pair.a->pipe, "b to a"), "b to a");
}

TEST(PipeReuse, ASimultaneousOpenCarriesNodeTlsWithRolesChosenApartFromDirection) {
  auto sink = syn_sink::make();
  ASSERT_TRUE(sink);
  auto b_port = at("127.0.0.1", free_port(tcp));
  auto alice = make_identity();
  auto bob = make_identity();
  // Both connected: the TLS ends come from the rule, not from TCP.
  auto a = bound_client(sink->local, b_port);
  a.tls_context = node_ctx(alice, true);
  a.tls_as = tls_role::server;
  a.expect_node = bob.id();
  a.length_prefixed = true;
  auto b = bound_client(b_port, sink->local);
  b.tls_context = node_ctx(bob, false);
  b.tls_as = tls_role::client;
  b.expect_node = alice.id();
  b.length_prefixed = true;
  runtime rt;
  caf::scoped_actor self{rt.system()};
  auto pair = simultaneous_open(self, a, b);
  ASSERT_TRUE(pair.a && pair.b);
  EXPECT_EQ(pair.a->peer_node, bob.id().to_string());
  EXPECT_EQ(pair.b->peer_node, alice.id().to_string());
  EXPECT_EQ(pass(self, pair.a->pipe, pair.b->pipe, "alice to bob"), "alice to bob");
  EXPECT_EQ(pass(self, pair.b->pipe, pair.a->pipe, "bob to alice"), "bob to alice");
}

TEST(PipeReuse, AListenUntilUpServerStopsListeningOnceAConnectionIsUp) {
  runtime rt;
  caf::scoped_actor sub{rt.system()};
  auto spec = server_spec(tcp, any_port("127.0.0.1"), echo_handler());
  spec.conf = reuse();
  spec.listen_until_up = true;
  spec.subscribers.push_back({as_actor(sub), events::up | events::end});
  auto server = rt.open(spec);
  ASSERT_OK(server);
  auto client = rt.connect(tcp, server->local());
  ASSERT_OK(client);
  ASSERT_TRUE(next<pipe_up>(sub));
  ASSERT_OK(server->stats()); // answered after the up: the listener is shut by then
  EXPECT_FALSE(raw_connect(server->local())) << "a second client got in";
  EXPECT_OK(client->send("still served"));
  auto got = client->recv();
  ASSERT_OK(got);
  EXPECT_EQ(to_string(got->data), "still served");
  // With its last connection the server ends: nothing could come to it.
  EXPECT_OK(client->close());
  auto one = next<pipe_end>(sub);
  ASSERT_TRUE(one);
  EXPECT_FALSE(one->whole);
  auto all = next<pipe_end>(sub);
  ASSERT_TRUE(all);
  EXPECT_TRUE(all->whole);
}

TEST(PipeReuse, AClientPipeClosedWhileConnectingAnswersItsOpen) {
  auto sink = syn_sink::make(); // its SYN is dropped: the connect stays pending
  ASSERT_TRUE(sink);
  runtime rt;
  caf::scoped_actor self{rt.system()};
  auto pipe = spawn_pipe(rt.system(), bound_client(any_port("127.0.0.1"), sink->local));
  auto pending = self->request(pipe, std::chrono::seconds(10), caf::open_atom::value);
  caf::anon_send(pipe, caf::close_atom::value);
  std::optional<caf::error> err;
  pending.receive([&](pipe_info&) { ADD_FAILURE() << "a pipe toward a SYN sink opened"; },
                  [&](caf::error& e) { err = e; });
  ASSERT_TRUE(err);
  EXPECT_ERRC(*err, errc::pipe_closed);
}

TEST(PipeReuse, AConnectBetweenEndpointsAlreadyConnectedSaysSo) {
  runtime rt;
  auto lspec = server_spec(tcp, any_port("127.0.0.1"));
  lspec.conf = reuse();
  auto listener = rt.open(lspec); // the port both clients connect from
  ASSERT_OK(listener);
  auto server = rt.listen(tcp, any_port("127.0.0.1"), echo_handler());
  ASSERT_OK(server);
  auto first = rt.open(bound_client(listener->local(), server->local()));
  ASSERT_OK(first);
  auto second = rt.open(bound_client(listener->local(), server->local()));
  ASSERT_FALSE(second);
  EXPECT_ERRC(second, errc::connect_failed);
  EXPECT_NE(render(second.error()).find("exists already"), std::string::npos)
    << render(second.error());
}
