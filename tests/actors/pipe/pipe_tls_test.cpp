// TLS pipes: use_ssl on TCP clients and servers, verification on by default.
#include "support/expect.hpp"
#include "support/pipes.hpp"
#include "support/values.hpp"

#include "support/tls_certs.hpp"

using namespace p2pd;
using namespace p2pd::test;

namespace {

class PipeTls : public ::testing::Test {
protected:
  void SetUp() override {
    std::string err;
    certs = tls_test_certs::make(err);
    ASSERT_TRUE(certs) << err;
  }

  pipe_spec tls_server(const cert_pair& pair, msg_handler on_msg = echo_handler()) {
    auto spec = server_spec(tcp, any_port("127.0.0.1"), std::move(on_msg));
    net::tls_config tls;
    tls.cert_file = pair.cert;
    tls.key_file = pair.key;
    spec.tls = tls;
    return spec;
  }

  pipe_spec tls_client(const endpoint& to, const std::string& host = "127.0.0.1") {
    auto spec = client_spec(tcp, host, to.port);
    net::tls_config tls;
    tls.ca_file = certs->ca.cert;
    spec.tls = tls;
    return spec;
  }

  std::unique_ptr<tls_test_certs> certs;
  runtime rt;
};

} // namespace

TEST_F(PipeTls, EchoesBothWaysOverTls) {
  auto server = rt.open(tls_server(certs->server));
  ASSERT_OK(server);
  auto client = rt.open(tls_client(server->local()));
  ASSERT_OK(client);
  for (auto text : {"first secret", "second secret"}) {
    EXPECT_OK(client->send(text));
    auto got = client->recv();
    ASSERT_OK(got);
    EXPECT_EQ(to_string(got->data), text);
  }
}

TEST_F(PipeTls, AnAdoptedListenerWithTlsServesTls) {
  // Before: an adopted listening socket ignored use_ssl and served its
  // connections in the clear, so a TLS client's handshake failed.
  auto fd = net::open_listener(any_port("127.0.0.1"));
  ASSERT_TRUE(fd);
  auto spec = tls_server(certs->server);
  spec.local.reset();
  spec.adopt_fd = fd->release();
  auto server = rt.open(spec);
  ASSERT_OK(server);
  auto client = rt.open(tls_client(server->local()));
  ASSERT_OK(client);
  EXPECT_OK(client->send("over tls"));
  auto got = client->recv();
  ASSERT_OK(got);
  EXPECT_EQ(to_string(got->data), "over tls");
}

TEST_F(PipeTls, ServerSideSeesPlaintextAndRepliesByEndpoint) {
  auto spec = tls_server(certs->server, {});
  auto server = rt.open(spec);
  ASSERT_OK(server);
  auto client = rt.open(tls_client(server->local()));
  ASSERT_OK(client);
  EXPECT_OK(client->send("hello server"));
  auto got = server->recv();
  ASSERT_OK(got);
  EXPECT_EQ(to_string(got->data), "hello server");
  EXPECT_OK(server->send("hello client", got->from));
  auto reply = client->recv();
  ASSERT_OK(reply);
  EXPECT_EQ(to_string(reply->data), "hello client");
}

TEST_F(PipeTls, LargeTransferArrivesWhole) {
  auto server = rt.open(tls_server(certs->server, {}));
  ASSERT_OK(server);
  auto client = rt.open(tls_client(server->local()));
  ASSERT_OK(client);
  std::string big(256 * 1024, 'q');
  EXPECT_OK(client->send(big));
  size_t total = 0;
  for (int i = 0; i < 1000 && total < big.size(); ++i) {
    auto got = server->recv();
    ASSERT_OK(got);
    total += got->data.size();
  }
  EXPECT_EQ(total, big.size());
}

TEST_F(PipeTls, ClientRefusesASelfSignedServer) {
  auto server = rt.open(tls_server(certs->self_signed));
  ASSERT_OK(server);
  auto client = rt.open(tls_client(server->local()));
  ASSERT_FALSE(client);
  EXPECT_ERRC(client, errc::tls_verify_failed);
  EXPECT_NE(what_of(client.error()).find("self-signed"), std::string::npos)
    << render(client.error());
}

TEST_F(PipeTls, ClientRefusesAServerWithAnotherName) {
  auto server = rt.open(tls_server(certs->server));
  ASSERT_OK(server);
  auto spec = tls_client(server->local());
  spec.tls->host_name = "other.test";
  auto client = rt.open(spec);
  ASSERT_FALSE(client);
  EXPECT_ERRC(client, errc::tls_verify_failed);
}

TEST_F(PipeTls, VerificationCanBeTurnedOffExplicitly) {
  auto server = rt.open(tls_server(certs->self_signed));
  ASSERT_OK(server);
  auto spec = tls_client(server->local());
  spec.tls->verify_peer = false;
  auto client = rt.open(spec);
  ASSERT_OK(client);
  EXPECT_OK(client->send("unverified"));
  ASSERT_OK(client->recv());
}

TEST_F(PipeTls, HandshakeThatNeverCompletesTimesOut) {
  // A plain TCP server: it accepts and never answers the ClientHello.
  auto mute = rt.listen(tcp, any_port("127.0.0.1"), [](pipe_io&, std::string_view,
                                                      const endpoint&) {});
  ASSERT_OK(mute);
  auto spec = tls_client(mute->local());
  spec.conf.ssl_handshake = 200ms;
  auto client = rt.open(spec);
  ASSERT_FALSE(client);
  EXPECT_ERRC(client, errc::tls_failed);
  EXPECT_NE(what_of(client.error()).find("did not finish"), std::string::npos)
    << render(client.error());
}

TEST_F(PipeTls, ServerDropsAClientThatSpeaksPlainTcp) {
  caf::scoped_actor sub{rt.system()};
  auto spec = tls_server(certs->server, {});
  spec.subscribers.push_back({as_actor(sub), events::end | events::up});
  auto server = rt.open(spec);
  ASSERT_OK(server);
  auto plain = rt.connect(tcp, server->local());
  ASSERT_OK(plain);
  EXPECT_OK(plain->send("GET / HTTP/1.0\r\n\r\n"));
  auto end = next<pipe_end>(sub);
  ASSERT_TRUE(end);
  EXPECT_ERRC(end->reason, errc::tls_failed);
  EXPECT_FALSE(next<pipe_up>(sub, 50ms)); // never up: no handshake
}

TEST_F(PipeTls, UseSslWithoutCertificateFailsForAServer) {
  auto spec = server_spec(tcp, any_port("127.0.0.1"));
  spec.conf.use_ssl = true;
  auto server = rt.open(spec);
  ASSERT_FALSE(server);
  EXPECT_ERRC(server, errc::invalid_argument);
}

TEST_F(PipeTls, UdpPipesRefuseTls) {
  auto spec = server_spec(udp, any_port("127.0.0.1"));
  spec.conf.use_ssl = true;
  auto server = rt.open(spec);
  ASSERT_FALSE(server);
  EXPECT_ERRC(server, errc::invalid_argument);
}

TEST_F(PipeTls, DaemonServesTls) {
  daemon_spec dspec;
  dspec.on_msg = echo_handler();
  net::tls_config tls;
  tls.cert_file = certs->server.cert;
  tls.key_file = certs->server.key;
  dspec.tls = tls;
  dspec.lock_ports = false;
  auto d = rt.start_daemon(dspec);
  ASSERT_OK(d);
  auto ls = d->listen_specific({{tcp, any_port("127.0.0.1")}});
  ASSERT_OK(ls);
  auto client = rt.open(tls_client(ls->front().local));
  ASSERT_OK(client);
  EXPECT_OK(client->send("daemon over tls"));
  auto got = client->recv();
  ASSERT_OK(got);
  EXPECT_EQ(to_string(got->data), "daemon over tls");
}
