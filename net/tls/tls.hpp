#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "p2pd/net/error.hpp"
#include "p2pd/net/tls/tls_context.hpp"

namespace p2pd::net {

/// One TLS connection as a pure byte transformer: OpenSSL over two memory
/// BIOs. It never touches a socket and never blocks, so a pipe can drive it
/// from its event loop:
///
/// - bytes read from the socket go to feed(), which hands back the plaintext
///   they completed;
/// - plaintext to send goes to write();
/// - after each of these (and after make() for a client), take_output() gives
///   the ciphertext to write to the socket: handshake records, encrypted
///   data, alerts.
///
/// The handshake runs inside feed(); timing it out is the caller's job
/// (handshake_done() tells whether it finished). After an error the session
/// is failed for good: every later feed() or write() returns the same error,
/// and take_output() may still hold an alert worth sending before closing.
///
/// Errors: errc::tls_verify_failed when the peer's certificate is refused
/// (the message has OpenSSL's verification result, e.g. "certificate verify
/// failed: self-signed certificate"), errc::tls_failed for any other TLS
/// failure (with OpenSSL's error queue), errc::invalid_argument for bad
/// arguments to make(), errc::pipe_closed for a write() after close_notify().
///
/// Not thread-safe; one thread at a time may use a session. Each call leaves
/// the thread's OpenSSL error queue empty. A moved-from session may only be
/// assigned to or destroyed.
class tls_session {
public:
  /// A session on `ctx`: a server session if ctx->config().server, else a
  /// client session whose ClientHello is ready in take_output() on return.
  /// `host_name` overrides the context's host name (SNI and the name the
  /// server's certificate must be for). A verifying client needs one; an IP
  /// literal is checked against the certificate's IP addresses. `peer_label`
  /// names the peer in error messages ("127.0.0.1:443"); by default the host
  /// name, or "peer".
  static result<tls_session> make(std::shared_ptr<tls_context> ctx, std::string host_name = {},
                                  std::string peer_label = {});

  tls_session(tls_session&&) noexcept;
  tls_session& operator=(tls_session&&) noexcept;
  ~tls_session();

  /// Takes `n` bytes received from the peer, advances the handshake and
  /// appends the plaintext that became available to `plain_out` (possibly
  /// none: a partial record, handshake messages). Afterwards take_output()
  /// may hold replies. Once the handshake is done, writes queued before it are
  /// encrypted here.
  error feed(const char* data, size_t n, std::vector<char>& plain_out);

  /// Encrypts `n` bytes of application data. Before the handshake is done
  /// they are queued and encrypted when it finishes.
  error write(const char* data, size_t n);

  /// Appends the ciphertext waiting to be sent to `out` and forgets it.
  void take_output(std::vector<char>& out);

  /// Bytes take_output() would append now.
  size_t output_size() const;

  /// Sends close_notify (TLS's end of stream; see take_output()). Later
  /// writes fail with errc::pipe_closed. Queued writes that could not be
  /// encrypted yet (handshake not done) are dropped, and so is the alert:
  /// without a handshake there is nothing to close politely.
  void close_notify();

  /// The handshake finished: the peer is authenticated as configured.
  bool handshake_done() const;

  /// The peer sent close_notify: it will send no more data.
  bool peer_closed() const;

  /// The error that failed this session, or none.
  const error& failure() const;

  /// The peer certificate's subject, RFC 2253 style ("CN=localhost,O=p2pd"),
  /// or "" without one.
  std::string peer_subject() const;

  /// Node sessions (tls_context::make_node): the handshake fails unless the
  /// peer's certificate is that of node `id` (errc::tls_verify_failed "the
  /// peer is node X, not Y"). Call it before the peer's certificate arrives:
  /// right after make().
  void expect_peer(const node_id& id);

  /// Node sessions, once the handshake is done: the peer's node keys (its id
  /// is node_id::of them), which its certificate proved. Errors: not a node
  /// session, no handshake yet (errc::invalid_argument).
  result<public_keys> peer_node_keys() const;

  /// The negotiated protocol ("TLSv1.3"), once the handshake is done.
  std::string version() const;

  /// The negotiated cipher suite ("TLS_AES_256_GCM_SHA384").
  std::string cipher() const;

private:
  struct state;

  explicit tls_session(std::unique_ptr<state> st);

  // Behind a pointer: OpenSSL's callbacks find it by address, which must
  // not change when the session is moved.
  std::unique_ptr<state> st_;
};

} // namespace p2pd::net
