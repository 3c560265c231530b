// TLS between nodes: certificates bound to node identities, checked both
// ways, in memory (two sessions pumped into each other; no socket).
#include "p2pd/net/tls/node_cert.hpp"
#include "p2pd/net/tls/tls.hpp"

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "support/expect.hpp"
#include "support/values.hpp"

using namespace p2pd::net;
using p2pd::test::make_identity;

namespace {

struct endpoint_pair {
  tls_session client;
  tls_session server;
};

class NodeTls : public ::testing::Test {
protected:
  void SetUp() override { ERR_clear_error(); }
  void TearDown() override { EXPECT_EQ(ERR_peek_error(), 0u) << "OpenSSL error queue not empty"; }

  static std::shared_ptr<tls_context> node_context(const identity& me, bool server) {
    auto ctx = tls_context::make_node(me, server);
    EXPECT_TRUE(ctx) << (ctx ? "" : ctx.error().what);
    return ctx ? *ctx : nullptr;
  }

  // Pumps bytes between the two until neither has output (bounded rounds).
  // Returns the first error either side reports.
  static error pump(tls_session& a, tls_session& b) {
    std::vector<char> wire, plain;
    for (int round = 0; round < 20; ++round) {
      bool moved = false;
      for (auto* from : {&a, &b}) {
        auto* to = from == &a ? &b : &a;
        wire.clear();
        from->take_output(wire);
        if (wire.empty())
          continue;
        moved = true;
        if (auto err = to->feed(wire.data(), wire.size(), plain))
          return err;
      }
      if (!moved)
        return {};
    }
    return error{errc::tls_failed, "the handshake did not settle in 20 rounds"};
  }

  identity alice = make_identity();
  identity bob = make_identity();
};

} // namespace

TEST_F(NodeTls, BothSidesLearnWhichNodeTheOtherIs) {
  auto c = tls_session::make(node_context(alice, false));
  auto s = tls_session::make(node_context(bob, true));
  ASSERT_TRUE(c && s);
  c->expect_peer(bob.id());
  ASSERT_FALSE(pump(*c, *s));
  ASSERT_TRUE(c->handshake_done() && s->handshake_done());
  EXPECT_EQ(c->version(), "TLSv1.3");
  auto server_is = c->peer_node_keys();
  auto client_is = s->peer_node_keys();
  ASSERT_TRUE(server_is && client_is);
  EXPECT_EQ(node_id::of(*server_is), bob.id());
  EXPECT_EQ(*client_is, alice.pub()); // an inbound connection learns who it is
}

TEST_F(NodeTls, DataFlowsBothWaysAfterTheHandshake) {
  auto c = tls_session::make(node_context(alice, false));
  auto s = tls_session::make(node_context(bob, true));
  ASSERT_TRUE(c && s);
  ASSERT_FALSE(c->write("ping", 4));
  ASSERT_FALSE(pump(*c, *s));
  std::vector<char> wire, plain;
  ASSERT_FALSE(s->write("pong", 4));
  s->take_output(wire);
  ASSERT_FALSE(c->feed(wire.data(), wire.size(), plain));
  EXPECT_EQ(std::string(plain.begin(), plain.end()), "pong");
}

TEST_F(NodeTls, AServerThatIsAnotherNodeIsRefused) {
  auto carol = make_identity();
  auto c = tls_session::make(node_context(alice, false));
  auto s = tls_session::make(node_context(carol, true));
  ASSERT_TRUE(c && s);
  c->expect_peer(bob.id());
  auto err = pump(*c, *s);
  ASSERT_TRUE(err);
  EXPECT_EQ(err.code, errc::tls_verify_failed);
  EXPECT_NE(err.what.find("the peer is node " + carol.id().to_string() + ", not "
                          + bob.id().to_string()),
            std::string::npos)
    << err.what;
  EXPECT_FALSE(c->peer_node_keys());
}

TEST_F(NodeTls, AClientWithoutACertificateIsRefused) {
  tls_config plain;
  plain.verify_peer = false;
  auto ctx = tls_context::make(plain);
  ASSERT_TRUE(ctx);
  auto c = tls_session::make(*ctx);
  auto s = tls_session::make(node_context(bob, true));
  ASSERT_TRUE(c && s);
  pump(*c, *s);
  EXPECT_FALSE(s->handshake_done());
  ASSERT_TRUE(s->failure());
  EXPECT_EQ(s->failure().code, errc::tls_verify_failed) << s->failure().what;
  ERR_clear_error();
}

TEST_F(NodeTls, ACertificateWithoutTheNodeKeyIsNotANodes) {
  // An ordinary self-signed Ed25519 certificate: the key is right, the
  // extension with the agreement key is missing.
  std::unique_ptr<X509, void (*)(X509*)> cert{X509_new(), X509_free};
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  ASSERT_NE(key, nullptr);
  X509_set_version(cert.get(), X509_VERSION_3);
  X509_set_pubkey(cert.get(), key);
  X509_sign(cert.get(), key, nullptr);
  auto keys = node_keys_of(cert.get());
  EVP_PKEY_free(key);
  ASSERT_FALSE(keys);
  EXPECT_ERRC(keys, errc::tls_verify_failed);
  EXPECT_NE(keys.error().what.find("no node key extension"), std::string::npos)
    << keys.error().what;
}

TEST_F(NodeTls, ACertificateSignedByAnotherKeyIsRefused) {
  // Alice's certificate re-signed by Bob's key: the extension would speak for
  // Alice's id without her key.
  auto cert = make_node_certificate(alice);
  ASSERT_TRUE(cert);
  ASSERT_GT(X509_sign(cert->get(), detail::sign_key_of(bob), nullptr), 0);
  auto keys = node_keys_of(cert->get());
  ASSERT_FALSE(keys);
  EXPECT_NE(keys.error().what.find("self-signature does not verify"), std::string::npos)
    << keys.error().what;
}

TEST_F(NodeTls, ANodeCertificateCarriesBothKeys) {
  auto cert = make_node_certificate(alice);
  ASSERT_TRUE(cert);
  auto keys = node_keys_of(cert->get());
  ASSERT_TRUE(keys) << keys.error().what;
  EXPECT_EQ(*keys, alice.pub());
}

TEST_F(NodeTls, PeerKeysAreNotForOrdinarySessions) {
  tls_config plain;
  plain.verify_peer = false;
  auto ctx = tls_context::make(plain);
  ASSERT_TRUE(ctx);
  auto c = tls_session::make(*ctx);
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->peer_node_keys());
}
