#include "p2pd/net/tls/tls.hpp"

#include <arpa/inet.h>

#include <memory>
#include <optional>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "p2pd/net/crypto/detail/openssl_util.hpp"
#include "p2pd/net/tls/node_cert.hpp"

namespace p2pd::net {

using namespace detail;

namespace {

// The largest TLS record's plaintext: what one SSL_read can return.
constexpr size_t read_chunk = 16 * 1024;

bool is_ip_literal(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1
         || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

bool want_io(int ssl_err) {
  return ssl_err == SSL_ERROR_WANT_READ || ssl_err == SSL_ERROR_WANT_WRITE;
}

const char* ssl_error_name(int ssl_err) {
  switch (ssl_err) {
    case SSL_ERROR_SSL: return "SSL_ERROR_SSL";
    case SSL_ERROR_SYSCALL: return "SSL_ERROR_SYSCALL";
    case SSL_ERROR_ZERO_RETURN: return "SSL_ERROR_ZERO_RETURN";
    default: return "unexpected SSL error";
  }
}

// OpenSSL's reason, or the SSL_get_error class when its queue is empty.
std::string reason(int ssl_err) {
  auto why = take_openssl_errors();
  return why.empty() ? std::string{ssl_error_name(ssl_err)} : why;
}

// True if an entry on this thread's error queue has this SSL reason.
bool queue_has(int ssl_reason) {
  for (unsigned long e : {ERR_peek_error(), ERR_peek_last_error()})
    if (e != 0 && ERR_GET_LIB(e) == ERR_LIB_SSL && ERR_GET_REASON(e) == ssl_reason)
      return true;
  return false;
}

// "'localhost', '127.0.0.1'": the names a certificate is for (its
// subjectAltName DNS names and IP addresses, else its common name).
std::string cert_names(X509* cert) {
  if (cert == nullptr)
    return "no certificate";
  std::string out;
  auto add = [&out](const std::string& name) {
    if (!out.empty())
      out += ", ";
    out += '\'' + name + '\'';
  };
  auto* sans = static_cast<GENERAL_NAMES*>(
    X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; sans != nullptr && i < sk_GENERAL_NAME_num(sans); ++i) {
    const GENERAL_NAME* gen = sk_GENERAL_NAME_value(sans, i);
    if (gen->type == GEN_DNS) {
      const ASN1_STRING* s = gen->d.dNSName;
      add(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                      static_cast<size_t>(ASN1_STRING_length(s))));
    } else if (gen->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* s = gen->d.iPAddress;
      int len = ASN1_STRING_length(s);
      char text[INET6_ADDRSTRLEN] = {};
      if ((len == 4 || len == 16)
          && inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(s), text,
                       sizeof text) != nullptr)
        add(text);
    }
  }
  GENERAL_NAMES_free(sans);
  if (out.empty()) {
    char cn[256];
    if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn,
                                  sizeof cn) > 0)
      add(cn);
  }
  return out.empty() ? "no host name" : out;
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return len > 0 ? std::string(data, static_cast<size_t>(len)) : std::string{};
}

struct ssl_free {
  void operator()(SSL* p) const { SSL_free(p); } // and both BIOs with it
};

} // namespace

struct tls_session::state {
  std::shared_ptr<tls_context> ctx;
  std::unique_ptr<SSL, ssl_free> ssl;
  BIO* rbio = nullptr; // network -> OpenSSL; owned by ssl
  BIO* wbio = nullptr; // OpenSSL -> network; owned by ssl
  std::string host;
  std::string label;
  std::string peer_names;    // set by verify_callback on a host name mismatch
  std::optional<node_id> expected; // node sessions: whom the peer must be
  std::optional<public_keys> peer_keys; // node sessions: set by node_verify_callback
  std::string node_why;      // node sessions: why the peer's certificate was refused
  x509_ptr checked_cert;     // node sessions: the certificate peer_keys came from
  std::vector<char> pending; // plaintext not yet accepted by SSL_write
  bool handshake_done = false;
  bool peer_closed = false;
  bool closed = false;
  error failure;

  error advance(std::vector<char>* plain_out);
  error read_plain(std::vector<char>& plain_out);
  error flush_pending();
  error fail(error err);
  error handshake_error(int ssl_err);
  error io_error(const char* op, int ssl_err);

  // OpenSSL's verdict stands; this only notes, for the error message, which
  // names the certificate had: OpenSSL keeps the peer's certificate only once
  // it passed verification, so after a failure there is none to ask.
  static int verify_callback(int ok, X509_STORE_CTX* store) {
    if (ok == 0) {
      int err = X509_STORE_CTX_get_error(store);
      auto* ssl = static_cast<SSL*>(
        X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
      auto* st = ssl != nullptr ? static_cast<state*>(SSL_get_app_data(ssl)) : nullptr;
      bool name_mismatch =
        err == X509_V_ERR_HOSTNAME_MISMATCH || err == X509_V_ERR_IP_ADDRESS_MISMATCH;
      if (st != nullptr && name_mismatch)
        st->peer_names = cert_names(X509_STORE_CTX_get0_cert(store));
    }
    return ok;
  }

  // Node sessions: the peer's certificate is checked by node_keys_of() (and
  // against the expected node), not against CAs: a node certificate is
  // self-signed and has no names or validity worth checking, so OpenSSL's
  // chain verdict on it is overruled either way.
  static int node_verify_callback(int, X509_STORE_CTX* store) {
    if (X509_STORE_CTX_get_error_depth(store) != 0)
      return 0; // a node sends its certificate alone
    auto* ssl = static_cast<SSL*>(
      X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
    auto* st = ssl != nullptr ? static_cast<state*>(SSL_get_app_data(ssl)) : nullptr;
    if (st == nullptr)
      return 0;
    // OpenSSL calls this twice for the one certificate (for the self-signed
    // chain, then for the leaf): its verdict is a function of the
    // certificate alone, and checking it (an Ed25519 verification) again
    // doubled the cost.
    X509* cert = X509_STORE_CTX_get0_cert(store);
    if (st->peer_keys && st->checked_cert && cert != nullptr
        && X509_cmp(cert, st->checked_cert.get()) == 0) {
      X509_STORE_CTX_set_error(store, X509_V_OK);
      return 1;
    }
    st->checked_cert.reset();
    auto keys = node_keys_of(cert);
    if (!keys) {
      st->node_why = keys.error().what;
    } else if (st->expected && node_id::of(*keys) != *st->expected) {
      st->node_why = "the peer is node " + node_id::of(*keys).to_string() + ", not "
                     + st->expected->to_string();
    } else {
      st->peer_keys = *keys;
      if (X509_up_ref(cert) == 1)
        st->checked_cert.reset(cert);
      X509_STORE_CTX_set_error(store, X509_V_OK);
      return 1;
    }
    st->peer_keys.reset();
    X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
    return 0;
  }
};

namespace {

error moved_from_error() {
  return error{errc::invalid_argument, "TLS session was moved from"};
}

} // namespace

tls_session::tls_session(std::unique_ptr<state> st) : st_(std::move(st)) {}
tls_session::tls_session(tls_session&&) noexcept = default;
tls_session& tls_session::operator=(tls_session&&) noexcept = default;
tls_session::~tls_session() = default;

result<tls_session> tls_session::make(std::shared_ptr<tls_context> ctx, std::string host_name,
                                      std::string peer_label) {
  clear_errors_on_exit guard;
  if (!ctx)
    return error{errc::invalid_argument, "a TLS session needs a context"};
  const tls_config& cfg = ctx->config();
  if (host_name.empty())
    host_name = cfg.host_name;
  bool verify = !cfg.server && cfg.verify_peer && !cfg.node_auth;
  if (verify && host_name.empty())
    return error{errc::invalid_argument,
                 "a TLS client that verifies its peer needs the host name to check"
                 " (or verify_peer = false)"};
  auto st = std::make_unique<state>();
  st->ssl.reset(SSL_new(ctx->native_handle()));
  if (!st->ssl)
    return error{errc::tls_failed, "cannot create a TLS session: " + reason(SSL_ERROR_SSL)};
  SSL* ssl = st->ssl.get();
  st->rbio = BIO_new(BIO_s_mem());
  st->wbio = BIO_new(BIO_s_mem());
  if (st->rbio == nullptr || st->wbio == nullptr) {
    BIO_free(st->rbio);
    BIO_free(st->wbio);
    return error{errc::tls_failed, "cannot create TLS buffers: " + reason(SSL_ERROR_SSL)};
  }
  // An empty read buffer means "more to come", not end of stream: the socket
  // is the caller's, and so is telling its end.
  BIO_set_mem_eof_return(st->rbio, -1);
  SSL_set_bio(ssl, st->rbio, st->wbio);
  SSL_set_app_data(ssl, st.get());
  if (cfg.node_auth)
    SSL_set_verify(ssl, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                   &state::node_verify_callback);
  if (cfg.server) {
    SSL_set_accept_state(ssl);
  } else {
    SSL_set_connect_state(ssl);
    // RFC 6066: SNI carries host names only, never address literals.
    bool ip = is_ip_literal(host_name);
    if (!host_name.empty() && !ip && SSL_set_tlsext_host_name(ssl, host_name.c_str()) != 1)
      return error{errc::invalid_argument,
                   "invalid TLS host name '" + host_name + "': " + reason(SSL_ERROR_SSL)};
    if (verify) {
      int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host_name.c_str())
                  : SSL_set1_host(ssl, host_name.c_str());
      if (ok != 1)
        return error{errc::invalid_argument,
                     "cannot check TLS host name '" + host_name + "': " + reason(SSL_ERROR_SSL)};
      // "*.example.com" matches, "w*.example.com" does not (RFC 6125 6.4.3).
      SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      SSL_set_verify(ssl, SSL_get_verify_mode(ssl), &state::verify_callback);
    }
  }
  st->label = !peer_label.empty() ? std::move(peer_label)
                                  : !host_name.empty() ? host_name : std::string{"peer"};
  st->host = std::move(host_name);
  st->ctx = std::move(ctx);
  if (!cfg.server)
    if (auto err = st->advance(nullptr)) // writes the ClientHello
      return err;
  return tls_session{std::move(st)};
}

error tls_session::feed(const char* data, size_t n, std::vector<char>& plain_out) {
  clear_errors_on_exit guard;
  if (!st_)
    return moved_from_error();
  if (st_->failure)
    return st_->failure;
  if (n > 0) {
    size_t written = 0;
    if (BIO_write_ex(st_->rbio, data, n, &written) != 1 || written != n)
      return st_->fail(error{errc::tls_failed, "TLS connection with " + st_->label
                                                 + " failed: cannot buffer received data: "
                                                 + reason(SSL_ERROR_SSL)});
  }
  return st_->advance(&plain_out);
}

error tls_session::write(const char* data, size_t n) {
  clear_errors_on_exit guard;
  if (!st_)
    return moved_from_error();
  if (st_->failure)
    return st_->failure;
  if (st_->closed)
    return error{errc::pipe_closed, "TLS connection with " + st_->label + " is closed"};
  if (st_->handshake_done && st_->pending.empty()) {
    // The usual case: encrypted straight from the caller's bytes, without
    // a copy into `pending` first; only what SSL_write did not take waits.
    while (n > 0) {
      size_t written = 0;
      ERR_clear_error();
      int r = SSL_write_ex(st_->ssl.get(), data, n, &written);
      if (r != 1) {
        int e = SSL_get_error(st_->ssl.get(), r);
        if (!want_io(e))
          return st_->fail(st_->io_error("write", e));
        break;
      }
      data += written;
      n -= written;
    }
    if (n == 0)
      return {};
  }
  st_->pending.insert(st_->pending.end(), data, data + n);
  return st_->handshake_done ? st_->flush_pending() : error{};
}

void tls_session::take_output(std::vector<char>& out) {
  if (!st_)
    return;
  size_t n = BIO_ctrl_pending(st_->wbio);
  if (n == 0)
    return;
  size_t old = out.size();
  out.resize(old + n);
  size_t got = 0;
  if (BIO_read_ex(st_->wbio, out.data() + old, n, &got) != 1)
    got = 0;
  out.resize(old + got);
  ERR_clear_error();
}

size_t tls_session::output_size() const {
  return st_ ? BIO_ctrl_pending(st_->wbio) : 0;
}

void tls_session::close_notify() {
  clear_errors_on_exit guard;
  if (!st_ || st_->closed)
    return;
  st_->closed = true;
  if (!st_->handshake_done || st_->failure) {
    st_->pending.clear();
    return;
  }
  if (st_->flush_pending())
    return;
  // Returns 0 (close_notify sent, the peer's not yet seen): all we want, the
  // caller closes the socket or waits for peer_closed() as it sees fit.
  SSL_shutdown(st_->ssl.get());
}

bool tls_session::handshake_done() const {
  return st_ && st_->handshake_done;
}

bool tls_session::peer_closed() const {
  return st_ && st_->peer_closed;
}

const error& tls_session::failure() const {
  static const error moved = moved_from_error();
  return st_ ? st_->failure : moved;
}

void tls_session::expect_peer(const node_id& id) {
  if (st_)
    st_->expected = id;
}

result<public_keys> tls_session::peer_node_keys() const {
  if (!st_ || !st_->ctx->config().node_auth)
    return error{errc::invalid_argument, "not a node TLS session"};
  if (!st_->handshake_done || !st_->peer_keys)
    return error{errc::invalid_argument, "the TLS handshake with " + st_->label + " is not done"};
  return *st_->peer_keys;
}

std::string tls_session::peer_subject() const {
  clear_errors_on_exit guard;
  X509* cert = st_ ? SSL_get0_peer_certificate(st_->ssl.get()) : nullptr;
  if (cert == nullptr)
    return {};
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr)
    return {};
  X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
  auto out = bio_text(bio);
  BIO_free(bio);
  return out;
}

std::string tls_session::version() const {
  return st_ && st_->handshake_done ? SSL_get_version(st_->ssl.get()) : "";
}

std::string tls_session::cipher() const {
  const char* name =
    st_ && st_->handshake_done ? SSL_get_cipher_name(st_->ssl.get()) : nullptr;
  return name != nullptr ? name : "";
}

// Runs the handshake as far as the buffered input allows, then decrypts what
// it can into `plain_out` (if given) and encrypts queued writes.
error tls_session::state::advance(std::vector<char>* plain_out) {
  if (!handshake_done) {
    ERR_clear_error();
    int r = SSL_do_handshake(ssl.get());
    if (r != 1) {
      int e = SSL_get_error(ssl.get(), r);
      return want_io(e) ? error{} : fail(handshake_error(e));
    }
    handshake_done = true;
  }
  // Application data may have come in the same read as the handshake's end.
  if (plain_out != nullptr)
    if (auto err = read_plain(*plain_out))
      return err;
  return flush_pending();
}

error tls_session::state::read_plain(std::vector<char>& plain_out) {
  // Each SSL_read gives at most one record. Read into a scratch buffer of
  // this thread and append what came: growing plain_out by a whole record
  // before each read zero-filled 16 KiB (and reallocated) for every record,
  // however small, which cost more than decrypting a 64-byte message.
  // (Allocated on a thread's first read: a static thread_local array would
  // be zeroed for every thread of the process.)
  thread_local std::unique_ptr<char[]> scratch{new char[read_chunk]};
  for (;;) {
    size_t got = 0;
    ERR_clear_error();
    int r = SSL_read_ex(ssl.get(), scratch.get(), read_chunk, &got);
    if (r == 1) {
      plain_out.insert(plain_out.end(), scratch.get(), scratch.get() + got);
      continue;
    }
    int e = SSL_get_error(ssl.get(), r);
    if (want_io(e))
      return {};
    if (e == SSL_ERROR_ZERO_RETURN) {
      peer_closed = true;
      return {};
    }
    return fail(io_error("read", e));
  }
}

error tls_session::state::flush_pending() {
  while (!pending.empty()) {
    size_t written = 0;
    ERR_clear_error();
    int r = SSL_write_ex(ssl.get(), pending.data(), pending.size(), &written);
    if (r == 1) {
      pending.erase(pending.begin(), pending.begin() + static_cast<ptrdiff_t>(written));
      continue;
    }
    int e = SSL_get_error(ssl.get(), r);
    // Retried with the same bytes (and maybe more) on the next feed().
    if (want_io(e))
      return {};
    return fail(io_error("write", e));
  }
  return {};
}

error tls_session::state::fail(error err) {
  failure = err;
  pending.clear();
  return err;
}

error tls_session::state::handshake_error(int ssl_err) {
  std::string prefix = "TLS handshake with " + label + " failed: ";
  long v = SSL_get_verify_result(ssl.get());
  // The result is also set when verification is off (and then ignored):
  // only a verifying side fails for it.
  if ((SSL_get_verify_mode(ssl.get()) & SSL_VERIFY_PEER) != 0 && v != X509_V_OK) {
    take_openssl_errors(); // "certificate verify failed": said below, better
    std::string why = v == X509_V_ERR_APPLICATION_VERIFICATION && !node_why.empty()
                        ? node_why
                        : X509_verify_cert_error_string(v);
    if (v == X509_V_ERR_HOSTNAME_MISMATCH || v == X509_V_ERR_IP_ADDRESS_MISMATCH)
      why = "host name mismatch: certificate is for "
            + (peer_names.empty() ? std::string{"other names"} : peer_names) + ", not '" + host
            + "'";
    return error{errc::tls_verify_failed, prefix + "certificate verify failed: " + why};
  }
  if (queue_has(SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE)) {
    take_openssl_errors();
    return error{errc::tls_verify_failed, prefix + "the client sent no certificate"};
  }
  return error{errc::tls_failed, prefix + reason(ssl_err)};
}

error tls_session::state::io_error(const char* op, int ssl_err) {
  return error{errc::tls_failed,
               "TLS " + std::string{op} + " with " + label + " failed: " + reason(ssl_err)};
}

} // namespace p2pd::net
