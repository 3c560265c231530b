// The TLS end of a pipe's connections apart from the TCP direction
// (pipe_spec::tls_as), as TCP hole punching needs it: a client pipe that is
// the TLS server, a server pipe whose accepted connections are TLS clients.
// Who speaks first, when a connection is up, and expect_node on either end.
#include <poll.h>

#include "support/expect.hpp"
#include "support/pipes.hpp"
#include "support/sockets.hpp"
#include "support/values.hpp"

#include "p2pd/net/tls/tls.hpp"
#include "actors/pipe/node_tls.hpp"

using namespace p2pd;
using namespace p2pd::test;

namespace {

// Runs a TLS handshake over a plain blocking socket (a peer outside the
// pipe): "" once done, else why not. Reads are bounded by set_timeouts.
std::string drive_handshake(int fd, net::tls_session& s) {
  std::vector<char> out;
  std::vector<char> plain;
  char buf[16384];
  for (int turns = 0; turns < 20; ++turns) {
    out.clear();
    s.take_output(out);
    if (!out.empty() && ::send(fd, out.data(), out.size(), MSG_NOSIGNAL) < 0)
      return "send failed";
    if (s.handshake_done())
      return {};
    auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0)
      return "the pipe sent nothing more (or hung up) before the handshake was done";
    if (auto err = s.feed(buf, static_cast<size_t>(n), plain))
      return net::to_string(err);
  }
  return "the handshake did not finish in 20 turns";
}

// The first of pipe_up and pipe_end on `sub`: the end, or nothing (and a
// failure) if the connection came up first.
std::optional<pipe_end> end_before_up(caf::scoped_actor& sub) {
  std::optional<pipe_end> end;
  sub->receive([&](pipe_end& e) { end = e; },
               [&](pipe_up& u) { ADD_FAILURE() << "up before its handshake: " << u.peer.to_string(); },
               caf::after(std::chrono::seconds(5)) >> [] {});
  return end;
}

class PipeTlsRole : public ::testing::Test {
protected:
  // A server pipe of `me` whose accepted connections are TLS clients.
  pipe_spec server_as_tls_client(const net::identity& me, std::optional<net::node_id> expect) {
    auto spec = server_spec(tcp, any_port("127.0.0.1"), echo_handler());
    spec.tls_context = node_ctx(me, false);
    spec.tls_as = tls_role::client;
    spec.expect_node = expect;
    spec.length_prefixed = true;
    return spec;
  }

  // A client pipe of `me` toward `to` that is the TLS server.
  pipe_spec client_as_tls_server(const net::identity& me, const endpoint& to,
                                 std::optional<net::node_id> expect) {
    auto spec = client_spec(tcp, to.ip.to_string(), to.port);
    spec.tls_context = node_ctx(me, true);
    spec.tls_as = tls_role::server;
    spec.expect_node = expect;
    spec.length_prefixed = true;
    return spec;
  }

  net::identity alice = make_identity();
  net::identity bob = make_identity();
  runtime rt;
};

} // namespace

TEST_F(PipeTlsRole, BothEndsReversedConnectAndLearnTheOthersNodeId) {
  caf::scoped_actor sub{rt.system()};
  auto sspec = server_as_tls_client(bob, alice.id());
  sspec.subscribers.push_back({as_actor(sub), events::up});
  auto server = rt.open(sspec);
  ASSERT_OK(server);
  auto client = rt.open(client_as_tls_server(alice, server->local(), bob.id()));
  ASSERT_OK(client);
  EXPECT_EQ(client->info().peer_node, bob.id().to_string());
  auto up = next<pipe_up>(sub);
  ASSERT_TRUE(up);
  EXPECT_EQ(up->peer_node, alice.id().to_string());
  for (auto text : {"over a reversed handshake", "and once more"}) {
    EXPECT_OK(client->send(text));
    auto got = client->recv();
    ASSERT_OK(got);
    EXPECT_EQ(to_string(got->data), text);
  }
}

TEST_F(PipeTlsRole, AServerPipeAsTlsClientSendsTheClientHelloFirst) {
  auto server = rt.open(server_as_tls_client(bob, alice.id()));
  ASSERT_OK(server);
  auto raw = raw_connect(server->local());
  ASSERT_TRUE(raw);
  set_timeouts(raw.get(), std::chrono::seconds(5));
  // The raw side is a TLS server that waits: the pipe must begin.
  auto session = net::tls_session::make(node_ctx(alice, true), {}, "pipe");
  ASSERT_OK(session);
  session->expect_peer(bob.id());
  EXPECT_EQ(drive_handshake(raw.get(), *session), "");
  auto keys = session->peer_node_keys();
  ASSERT_OK(keys);
  EXPECT_EQ(net::node_id::of(*keys), bob.id());
}

TEST_F(PipeTlsRole, AClientPipeAsTlsServerWaitsForTheClientHello) {
  auto listener = net::open_listener(any_port("127.0.0.1"));
  ASSERT_OK(listener);
  auto at = *net::local_endpoint(listener->get());
  caf::scoped_actor self{rt.system()};
  auto pipe = spawn_pipe(rt.system(), client_as_tls_server(alice, at, bob.id()));
  auto pending = self->request(pipe, std::chrono::seconds(10), caf::open_atom::value);
  pollfd p{listener->get(), POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 5000), 1) << "the pipe did not connect";
  net::unique_fd conn{::accept4(listener->get(), nullptr, nullptr, SOCK_CLOEXEC)};
  ASSERT_TRUE(conn);
  set_timeouts(conn.get(), std::chrono::seconds(5));
  // The raw side is the TLS client: it sends the ClientHello, and the
  // handshake only works if the pipe answers it as a server.
  auto session = net::tls_session::make(node_ctx(bob, false), {}, "pipe");
  ASSERT_OK(session);
  session->expect_peer(alice.id());
  EXPECT_EQ(drive_handshake(conn.get(), *session), "");
  std::optional<pipe_info> info;
  pending.receive([&](pipe_info& x) { info = x; },
                  [&](caf::error& err) { ADD_FAILURE() << render(err); });
  ASSERT_TRUE(info);
  EXPECT_EQ(info->peer_node, bob.id().to_string());
  caf::anon_send(pipe, caf::close_atom::value);
}

TEST_F(PipeTlsRole, AClientPipeAsTlsServerRefusesAnotherNode) {
  auto server = rt.open(server_as_tls_client(bob, alice.id()));
  ASSERT_OK(server);
  auto carol = make_identity();
  auto client = rt.open(client_as_tls_server(alice, server->local(), carol.id()));
  ASSERT_FALSE(client);
  EXPECT_ERRC(client, errc::tls_verify_failed);
  EXPECT_NE(render(client.error()).find("not " + carol.id().to_string()), std::string::npos)
    << render(client.error());
}

TEST_F(PipeTlsRole, AServerPipeAsTlsClientRefusesAnotherNodeAndNeverReportsItUp) {
  caf::scoped_actor sub{rt.system()};
  auto carol = make_identity();
  auto sspec = server_as_tls_client(bob, carol.id());
  sspec.subscribers.push_back({as_actor(sub), events::up | events::end});
  auto server = rt.open(sspec);
  ASSERT_OK(server);
  auto client = rt.open(client_as_tls_server(alice, server->local(), bob.id()));
  ASSERT_FALSE(client); // the TLS client refused it: the alert ends its handshake
  auto end = end_before_up(sub);
  ASSERT_TRUE(end);
  EXPECT_ERRC(end->reason, errc::tls_verify_failed);
}

TEST_F(PipeTlsRole, AConnectionIsNotUpBeforeItsHandshakeIsDone) {
  caf::scoped_actor sub{rt.system()};
  auto sspec = server_as_tls_client(bob, alice.id());
  sspec.conf.ssl_handshake = std::chrono::milliseconds(300);
  sspec.subscribers.push_back({as_actor(sub), events::up | events::end});
  auto server = rt.open(sspec);
  ASSERT_OK(server);
  auto raw = raw_connect(server->local()); // connects, then never answers
  ASSERT_TRUE(raw);
  auto end = end_before_up(sub);
  ASSERT_TRUE(end);
  EXPECT_ERRC(end->reason, errc::tls_failed);
}

TEST_F(PipeTlsRole, AnExplicitRoleNeedsAContextOfThatEnd) {
  auto server = rt.open(server_as_tls_client(bob, alice.id()));
  ASSERT_OK(server);
  auto spec = client_as_tls_server(alice, server->local(), bob.id());
  spec.tls_context = node_ctx(alice, false); // a client context for a TLS server
  auto client = rt.open(spec);
  ASSERT_FALSE(client);
  EXPECT_ERRC(client, errc::invalid_argument);
  EXPECT_NE(render(client.error()).find("tls_as"), std::string::npos) << render(client.error());
}

TEST_F(PipeTlsRole, ByDirectionAServerPipeRefusesAClientContext) {
  auto spec = server_as_tls_client(bob, alice.id());
  spec.tls_as = tls_role::by_direction;
  auto server = rt.open(spec);
  ASSERT_FALSE(server);
  EXPECT_ERRC(server, errc::invalid_argument);
}
