#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "caf/error.hpp"
#include "caf/expected.hpp"
#include "caf/fwd.hpp"

#include "p2pd/actors/pipe/pipe_spec.hpp"
#include "p2pd/net/addr/address.hpp"

namespace p2pd::actors {

// The seam between a pipe's core (pipe_state: framing, TLS, queues,
// subscribers, limits, close phases) and the sockets under it. The core calls
// only these; the broker's epoll servants are one transport
// (broker_transport), simulated sockets are meant to be another. Calls are
// per message or per connection, never per byte, so the virtual dispatch
// costs nothing the pipes would notice.

/// A connection's key, unique within its pipe.
using stream_id = uint64_t;

/// One TCP connection of a transport, owned by the core's connection entry.
/// Destroying it does not close it: close() or reset() do, or the
/// transport's close_all().
class pipe_stream {
public:
  virtual ~pipe_stream() = default;

  virtual stream_id id() const = 0;
  virtual const endpoint& peer() const = 0;
  virtual const endpoint& local() const = 0;

  /// The buffer the next flush() writes: the core appends to it.
  virtual std::vector<char>& wr_buf() = 0;
  /// Writes what wr_buf() holds, now or as the peer takes it.
  virtual void flush() = 0;
  /// Bytes accepted by flush() that the network has not taken yet.
  virtual size_t pending() const = 0;
  /// Bytes sent but not yet acknowledged by the peer (0 if unknown).
  virtual size_t in_flight() const = 0;
  /// The errno that ended the stream: 0 while it lives or after an orderly end.
  virtual int last_error() const = 0;

  /// Applies the pipe's options: read limit, write watermarks (backpressure),
  /// linger and keep-alive.
  virtual void configure(const net_conf& conf) = 0;
  /// Whether to report (pipe_events::on_drained) when writes drain.
  virtual void notify_drained(bool on) = 0;
  /// An orderly close (FIN after what is pending).
  virtual void close() = 0;
  /// An abortive close (RST): the peer sees connection_reset.
  virtual void reset() = 0;
};

using pipe_stream_ptr = std::unique_ptr<pipe_stream>;

/// Counters a transport keeps for its sockets.
struct transport_counters {
  uint64_t udp_rx_errors = 0;  ///< transient receive errors (ICMP-induced)
  uint64_t udp_tx_dropped = 0; ///< datagrams refused or dropped from a full queue
  uint64_t shed = 0;           ///< connections closed at accept: no descriptor left
  uint64_t accept_errors = 0;  ///< other accept failures
};

/// What an adopted socket turned out to be.
struct adopted_socket {
  enum kind_t { udp, listener, stream } kind = udp;
  endpoint local;
  endpoint remote;      ///< kind udp: a client's destination
  pipe_stream_ptr conn; ///< kind stream: the connection
};

/// What a transport reports to the core, on the pipe's own thread (the
/// hosting actor's). The core (pipe_state) implements it.
class pipe_events {
public:
  virtual ~pipe_events() = default;

  /// A datagram arrived from `from`.
  virtual void on_datagram(const char* data, size_t size, const endpoint& from) = 0;
  /// A datagram over the read limit arrived and was dropped.
  virtual void on_oversized(const endpoint& from, uint64_t size) = 0;
  /// The UDP socket failed.
  virtual void on_udp_failed() = 0;
  /// The listener accepted a connection.
  virtual void on_accepted(pipe_stream_ptr conn) = 0;
  /// The listener failed.
  virtual void on_listener_failed() = 0;
  /// Bytes arrived on a connection.
  virtual void on_data(stream_id id, const char* data, size_t size) = 0;
  /// A connection ended; its errno is its last_error().
  virtual void on_stream_closed(stream_id id) = 0;
  /// Writes drained on a stream that asked for it (notify_drained).
  virtual void on_drained() = 0;
  /// A connect attempt succeeded.
  virtual void on_connected(uint64_t attempt, pipe_stream_ptr conn) = 0;
  /// A connect attempt failed with `err` (errno; ETIMEDOUT after connect_timeout).
  virtual void on_connect_failed(uint64_t attempt, int err, const endpoint& remote) = 0;
  /// A name resolved (transport::resolve).
  virtual void on_resolved(std::vector<net::ip_address> ips) = 0;
  /// A name did not resolve, or not in time.
  virtual void on_resolve_failed(caf::error err) = 0;
};

/// The sockets of one pipe. Operations that finish later report through
/// the pipe_events given at construction.
class pipe_transport {
public:
  virtual ~pipe_transport() = default;

  /// An error if the transport cannot work in the hosting actor's system.
  virtual caf::error usable() const = 0;

  /// Opens the pipe's UDP socket on `local`; returns the bound endpoint.
  virtual caf::expected<endpoint> bind_udp(const endpoint& local, const net_conf& conf) = 0;
  /// Sends one datagram on the UDP socket: 0 or the errno that refused it.
  virtual int send_datagram(const endpoint& to, const char* data, size_t size) = 0;

  /// Opens the pipe's listener on `local`; returns the bound endpoint.
  virtual caf::expected<endpoint> listen(const endpoint& local, const net_conf& conf) = 0;
  /// Stops accepting for good; accepted connections stay.
  virtual void stop_listening() = 0;
  /// Stops accepting while the pipe drains before it closes.
  virtual void pause_listening() = 0;

  /// Starts a connect to `remote`, bound first to `local` if given; the
  /// outcome comes as on_connected or on_connect_failed with the id returned.
  virtual caf::expected<uint64_t> connect(const endpoint& remote,
                                          const std::optional<endpoint>& local,
                                          const net_conf& conf) = 0;
  /// Gives up attempt `id` if pending: on_connect_failed(ETIMEDOUT).
  virtual void connect_timeout(uint64_t id) = 0;

  /// Resolves `host` with `fn` (which may block) within `timeout`: the answer
  /// comes as on_resolved or on_resolve_failed.
  virtual void resolve(resolver_fn fn, std::string host, std::optional<net::family> fam,
                       caf::timespan timeout) = 0;

  /// Takes over spec.adopt_fd; may fill in spec.host and spec.port.
  virtual caf::expected<adopted_socket> adopt(pipe_spec& spec) = 0;

  virtual transport_counters counters() const = 0;

  /// Closes every socket of the pipe now.
  virtual void close_all() = 0;
  /// The pipe is about to quit for `reason`.
  virtual void before_quit(const caf::error& reason) = 0;
};

} // namespace p2pd::actors
