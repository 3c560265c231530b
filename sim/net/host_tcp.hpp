#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "p2pd/net/addr/address.hpp"
#include "p2pd/net/error.hpp"
#include "p2pd/sim/net/fabric.hpp"
#include "p2pd/sim/net/ports.hpp"

namespace p2pd::sim {

enum class tcp_state : uint8_t {
  listen,
  syn_sent,
  syn_received,
  established, ///< including half-closed: a FIN sent or received, not both
};

const char* to_string(tcp_state x);

/// What a host's TCP tells its user.
struct tcp_event {
  enum kind_t : uint8_t {
    connected, ///< an active (or simultaneous) open completed
    failed,    ///< it did not: refused (RST) or timed out; the socket is gone
    accepted,  ///< a listener has a new connection: `sock`, from `remote`
    data,      ///< bytes in order
    eof,       ///< the peer sent FIN
    reset,     ///< the peer sent RST; the socket is gone
  } kind;
  int sock = 0;
  int listener = 0; ///< accepted: the listening socket
  net::endpoint remote;
  std::vector<uint8_t> bytes; ///< data: what came
  /// failed, reset: the project's code (connect_refused, connect_timeout,
  /// connection_reset) and the errno a kernel gives (ECONNREFUSED,
  /// ETIMEDOUT, ECONNRESET).
  net::errc code = net::errc::none;
  int sys_errno = 0;
};

const char* to_string(tcp_event::kind_t x);

/// One host's TCP at message level: segments SYN, SYN-ACK, ACK, DATA (an
/// ACK with bytes), FIN and RST, enough for what connect strategies rely on.
///
/// - Connect: SYN, retransmitted after syn_rto, doubling, syn_retries
///   times; then connect_timeout (ETIMEDOUT). An RST answers with
///   connect_refused (ECONNREFUSED).
/// - Simultaneous open: a SYN that meets a socket in SYN_SENT with the same
///   4-tuple is answered with a SYN-ACK; each side is established when the
///   other's SYN-ACK arrives.
/// - A segment matches a connection by its 4-tuple before any listener, so
///   a host may listen and connect from the same port (SO_REUSEADDR and
///   SO_REUSEPORT as the punching code sets them); only an identical
///   4-tuple or two listeners on one port conflict.
/// - A passive open answers with a SYN-ACK, retransmitted like a SYN
///   (synack_retries), and is dropped unseen when no ACK comes.
/// - A segment that matches nothing gets an RST (not an RST itself).
/// - close(): FIN, the peer sees EOF; both FINs end the connection (no
///   TIME_WAIT: the 4-tuple is free at once). abort(): RST (linger 0), the
///   peer sees connection_reset (ECONNRESET).
///
/// Not modelled: sequence numbers, windows, retransmission of data.
/// Established data is reliable and in order because the fabric carries TCP
/// lossless and without jitter (fixed latency keeps order); only NAT boxes
/// drop TCP segments.
class host_tcp {
public:
  struct config {
    std::chrono::microseconds syn_rto = std::chrono::seconds{1};
    int syn_retries = 6; ///< Linux's net.ipv4.tcp_syn_retries: fails after 127 s
    /// Linux's net.ipv4.tcp_synack_retries: a passive open whose ACK never
    /// comes is dropped, unseen, after 63 s.
    int synack_retries = 5;
  };
  using handler = std::function<void(tcp_event)>;

  host_tcp(fabric& f, host_id h) : host_tcp(f, h, config{}) {}
  host_tcp(fabric& f, host_id h, config cfg);
  ~host_tcp();
  host_tcp(const host_tcp&) = delete;
  host_tcp& operator=(const host_tcp&) = delete;

  /// Where events go that no socket handler takes (one per host).
  void on_event(handler h) { handler_ = std::move(h); }
  /// Where one socket's events go (a listener's: its accepted events), for
  /// a user per socket such as a pipe; dropped with the socket.
  void on_event(int sock, handler h);

  /// Listens on `local` (port 0: an ephemeral one). Errors: bind_failed for
  /// an address not the host's or a port another listener has.
  net::result<int> listen(net::endpoint local);

  /// Connects from `local` (the any address: the host's address of the
  /// remote's family; port 0: an ephemeral one) to `remote`; the outcome
  /// comes as connected or failed. Errors now: bind_failed (not our address,
  /// that 4-tuple exists), family_unsupported.
  net::result<int> connect(net::endpoint local, net::endpoint remote);

  /// Sends bytes on an established connection. Errors: invalid_argument
  /// (no such socket, not connected: ENOTCONN), pipe_closed (FIN sent).
  net::error send(int sock, std::vector<uint8_t> bytes);
  /// Orderly close: FIN on a connection; a listener or a connect in
  /// progress just goes.
  net::error close(int sock);
  /// Abortive close (linger 0): RST on a connection.
  net::error abort(int sock);

  std::optional<tcp_state> state(int sock) const;
  net::result<net::endpoint> local_endpoint(int sock) const;
  net::result<net::endpoint> remote_endpoint(int sock) const;
  size_t socket_count() const { return sockets_.size(); }
  host_id host() const { return host_; }

private:
  struct socket {
    tcp_state state;
    net::endpoint local;
    net::endpoint remote; // unused for a listener
    int parent = 0;       // the listener of a passive open (0: none)
    bool fin_sent = false;
    bool fin_received = false;
    int syn_tries = 0;    // retransmissions so far
  };

  void receive(frame f);
  void segment(const net::endpoint& from, const net::endpoint& to, uint8_t flags,
               std::vector<uint8_t> payload = {});
  void reply_rst(const frame& f);
  int find_connection(const net::endpoint& local, const net::endpoint& remote) const;
  int find_listener(const net::endpoint& local) const;
  bool port_used(const net::endpoint& local) const;
  void arm_syn_timer(int sock);
  void syn_timer(int sock, int tries);
  void become_established(int sock);
  void emit(tcp_event e);
  void fail(int sock, net::errc code, int sys_errno);

  fabric& fabric_;
  host_id host_;
  config cfg_;
  ephemeral_ports ports_;
  int next_id_ = 1;
  std::map<int, socket> sockets_;
  handler handler_;
  std::map<int, handler> socket_handlers_;
  // Timers hold a weak reference: one that fires after the stack is gone
  // does nothing.
  std::shared_ptr<host_tcp*> alive_;
};

} // namespace p2pd::sim
