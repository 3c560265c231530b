#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "caf/actor_cast.hpp"
#include "caf/actor_clock.hpp"
#include "caf/mailbox_element.hpp"
#include "caf/response_promise.hpp"
#include "caf/scheduled_actor.hpp"

#include "p2pd/actors/common/lifecycle.hpp"
#include "p2pd/actors/pipe/detail/dedupe_cache.hpp"
#include "p2pd/actors/pipe/detail/pipe_transport.hpp"
#include "p2pd/actors/pipe/pipe_spec.hpp"
#include "p2pd/actors/pipe/detail/receive_queues.hpp"
#include "p2pd/net/tls/tls.hpp"

namespace p2pd::actors {

/// The core of one pipe: its subscribers, queues, links, framing, TLS,
/// limits and close phases, over the sockets of a pipe_transport. Hosted by
/// an actor: the pipe broker with mux::broker_transport, or an event-based
/// actor with memory_transport; everything here runs on that actor's thread.
struct pipe_state : pipe_io, pipe_events {
  using phase = life_phase;

  struct conn {
    pipe_stream_ptr stream;
    endpoint peer;
    std::optional<net::tls_session> tls; ///< with use_ssl
    bool secure = false;                 ///< the TLS handshake is done
    std::string peer_node;               ///< node TLS: the id the peer proved
    /// When bytes were last seen moving (by a sweep): the peer sent some or
    /// took some of ours, or connected. A client held back by backpressure
    /// is not idle while it still takes our replies.
    caf::actor_clock::time_point last_rx;
    /// pipe_state::rx_count when the peer last sent (or connected): orders
    /// clients by idleness at the cost of one increment per read, where a
    /// clock read per read would cost more; sweeps turn it into time.
    uint64_t rx_seq = 0;
    uint64_t swept_seq = 0; ///< rx_seq at the last sweep
    size_t last_pending = 0; ///< bytes not yet taken by the peer when last looked
    std::string partial;                  ///< framer: an incomplete message's start
    caf::actor_clock::time_point partial_since; ///< when that message began
    bool in_preamble = false; ///< spec.preamble: its answer has not come yet
    std::string preamble_buf; ///< what came of the answer so far
  };

  static inline const char* name = "p2pd.pipe";

  explicit pipe_state(caf::scheduled_actor* self);

  caf::scheduled_actor* self;
  std::unique_ptr<pipe_transport> transport; ///< set by the hosting actor
  pipe_spec spec;
  /// The phase, and the close requests: answered once the pipe has closed.
  lifecycle life{phase::idle};
  pipe_actor hdl;                 ///< set while open: the pipe's own handle
  caf::actor_addr owner;
  waiters open_waiters; ///< answered once the pipe opened or failed to
  pipe_info info;
  pipe_stats stats;
  std::unique_ptr<receive_queues> queues;
  std::unique_ptr<dedupe_cache> dedupe;
  std::vector<subscriber> subs;
  /// Weak: a link must not keep the other pipe alive, and two pipes linked
  /// both ways would keep each other.
  std::vector<caf::weak_actor_ptr> links;

  bool udp = false;       ///< the transport's UDP socket is open
  bool listening = false; ///< the transport's listener is open
  std::unordered_map<stream_id, conn> conns;
  std::unordered_map<endpoint, stream_id> by_peer;
  stream_id client_conn = 0;
  uint64_t connect_id = 0; ///< the connect attempt the pipe waits for
  std::vector<net::ip_address> candidates; ///< resolved destination addresses
  size_t next_candidate = 0;
  caf::error last_connect_error;
  std::shared_ptr<net::tls_context> tls_ctx; ///< with use_ssl
  std::deque<endpoint> udp_peers; ///< recent UDP senders, oldest first
  std::unordered_set<endpoint> udp_peer_set;

  bool listening_stopped = false; ///< listen_until_up: the listener is closed
  endpoint current_from; ///< sender of the message being delivered
  bool sweeping = false; ///< a sweep_atom is on its way
  uint64_t rx_count = 0; ///< reads from TCP clients so far (conn::rx_seq)

  // pipe_io, for inline handlers
  caf::error reply(std::string_view data) override;
  caf::error send(std::string_view data, const endpoint& to) override;
  const pipe_actor& pipe() const override { return hdl; }

  // pipe_events: what the transport reports
  void on_datagram(const char* data, size_t size, const endpoint& from) override;
  void on_oversized(const endpoint& from, uint64_t size) override;
  void on_udp_failed() override;
  void on_accepted(pipe_stream_ptr conn) override;
  void on_listener_failed() override;
  void on_data(stream_id id, const char* data, size_t size) override;
  void on_stream_closed(stream_id id) override;
  void on_drained() override;
  void on_connected(uint64_t attempt, pipe_stream_ptr conn) override;
  void on_connect_failed(uint64_t attempt, int err, const endpoint& remote) override;
  void on_resolved(std::vector<net::ip_address> ips) override;
  void on_resolve_failed(caf::error err) override;

  /// Sends `xs` to `dest` as this pipe.
  template <class Handle, class... Ts>
  void tell(const Handle& dest, Ts&&... xs) {
    if (dest)
      dest->eq_impl(caf::make_message_id(), self->ctrl(), self->context(),
                    std::forward<Ts>(xs)...);
  }

  /// Sends `xs` to this pipe after `delay` (on the actor clock: virtual
  /// time where the system runs on one).
  template <class... Ts>
  void later(caf::timespan delay, Ts&&... xs) {
    auto& clk = self->clock();
    clk.schedule_message(clk.now() + delay, caf::actor_cast<caf::strong_actor_ptr>(self),
                         caf::make_mailbox_element(self->ctrl(), caf::make_message_id(), {},
                                                   std::forward<Ts>(xs)...));
  }

  /// Sends to `to`, or to the peer / default destination if `to` is null.
  caf::error send_to(const char* data, size_t size, const endpoint* to);

  /// Hands a received message to the handler, subscribers, queues and links.
  void deliver(const char* data, size_t size, const endpoint& from);

  /// Sends `msg` to every subscriber that asked for `ev`.
  void notify(uint8_t ev, const caf::message& msg);

  void track_udp_peer(const endpoint& from);
  /// Adds a connection; with TLS its handshake starts and it is up (up
  /// notification, or the client pipe open) only once the handshake is done.
  void add_conn(pipe_stream_ptr stream);
  /// A client pipe's connection: the pipe opens on it (now, or after its
  /// preamble and TLS handshake).
  void add_client_stream(pipe_stream_ptr stream);
  /// The connection is ready for data: the pipe opens or a client is up.
  void conn_up(const conn& c);
  /// listen_until_up: closes the listening socket, keeping the connections.
  void stop_listening();
  /// listen_until_up: a server that stopped listening ends with its last
  /// connection (nothing could come to it any more).
  void end_if_unlistened();
  /// Bytes read from a connection: plaintext delivered, TLS records fed.
  void on_stream_data(stream_id h, const char* data, size_t size);

  // Limits on a server's clients (conn_limits.cpp)
  /// Plaintext from a connection: delivered as it came, or cut into whole
  /// messages by the framer.
  void on_plaintext(stream_id h, conn& c, const char* data, size_t size);
  /// Resets the longest idle connection to make room for a new one; false
  /// when there is none.
  bool shed_longest_idle();
  /// Resets the clients past idle_timeout or msg_deadline, and schedules
  /// the next sweep while clients remain.
  void sweep();
  /// Schedules a sweep if limits apply and none is on its way.
  void arm_sweep();

  // The preamble (pipe_preamble.cpp)
  /// Sends the request and waits for its answer.
  void start_preamble(conn& c);
  /// Bytes of a connection still in its preamble.
  void on_preamble(stream_id h, const char* data, size_t size);
  void preamble_timeout(stream_id h);
  /// The connection is ready for TLS or data (no preamble, or its answer came).
  void secure_or_up(conn& c);

  // TLS (pipe_tls.cpp)
  caf::error make_tls_context();
  caf::error start_tls(conn& c);
  /// Writes what the TLS session has for the socket.
  void flush_tls(conn& c);
  void tls_failed(stream_id h, caf::error err);
  void tls_timeout(stream_id h);
  /// Sends close_notify on every secure connection.
  void close_tls();
  /// A connection ended; `err` is the errno (0 = orderly close).
  void drop_conn(stream_id hdl, int err);
  /// A connection ended for `reason` (none: an orderly end).
  void drop_conn(stream_id hdl, caf::error reason);
  /// Ends a connection with a reset, for `reason`.
  void reset_conn(stream_id hdl, caf::error reason);

  /// Marks the pipe open and answers the open requests.
  void opened();
  /// Opening failed: answers the open requests and ends the pipe.
  void open_failed(const caf::error& reason);
  /// Starts closing: pending writes get a moment to drain.
  void begin_close(caf::error reason);
  /// Closes every socket, tells subscribers, answers close requests; the
  /// actor quits if `quit`, else it stays for its queued messages.
  void finish_close(const caf::error& reason, bool quit);

  /// Whether writes are still waiting for the kernel.
  bool writes_pending() const;
  void fill_stats(pipe_stats& out) const;
  std::vector<endpoint> clients() const;

  caf::error closed_error() const;
};

} // namespace p2pd::actors
