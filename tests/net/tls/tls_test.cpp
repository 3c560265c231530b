#include "p2pd/net/tls/tls.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "support/child_process.hpp"
#include "support/expect.hpp"
#include "support/files.hpp"
#include "support/temp_dir.hpp"
#include "support/tls_certs.hpp"
#include "p2pd/net/sock/socket.hpp"
#include "support/values.hpp"

using namespace p2pd::net;
using p2pd::test::cert_pair;
using p2pd::test::child_process;
using p2pd::test::contains;
using p2pd::test::have_program;
using p2pd::test::read_file;
using p2pd::test::temp_dir;
using p2pd::test::tls_test_certs;

namespace {

// Certificates are made once for the suite: keygen is the slow part.
class TlsTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    std::string err;
    certs_ = tls_test_certs::make(err).release();
    ASSERT_NE(certs_, nullptr) << err;
  }
  static void TearDownTestSuite() {
    delete certs_;
    certs_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(certs_, nullptr);
    ERR_clear_error();
  }
  // Whatever a test did, it must leave this thread's OpenSSL error queue empty.
  void TearDown() override { EXPECT_EQ(ERR_peek_error(), 0u) << "OpenSSL error queue not empty"; }

  static const tls_test_certs& certs() { return *certs_; }

  static tls_config server_config(const cert_pair& id) {
    tls_config cfg;
    cfg.server = true;
    cfg.cert_file = id.cert;
    cfg.key_file = id.key;
    return cfg;
  }

  static tls_config client_config(const std::string& host) {
    tls_config cfg;
    cfg.ca_file = certs().ca.cert;
    cfg.host_name = host;
    return cfg;
  }

  static std::shared_ptr<tls_context> context(const tls_config& cfg) {
    auto ctx = tls_context::make(cfg);
    EXPECT_OK(ctx);
    return ctx ? *ctx : nullptr;
  }

  static tls_session session(const tls_config& cfg) {
    auto s = tls_session::make(context(cfg));
    if (!s)
      throw std::runtime_error(to_string(s.error()));
    return std::move(*s);
  }

private:
  static tls_test_certs* certs_;
};

tls_test_certs* TlsTest::certs_ = nullptr;

// A client and a server session connected through memory: what each one
// writes is fed to the other, `chunk` bytes at a time.
struct tls_link {
  tls_session client;
  tls_session server;
  std::vector<char> client_plain; // what the client received
  std::vector<char> server_plain; // what the server received
  error client_err;
  error server_err;

  // Moves bytes both ways until neither side has output; false if that took
  // too long (a loop that never settles).
  bool pump(size_t chunk = 64 * 1024) {
    for (int round = 0; round < 10000; ++round) {
      std::vector<char> to_server;
      std::vector<char> to_client;
      client.take_output(to_server);
      deliver(to_server, server, server_plain, server_err, chunk);
      server.take_output(to_client);
      deliver(to_client, client, client_plain, client_err, chunk);
      if (to_server.empty() && to_client.empty())
        return true;
    }
    return false;
  }

  static void deliver(const std::vector<char>& bytes, tls_session& to, std::vector<char>& plain,
                      error& err, size_t chunk) {
    for (size_t i = 0; i < bytes.size() && !err; i += chunk) {
      size_t n = std::min(chunk, bytes.size() - i);
      err = to.feed(bytes.data() + i, n, plain);
    }
  }
};

tls_link connect(tls_session client, tls_session server) {
  tls_link link{std::move(client), std::move(server), {}, {}, {}, {}};
  EXPECT_TRUE(link.pump());
  return link;
}

std::string text(const std::vector<char>& bytes) {
  return std::string(bytes.begin(), bytes.end());
}

void expect_connected(const tls_link& link) {
  EXPECT_OK(link.client_err);
  EXPECT_OK(link.server_err);
  EXPECT_TRUE(link.client.handshake_done());
  EXPECT_TRUE(link.server.handshake_done());
}

// The client refused the server's certificate; the server heard about it by
// alert. Returns the client's message.
std::string expect_verify_failure(const tls_link& link) {
  EXPECT_EQ(link.client_err.code, errc::tls_verify_failed) << to_string(link.client_err);
  EXPECT_FALSE(link.client.handshake_done());
  EXPECT_EQ(link.server_err.code, errc::tls_failed) << to_string(link.server_err);
  EXPECT_TRUE(contains(link.server_err.what, "alert")) << link.server_err.what;
  return link.client_err.what;
}

TEST_F(TlsTest, HandshakeAndEchoBothWays) {
  auto client = session(client_config("localhost"));
  auto server = session(server_config(certs().server));
  EXPECT_FALSE(client.handshake_done());
  EXPECT_GT(client.output_size(), 0u) << "no ClientHello";
  auto link = connect(std::move(client), std::move(server));
  expect_connected(link);
  EXPECT_EQ(link.client.version(), "TLSv1.3");
  EXPECT_FALSE(link.client.cipher().empty());
  EXPECT_TRUE(contains(link.client.peer_subject(), "CN=localhost")) << link.client.peer_subject();
  EXPECT_EQ(link.server.peer_subject(), ""); // no client certificate

  ASSERT_FALSE(link.client.write("hello", 5));
  ASSERT_TRUE(link.pump());
  EXPECT_EQ(text(link.server_plain), "hello");
  ASSERT_FALSE(link.server.write("hello back", 10));
  ASSERT_TRUE(link.pump());
  EXPECT_EQ(text(link.client_plain), "hello back");
  expect_connected(link);
}

TEST_F(TlsTest, WritesBeforeTheHandshakeAreSentAfterIt) {
  auto client = session(client_config("localhost"));
  ASSERT_FALSE(client.write("early", 5));
  tls_link link{std::move(client), session(server_config(certs().server)), {}, {}, {}, {}};
  ASSERT_TRUE(link.pump());
  expect_connected(link);
  EXPECT_EQ(text(link.server_plain), "early");
}

TEST_F(TlsTest, LargeDataInManyRecordsAndOddFragments) {
  auto link = connect(session(client_config("localhost")), session(server_config(certs().server)));
  expect_connected(link);
  std::vector<char> up(1 << 20);
  std::vector<char> down(1 << 20);
  for (size_t i = 0; i < up.size(); ++i) {
    up[i] = static_cast<char>((i * 7919) >> 3);
    down[i] = static_cast<char>(i * 31 + 5);
  }
  // In pieces too: several writes make several batches of records.
  ASSERT_FALSE(link.client.write(up.data(), up.size() / 2));
  ASSERT_FALSE(link.client.write(up.data() + up.size() / 2, up.size() - up.size() / 2));
  ASSERT_FALSE(link.server.write(down.data(), down.size()));
  EXPECT_GT(link.client.output_size(), up.size()); // 64+ records, each with overhead
  // 997 bytes per feed: records and headers split at every possible place.
  ASSERT_TRUE(link.pump(997));
  expect_connected(link);
  EXPECT_TRUE(link.server_plain == up) << link.server_plain.size() << " bytes arrived";
  EXPECT_TRUE(link.client_plain == down) << link.client_plain.size() << " bytes arrived";
}

TEST_F(TlsTest, Tls12AlsoWorks) {
  // TLS 1.2's handshake ends in the other order (server first): the queued
  // write must still go out once the client is done.
  auto ctx = context(client_config("localhost"));
  ASSERT_EQ(SSL_CTX_set_max_proto_version(ctx->native_handle(), TLS1_2_VERSION), 1);
  auto client = tls_session::make(ctx);
  ASSERT_TRUE(client);
  ASSERT_FALSE(client->write("twelve", 6));
  auto link = connect(std::move(*client), session(server_config(certs().server)));
  expect_connected(link);
  EXPECT_EQ(link.client.version(), "TLSv1.2");
  EXPECT_EQ(text(link.server_plain), "twelve");
  ASSERT_FALSE(link.server.write("back", 4));
  ASSERT_TRUE(link.pump());
  EXPECT_EQ(text(link.client_plain), "back");
}

TEST_F(TlsTest, VerifiesIpAddressNames) {
  for (const char* ip : {"127.0.0.1", "::1"}) {
    SCOPED_TRACE(ip);
    auto link = connect(session(client_config(ip)), session(server_config(certs().server)));
    expect_connected(link);
  }
}

TEST_F(TlsTest, HostNameOverridePerSession) {
  auto ctx = context(client_config("wrong.test"));
  auto client = tls_session::make(ctx, "localhost", "127.0.0.1:443");
  ASSERT_OK(client);
  auto link = connect(std::move(*client), session(server_config(certs().server)));
  expect_connected(link);
}

TEST_F(TlsTest, SelfSignedCertFailsVerification) {
  auto client = tls_session::make(context(client_config("localhost")), {}, "127.0.0.1:443");
  ASSERT_TRUE(client);
  auto link = connect(std::move(*client), session(server_config(certs().self_signed)));
  auto what = expect_verify_failure(link);
  EXPECT_EQ(what, "TLS handshake with 127.0.0.1:443 failed: certificate verify failed: "
                  "self-signed certificate");
  // Failed for good, and says so again.
  std::vector<char> plain;
  EXPECT_EQ(link.client.feed("x", 1, plain).what, what);
  EXPECT_EQ(link.client.write("x", 1).what, what);
  EXPECT_EQ(link.client.failure().what, what);
}

TEST_F(TlsTest, HostNameMismatchFails) {
  auto link = connect(session(client_config("other.test")), session(server_config(certs().server)));
  auto what = expect_verify_failure(link);
  EXPECT_TRUE(contains(what, "host name mismatch: certificate is for 'localhost', '127.0.0.1', "
                             "'::1', not 'other.test'"))
    << what;
}

TEST_F(TlsTest, IpAddressMismatchFails) {
  auto link = connect(session(client_config("127.0.0.2")), session(server_config(certs().server)));
  auto what = expect_verify_failure(link);
  EXPECT_TRUE(contains(what, "not '127.0.0.2'")) << what;
}

TEST_F(TlsTest, ExpiredCertFails) {
  auto link = connect(session(client_config("localhost")), session(server_config(certs().expired)));
  auto what = expect_verify_failure(link);
  EXPECT_TRUE(contains(what, "certificate verify failed: certificate has expired")) << what;
}

TEST_F(TlsTest, UntrustedWithoutCaFileFails) {
  // The system's store does not know our test CA.
  auto cfg = client_config("localhost");
  cfg.ca_file.clear();
  auto link = connect(session(cfg), session(server_config(certs().server)));
  auto what = expect_verify_failure(link);
  EXPECT_TRUE(contains(what, "unable to get local issuer certificate")) << what;
}

TEST_F(TlsTest, VerifyPeerOffAcceptsSelfSigned) {
  tls_config cfg;
  cfg.verify_peer = false; // no CA, no host name needed
  auto link = connect(session(cfg), session(server_config(certs().self_signed)));
  expect_connected(link);
  ASSERT_FALSE(link.client.write("ok", 2));
  ASSERT_TRUE(link.pump());
  EXPECT_EQ(text(link.server_plain), "ok");
}

TEST_F(TlsTest, VerifyingClientNeedsHostName) {
  auto s = tls_session::make(context(client_config("")));
  ASSERT_FALSE(s);
  EXPECT_ERRC(s, errc::invalid_argument);
  EXPECT_TRUE(contains(s.error().what, "host name")) << s.error().what;
}

TEST_F(TlsTest, ServerWithoutCertIsConfigError) {
  tls_config cfg;
  cfg.server = true;
  auto ctx = tls_context::make(cfg);
  ASSERT_FALSE(ctx);
  EXPECT_ERRC(ctx, errc::invalid_argument);
  EXPECT_EQ(ctx.error().what, "a TLS server needs cert_file and key_file");
  cfg.cert_file = certs().server.cert;
  EXPECT_FALSE(tls_context::make(cfg));
}

TEST_F(TlsTest, MissingFilesAreNamed) {
  auto missing = certs().dir + "/missing.pem";
  auto cfg = server_config(certs().server);
  cfg.cert_file = missing;
  auto ctx = tls_context::make(cfg);
  ASSERT_FALSE(ctx);
  EXPECT_ERRC(ctx, errc::invalid_argument);
  EXPECT_EQ(ctx.error().what, "cannot read TLS certificate file '" + missing
                                + "': ENOENT (No such file or directory)");

  cfg = server_config(certs().server);
  cfg.key_file = missing;
  ctx = tls_context::make(cfg);
  ASSERT_FALSE(ctx);
  EXPECT_TRUE(contains(ctx.error().what, "private key file '" + missing + "'"))
    << ctx.error().what;

  auto client = client_config("localhost");
  client.ca_file = missing;
  ctx = tls_context::make(client);
  ASSERT_FALSE(ctx);
  EXPECT_TRUE(contains(ctx.error().what, "CA file '" + missing + "'")) << ctx.error().what;
}

TEST_F(TlsTest, UnparsableFilesAreNamed) {
  const auto& garbage = certs().garbage;
  auto cfg = server_config(certs().server);
  cfg.cert_file = garbage;
  auto ctx = tls_context::make(cfg);
  ASSERT_FALSE(ctx);
  EXPECT_ERRC(ctx, errc::invalid_argument);
  EXPECT_TRUE(contains(ctx.error().what, "cannot load TLS certificate from '" + garbage + "': "))
    << ctx.error().what;

  cfg = server_config(certs().server);
  cfg.key_file = garbage;
  ctx = tls_context::make(cfg);
  ASSERT_FALSE(ctx);
  EXPECT_TRUE(contains(ctx.error().what, "cannot load TLS private key from '" + garbage))
    << ctx.error().what;

  cfg = server_config(certs().server);
  cfg.key_file = certs().self_signed.key;
  ctx = tls_context::make(cfg);
  ASSERT_FALSE(ctx);
  EXPECT_TRUE(contains(ctx.error().what, "does not match")) << ctx.error().what;

  auto client = client_config("localhost");
  client.ca_file = garbage;
  ctx = tls_context::make(client);
  ASSERT_FALSE(ctx);
  EXPECT_TRUE(contains(ctx.error().what, "CA certificates from '" + garbage))
    << ctx.error().what;
}

TEST_F(TlsTest, GarbageInputIsAnErrorNotACrash) {
  // Plain HTTP to a TLS server.
  auto server = session(server_config(certs().server));
  std::vector<char> plain;
  std::string http = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
  auto err = server.feed(http.data(), http.size(), plain);
  EXPECT_EQ(err.code, errc::tls_failed);
  EXPECT_TRUE(contains(err.what, "TLS handshake with peer failed: ")) << err.what;
  EXPECT_TRUE(plain.empty());

  // Noise to a client waiting for the ServerHello.
  auto client = session(client_config("localhost"));
  std::vector<char> noise(4096);
  for (size_t i = 0; i < noise.size(); ++i)
    noise[i] = static_cast<char>(i * 131 + 7);
  EXPECT_EQ(client.feed(noise.data(), noise.size(), plain).code, errc::tls_failed);

  // A well-framed application-data record that does not decrypt, after the
  // handshake.
  auto link = connect(session(client_config("localhost")), session(server_config(certs().server)));
  expect_connected(link);
  std::string record = "\x17\x03\x03";
  record += '\0';
  record += '\x40';
  record += std::string(0x40, 'A');
  err = link.server.feed(record.data(), record.size(), plain);
  EXPECT_EQ(err.code, errc::tls_failed);
  EXPECT_TRUE(contains(err.what, "TLS read with peer failed: ")) << err.what;
  EXPECT_GT(link.server.output_size(), 0u) << "no alert for the peer";
}

TEST_F(TlsTest, CloseNotifyIsSeenByThePeer) {
  auto link = connect(session(client_config("localhost")), session(server_config(certs().server)));
  expect_connected(link);
  ASSERT_FALSE(link.client.write("last words", 10));
  link.client.close_notify();
  ASSERT_TRUE(link.pump());
  EXPECT_EQ(text(link.server_plain), "last words");
  EXPECT_TRUE(link.server.peer_closed());
  EXPECT_OK(link.server_err);
  EXPECT_EQ(link.client.write("more", 4).code, errc::pipe_closed);

  // The server answers with its own; the client sees that too.
  EXPECT_FALSE(link.client.peer_closed());
  link.server.close_notify();
  ASSERT_TRUE(link.pump());
  EXPECT_TRUE(link.client.peer_closed());
  EXPECT_OK(link.client_err);
}

TEST_F(TlsTest, MutualTlsWithClientCert) {
  auto server_cfg = server_config(certs().server);
  server_cfg.require_client_cert = true;
  server_cfg.ca_file = certs().ca.cert;
  auto client_cfg = client_config("localhost");
  client_cfg.cert_file = certs().client.cert;
  client_cfg.key_file = certs().client.key;
  auto link = connect(session(client_cfg), session(server_cfg));
  expect_connected(link);
  EXPECT_TRUE(contains(link.server.peer_subject(), "CN=p2pd test client"))
    << link.server.peer_subject();
}

TEST_F(TlsTest, MutualTlsRefusesClientWithoutCert) {
  auto server_cfg = server_config(certs().server);
  server_cfg.require_client_cert = true;
  server_cfg.ca_file = certs().ca.cert;
  auto link = connect(session(client_config("localhost")), session(server_cfg));
  EXPECT_EQ(link.server_err.code, errc::tls_verify_failed) << to_string(link.server_err);
  EXPECT_EQ(link.server_err.what, "TLS handshake with peer failed: the client sent no certificate");
  // In TLS 1.3 the client's handshake ends before the server has checked its
  // certificate: the client learns of the refusal from the alert that follows.
  EXPECT_EQ(link.client_err.code, errc::tls_failed) << to_string(link.client_err);
  EXPECT_TRUE(contains(link.client_err.what, "certificate required")) << link.client_err.what;
}

TEST_F(TlsTest, MutualTlsRefusesClientCertFromUnknownCa) {
  auto server_cfg = server_config(certs().server);
  server_cfg.require_client_cert = true;
  server_cfg.ca_file = certs().ca.cert;
  auto client_cfg = client_config("localhost");
  client_cfg.cert_file = certs().self_signed.cert;
  client_cfg.key_file = certs().self_signed.key;
  auto link = connect(session(client_cfg), session(server_cfg));
  EXPECT_EQ(link.server_err.code, errc::tls_verify_failed) << to_string(link.server_err);
  EXPECT_TRUE(contains(link.server_err.what, "certificate verify failed: self-signed certificate"))
    << link.server_err.what;
  EXPECT_TRUE(link.client_err) << "the client never heard of the refusal";
}

// ---- A real peer that no one here wrote: `openssl s_server -rev` ----------

using steady = std::chrono::steady_clock;

// Milliseconds left until `deadline`, for poll(); 0 once it passed.
int ms_left(steady::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
  return static_cast<int>(std::max<int64_t>(left.count(), 0));
}

// `openssl s_server -rev` on 127.0.0.1 with a port of the kernel's choice,
// which it prints ("ACCEPT 127.0.0.1:<port>"); it serves one connection,
// answering each line reversed. Stopped and reaped with the object.
class s_server_process {
public:
  // "" once it listens, else why not.
  std::string start(const std::string& cert, const std::string& key) {
    if (!dir_)
      return "cannot make a temporary directory";
    std::string why;
    if (!proc_.start({"openssl", "s_server", "-accept", "127.0.0.1:0", "-cert", cert, "-key", key,
                      "-rev", "-naccept", "1"},
                     log_path(), why))
      return why;
    const std::string accept = "ACCEPT 127.0.0.1:";
    if (!proc_.wait_for_text(log_path(), accept, 0, 10000))
      return "s_server did not report its port; it said: " + said();
    auto at = read_file(log_path()).find(accept);
    // The line is whole once its newline is there.
    if (!proc_.wait_for_text(log_path(), "\n", at, 10000))
      return "s_server did not finish its port line; it said: " + said();
    auto text = read_file(log_path());
    auto eol = text.find('\n', at);
    port_ = static_cast<uint16_t>(
      std::stoi(text.substr(at + accept.size(), eol - at - accept.size())));
    return {};
  }

  uint16_t port() const { return port_; }

  // Drives `s` over a blocking TCP connection to the server until the
  // plaintext received ends with `until`; "" on success, else what went wrong.
  std::string exchange(tls_session& s, std::vector<char>& plain, const std::string& until) {
    unique_fd fd{socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port_);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (!fd || connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0)
      return "connect to s_server failed: " + errno_text(errno);
    auto deadline = steady::now() + std::chrono::seconds(10);
    auto ends_with_until = [&] {
      return plain.size() >= until.size()
             && std::equal(until.begin(), until.end(), plain.end() - until.size());
    };
    while (!ends_with_until()) {
      if (auto err = send_output(s, fd.get()); !err.empty())
        return err;
      pollfd p{fd.get(), POLLIN, 0};
      int n = poll(&p, 1, ms_left(deadline));
      if (n <= 0)
        return "no answer from s_server in time; it said: " + said();
      char buf[4096];
      ssize_t got = recv(fd.get(), buf, sizeof buf, 0);
      if (got <= 0)
        return "s_server closed the connection; it said: " + said();
      if (auto err = s.feed(buf, static_cast<size_t>(got), plain))
        return to_string(err) + "; s_server said: " + said();
    }
    s.close_notify();
    return send_output(s, fd.get());
  }

private:
  static std::string send_output(tls_session& s, int fd) {
    std::vector<char> out;
    s.take_output(out);
    for (size_t off = 0; off < out.size();) {
      ssize_t n = send(fd, out.data() + off, out.size() - off, MSG_NOSIGNAL);
      if (n <= 0)
        return "send to s_server failed: " + errno_text(errno);
      off += static_cast<size_t>(n);
    }
    return {};
  }

  std::string log_path() const { return dir_.path() + "/s_server.log"; }

  // For error messages: what s_server printed (its last words too, if it is
  // exiting: a bounded wait, on failure only).
  std::string said() {
    proc_.wait_exit(200);
    return read_file(log_path());
  }

  temp_dir dir_{"p2pd-s_server-"};
  child_process proc_;
  uint16_t port_ = 0;
};

TEST_F(TlsTest, AgainstOpensslSServer) {
  if (!have_program("openssl"))
    GTEST_SKIP() << "no openssl binary on PATH (scripts/install-deps.sh installs it)";
  s_server_process peer;
  auto why = peer.start(certs().server.cert, certs().server.key);
  ASSERT_TRUE(why.empty()) << why;
  auto client = tls_session::make(context(client_config("localhost")), {},
                                  "openssl s_server at 127.0.0.1:" + std::to_string(peer.port()));
  ASSERT_OK(client);
  // s_server -rev answers each line reversed.
  ASSERT_FALSE(client->write("hello p2pd\n", 11));
  std::vector<char> plain;
  auto err = peer.exchange(*client, plain, "dp2p olleh\n");
  ASSERT_TRUE(err.empty()) << err;
  EXPECT_EQ(text(plain), "dp2p olleh\n");
  EXPECT_TRUE(client->handshake_done());
  EXPECT_EQ(client->version(), "TLSv1.3");
  EXPECT_TRUE(contains(client->peer_subject(), "CN=localhost")) << client->peer_subject();
}

} // namespace
