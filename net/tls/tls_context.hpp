#pragma once

#include <memory>
#include <string>
#include <utility>

#include "p2pd/net/crypto/identity.hpp"
#include "p2pd/net/error.hpp"

// OpenSSL's own names for SSL_CTX and SSL, declared here so that this header
// does not pull in <openssl/ssl.h>.
struct ssl_ctx_st;

namespace p2pd::net {

/// What a TLS endpoint is and whom it trusts. Files are PEM.
struct tls_config {
  /// Accepts connections (needs `cert_file` and `key_file`) instead of
  /// making them.
  bool server = false;

  /// This side's certificate chain (leaf first) and its private key: required
  /// for servers, optional for clients (a client certificate for mutual TLS).
  std::string cert_file;
  std::string key_file;

  /// The CAs to trust when verifying the peer; empty = the system's store.
  std::string ca_file;

  /// Clients: verify the server's certificate chain and that it is for
  /// `host_name`. On by default; false is an explicit opt-out that accepts
  /// any certificate (the original P2PD's behaviour). Servers ignore it.
  bool verify_peer = true;

  /// Clients: the name sent as SNI and checked against the certificate. An IP
  /// literal ("127.0.0.1", "::1") is checked against the certificate's IP
  /// addresses and not sent as SNI. A session may override it.
  std::string host_name;

  /// Servers: ask for a client certificate, verify it against `ca_file` (or
  /// the system's store) and refuse clients without one (mutual TLS).
  bool require_client_cert = false;

  /// Set by tls_context::make_node: both sides present node certificates
  /// (net/tls/node_cert.hpp) and verify the other's instead of a CA chain
  /// and a host name; the files above are unused.
  bool node_auth = false;
};

/// An OpenSSL SSL_CTX built from a tls_config: certificates and keys loaded
/// once and shared by every session of a pipe. TLS 1.2 is the minimum.
/// Immutable after make(), so sessions on different threads may share it.
class tls_context {
public:
  /// Loads certificates, keys and trust. Errors say which file failed and
  /// why: "cannot read TLS certificate file '/x.pem': ENOENT (...)".
  static result<std::shared_ptr<tls_context>> make(const tls_config& cfg);

  /// A context for connections between nodes, as `me`: TLS 1.3 only, `me`'s
  /// node certificate, and a peer certificate required on both sides and
  /// checked by node_keys_of() (tls_session::expect_peer() adds which node
  /// it must be). errc::crypto_failed if the certificate cannot be made.
  static result<std::shared_ptr<tls_context>> make_node(const identity& me, bool server);

  ~tls_context();
  tls_context(const tls_context&) = delete;
  tls_context& operator=(const tls_context&) = delete;

  /// The configuration this context was made from.
  const tls_config& config() const { return cfg_; }

  /// The OpenSSL context (an SSL_CTX*), for sessions.
  ssl_ctx_st* native_handle() const { return ctx_; }

private:
  tls_context(ssl_ctx_st* ctx, tls_config cfg) : ctx_(ctx), cfg_(std::move(cfg)) {}

  ssl_ctx_st* ctx_;
  tls_config cfg_;
};

/// Empties this thread's OpenSSL error queue and returns its entries,
/// "; "-separated, oldest first ("" if it was empty). OpenSSL keeps one queue
/// per thread: what one session leaves there would otherwise show up in the
/// next session's error on the same thread.
std::string take_openssl_errors();

} // namespace p2pd::net
