#include "p2pd/net/tls/tls_context.hpp"

#include <cerrno>
#include <cstdio>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "p2pd/net/crypto/detail/openssl_util.hpp"
#include "p2pd/net/tls/node_cert.hpp"

namespace p2pd::net {

using namespace detail;

namespace {

struct ctx_deleter {
  void operator()(SSL_CTX* p) const { SSL_CTX_free(p); }
};
using ctx_ptr = std::unique_ptr<SSL_CTX, ctx_deleter>;

error config_error(const std::string& what) {
  return error{errc::invalid_argument, what};
}

// `what` and OpenSSL's reason for the failure that just happened.
error openssl_error(const std::string& what) {
  auto why = take_openssl_errors();
  return config_error(what + ": " + (why.empty() ? "OpenSSL gave no reason" : why));
}

// OpenSSL reports a missing file as a "system library" error that buries
// the errno; opening it first gives "cannot read ... 'x': ENOENT (...)".
error check_readable(const char* kind, const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr)
    return sys_error(errc::invalid_argument,
                     std::string{"cannot read TLS "} + kind + " file '" + path + "'", errno);
  std::fclose(f);
  return {};
}

error load_own_cert(SSL_CTX* ctx, const tls_config& cfg) {
  if (auto err = check_readable("certificate", cfg.cert_file))
    return err;
  if (auto err = check_readable("private key", cfg.key_file))
    return err;
  if (SSL_CTX_use_certificate_chain_file(ctx, cfg.cert_file.c_str()) != 1)
    return openssl_error("cannot load TLS certificate from '" + cfg.cert_file + "'");
  if (SSL_CTX_use_PrivateKey_file(ctx, cfg.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    // OpenSSL checks the key against the certificate as it loads it.
    unsigned long e = ERR_peek_last_error();
    if (ERR_GET_LIB(e) == ERR_LIB_X509
        && (ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH
            || ERR_GET_REASON(e) == X509_R_KEY_TYPE_MISMATCH))
      return openssl_error("TLS private key '" + cfg.key_file + "' does not match certificate '"
                           + cfg.cert_file + "'");
    return openssl_error("cannot load TLS private key from '" + cfg.key_file + "'");
  }
  if (SSL_CTX_check_private_key(ctx) != 1)
    return openssl_error("TLS private key '" + cfg.key_file + "' does not match certificate '"
                         + cfg.cert_file + "'");
  return {};
}

error load_trust(SSL_CTX* ctx, const tls_config& cfg) {
  if (cfg.ca_file.empty()) {
    if (SSL_CTX_set_default_verify_paths(ctx) != 1)
      return openssl_error("cannot load the system's trusted CA certificates");
    return {};
  }
  if (auto err = check_readable("CA", cfg.ca_file))
    return err;
  if (SSL_CTX_load_verify_file(ctx, cfg.ca_file.c_str()) != 1)
    return openssl_error("cannot load TLS CA certificates from '" + cfg.ca_file + "'");
  if (cfg.server) {
    // Tells clients which CAs we accept, so one with several certificates
    // can pick the right one.
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(cfg.ca_file.c_str());
    if (names == nullptr)
      return openssl_error("cannot read CA names from '" + cfg.ca_file + "'");
    SSL_CTX_set_client_CA_list(ctx, names);
  }
  return {};
}

} // namespace

std::string take_openssl_errors() {
  std::string out;
  const char* data = nullptr;
  int flags = 0;
  while (unsigned long e = ERR_get_error_all(nullptr, nullptr, nullptr, &data, &flags)) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty())
      out += "; ";
    out += buf;
    if ((flags & ERR_TXT_STRING) != 0 && data != nullptr && *data != '\0') {
      out += " (";
      out += data;
      out += ')';
    }
  }
  return out;
}

result<std::shared_ptr<tls_context>> tls_context::make(const tls_config& cfg) {
  clear_errors_on_exit guard;
  if (cfg.server && (cfg.cert_file.empty() || cfg.key_file.empty()))
    return config_error("a TLS server needs cert_file and key_file");
  if (cfg.cert_file.empty() != cfg.key_file.empty())
    return config_error("TLS cert_file and key_file go together: give both or neither");
  if (!cfg.server && cfg.require_client_cert)
    return config_error("require_client_cert is for TLS servers");
  ctx_ptr ctx{SSL_CTX_new(cfg.server ? TLS_server_method() : TLS_client_method())};
  if (!ctx)
    return openssl_error("cannot create a TLS context");
  // TLS 1.0 and 1.1 are deprecated (RFC 8996).
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  // Renegotiation (TLS 1.2 only) buys a peer CPU-heavy handshakes at will and
  // nothing we need.
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_RENEGOTIATION);
  // A retried write may come from a different address: the session keeps its
  // unsent plaintext in a vector that can reallocate.
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (!cfg.cert_file.empty())
    if (auto err = load_own_cert(ctx.get(), cfg))
      return err;
  bool verify = cfg.server ? cfg.require_client_cert : cfg.verify_peer;
  if (verify) {
    if (auto err = load_trust(ctx.get(), cfg))
      return err;
    int mode = SSL_VERIFY_PEER;
    if (cfg.server)
      mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_verify(ctx.get(), mode, nullptr);
  } else {
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  }
  if (cfg.server) {
    // A server that verifies clients must name its sessions, or OpenSSL
    // refuses to resume them; any constant does for one application.
    static const unsigned char sid_ctx[] = "p2pd";
    SSL_CTX_set_session_id_context(ctx.get(), sid_ctx, sizeof sid_ctx - 1);
  }
  return std::shared_ptr<tls_context>{new tls_context(ctx.release(), cfg)};
}

result<std::shared_ptr<tls_context>> tls_context::make_node(const identity& me, bool server) {
  clear_errors_on_exit guard;
  auto cert = make_node_certificate(me);
  if (!cert)
    return cert.error();
  ctx_ptr ctx{SSL_CTX_new(server ? TLS_server_method() : TLS_client_method())};
  if (!ctx)
    return openssl_error("cannot create a TLS context");
  // Nodes are all this build or newer: nothing older than 1.3 to talk to,
  // and 1.3 encrypts the certificates (who connects to whom stays private).
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_3_VERSION);
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (SSL_CTX_use_certificate(ctx.get(), cert->get()) != 1
      || SSL_CTX_use_PrivateKey(ctx.get(), sign_key_of(me)) != 1
      || SSL_CTX_check_private_key(ctx.get()) != 1)
    return openssl_error("cannot use the node certificate");
  // Each session installs the callback that checks node certificates.
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  // No resumption: a resumed session would skip the node certificate check
  // (and tell no peer keys). Without it, the tickets a TLS 1.3 server sends
  // after each handshake are work for nothing: the server encodes the
  // session with the client's certificate into each, the client decodes
  // them again (about 6 % of the CPU of a mesh of connects), and the caches
  // keep sessions in memory.
  SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
  if (server)
    SSL_CTX_set_num_tickets(ctx.get(), 0);
  if (server) {
    static const unsigned char sid_ctx[] = "p2pd-node";
    SSL_CTX_set_session_id_context(ctx.get(), sid_ctx, sizeof sid_ctx - 1);
  }
  tls_config cfg;
  cfg.server = server;
  cfg.verify_peer = true;
  cfg.require_client_cert = server;
  cfg.node_auth = true;
  return std::shared_ptr<tls_context>{new tls_context(ctx.release(), std::move(cfg))};
}

tls_context::~tls_context() {
  SSL_CTX_free(ctx_);
}

} // namespace p2pd::net
