#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "caf/actor.hpp"
#include "caf/error.hpp"
#include "caf/meta/type_name.hpp"
#include "caf/replies_to.hpp"
#include "caf/timespan.hpp"
#include "caf/typed_actor.hpp"

#include "p2pd/messages/atoms.hpp"
#include "p2pd/messages/inspect_net.hpp"
#include "p2pd/messages/net_conf.hpp"

namespace p2pd {

using bytes = std::vector<char>;
using net::endpoint;

constexpr auto tcp = net::protocol::tcp;
constexpr auto udp = net::protocol::udp;

inline bytes to_bytes(std::string_view s) {
  return bytes(s.begin(), s.end());
}
inline std::string to_string(const bytes& b) {
  return std::string(b.begin(), b.end());
}

/// What a subscriber is sent; combine with |.
namespace events {
constexpr uint8_t msgs = 1;   ///< pipe_msg for each message
constexpr uint8_t up = 2;     ///< pipe_up when connected / a client connects
constexpr uint8_t end = 4;    ///< pipe_end when a connection or the pipe ends
constexpr uint8_t errors = 8; ///< pipe_error for dropped input (oversized, ...)
constexpr uint8_t all = 15;
} // namespace events

/// Selects messages for a receive queue: those containing `pattern` (empty:
/// any), matching `expr` (empty: any) and, if `match_from`, sent from `from`
/// (port 0: any port).
///
/// `expr` is an RE2 regular expression (https://github.com/google/re2/wiki/Syntax,
/// about POSIX ERE plus Perl's \d, \w, (?i) and non-greedy repeats; no
/// backreferences or lookaround), searched anywhere in the message, whose
/// bytes are taken as Latin-1 so that binary messages match byte by byte.
/// RE2 runs in time linear in the message, so a pattern cannot cost more
/// than a bounded amount per message; an expression that does not compile,
/// or whose program is above 1 MiB, is refused when the queue is asked for.
struct msg_filter {
  bytes pattern;
  endpoint from;
  bool match_from = false;
  std::string expr;

  /// The literal and sender parts; `expr` is matched by the pipe, which
  /// compiled it (actors/pipe/receive_queues).
  bool matches(const char* data, size_t size, const endpoint& sender) const;

  static msg_filter any() { return {}; }
  static msg_filter sender(const endpoint& ep) { return {{}, ep, true, {}}; }
  static msg_filter contains(std::string_view s) { return {to_bytes(s), {}, false, {}}; }
  /// Messages in which the RE2 expression `re` finds a match.
  static msg_filter regex(std::string_view re) { return {{}, {}, false, std::string{re}}; }
  /// Messages from `ep` in which `re` finds a match (the original's
  /// subscription: a pattern plus a sender).
  static msg_filter regex_from(std::string_view re, const endpoint& ep) {
    return {{}, ep, true, std::string{re}};
  }

  friend bool operator==(const msg_filter& x, const msg_filter& y) {
    return x.pattern == y.pattern && x.expr == y.expr && x.match_from == y.match_from
           && (!x.match_from || x.from == y.from);
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, msg_filter& x) {
  return f(caf::meta::type_name("p2pd::msg_filter"), x.pattern, x.from, x.match_from, x.expr);
}

struct pipe_msg;
struct pipe_info;
struct pipe_stats;

/// The typed interface of a pipe actor. Requests answer with the value
/// shown or with a caf::error of the p2pd category (messages/errors.hpp).
///
/// - open: opens the pipe (binds, resolves, connects) and answers with its
///   info; until then nothing is sent or received. The opener becomes the
///   owner: the pipe closes when its owner terminates.
/// - send (bytes): to the connected peer / default destination.
/// - send (bytes, endpoint): to that endpoint (UDP) or that client (TCP server).
///   Both are fire-and-forget with send(); with request() they answer with an
///   empty message or the error (closed pipe, unknown client, full buffer).
/// - subscribe (actor, events) / unsubscribe (actor): pipe_msg, pipe_up,
///   pipe_end and pipe_error messages to that actor.
/// - queue (filter): a receive queue for matching messages; answers its id.
///   unsubscribe (id) removes it.
/// - recv (id, timeout) / recv (filter, timeout): the next queued message, or
///   errc::recv_timeout; a timeout of 0 means net_conf::recv_timeout. The
///   filter form uses the queue with an equal filter, creating it.
/// - ask (bytes, filter): sends to the default destination, waits for a
///   matching reply, resends up to net_conf::send_retry times.
/// - link (other pipe) / unlink: what this pipe receives is sent down the other.
/// - close: closes the pipe (a server closes all its clients) and answers once
///   done; close (endpoint) closes one client of a TCP server.
using pipe_actor = caf::typed_actor<
  caf::replies_to<caf::open_atom>::with<pipe_info>,
  caf::reacts_to<send_atom, bytes>,
  caf::reacts_to<send_atom, bytes, endpoint>,
  caf::replies_to<caf::subscribe_atom, caf::actor, uint8_t>::with<caf::ok_atom>,
  caf::replies_to<caf::unsubscribe_atom, caf::actor>::with<caf::ok_atom>,
  caf::replies_to<queue_atom, msg_filter>::with<uint64_t>,
  caf::replies_to<caf::unsubscribe_atom, uint64_t>::with<caf::ok_atom>,
  caf::replies_to<recv_atom, uint64_t, caf::timespan>::with<pipe_msg>,
  caf::replies_to<recv_atom, msg_filter, caf::timespan>::with<pipe_msg>,
  caf::replies_to<ask_atom, bytes, msg_filter>::with<pipe_msg>,
  caf::replies_to<caf::link_atom, caf::actor>::with<caf::ok_atom>,
  caf::replies_to<caf::unlink_atom, caf::actor>::with<caf::ok_atom>,
  caf::replies_to<info_atom>::with<pipe_info>,
  caf::replies_to<stats_atom>::with<pipe_stats>,
  caf::replies_to<clients_atom>::with<std::vector<endpoint>>,
  caf::replies_to<caf::close_atom>::with<caf::ok_atom>,
  caf::replies_to<caf::close_atom, endpoint>::with<caf::ok_atom>>;

/// A received message: its bytes, who sent it, and the pipe to answer on
/// (send(pipe, send_atom, reply, from) answers the sender on any pipe).
struct pipe_msg {
  bytes data;
  endpoint from;
  pipe_actor pipe;
};

/// A connection is up: a client pipe connected, or a client connected to a
/// TCP server (peer = the client).
struct pipe_up {
  pipe_actor pipe;
  endpoint peer;
  /// With node TLS (pipe_spec::tls_context from tls_context::make_node): the
  /// node id (text form) the peer's certificate proved; empty otherwise.
  std::string peer_node;
};

/// A connection ended: one client of a server (`whole` false) or the pipe
/// itself (`whole` true). `reason` is none for an orderly close.
struct pipe_end {
  pipe_actor pipe;
  endpoint peer;
  bool whole = false;
  caf::error reason;
};

/// Input that was dropped, and why (oversized datagram, ...).
struct pipe_error {
  pipe_actor pipe;
  endpoint peer;
  caf::error reason;
};

/// What a pipe is.
struct pipe_info {
  pipe_actor pipe;
  net::protocol proto = net::protocol::tcp;
  bool server = false;
  endpoint local;
  endpoint remote; ///< the peer or default destination of a client pipe
  /// A client with node TLS: the node id (text form) the server proved.
  std::string peer_node;
};

/// What a pipe did; every drop has a counter.
struct pipe_stats {
  uint64_t rx_msgs = 0;
  uint64_t rx_bytes = 0;
  uint64_t tx_msgs = 0;
  uint64_t tx_bytes = 0;
  uint64_t clients_accepted = 0;
  uint64_t clients_shed = 0;        ///< reset to make room (max_clients) or no descriptor left
  uint64_t clients_timed_out = 0;   ///< reset after idle_timeout or msg_deadline
  uint64_t clients_malformed = 0;   ///< reset: bytes the framer refused
  uint64_t dropped_unclaimed = 0;   ///< no handler, subscriber, queue or link
  uint64_t dropped_queue_full = 0;  ///< oldest queued message pushed out
  uint64_t dropped_duplicate = 0;   ///< enable_msg_ids
  uint64_t dropped_oversized = 0;   ///< datagram over reader_limit
  uint64_t dropped_send = 0;        ///< sends refused: closed, full, unknown peer
  uint64_t dead_subscribers = 0;    ///< subscribers removed because they died
  uint64_t rx_errors = 0;           ///< transient socket errors
  // Sealed datagrams (a punched UDP pipe, actors/punch/udp_punch.hpp):
  uint64_t dropped_forged = 0;      ///< failed authentication
  uint64_t dropped_replayed = 0;    ///< a counter seen before or behind the replay window
  uint64_t dropped_foreign = 0;     ///< another session's tag
  uint64_t dropped_malformed = 0;   ///< too short, unknown version or kind
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pipe_msg& x) {
  return f(caf::meta::type_name("p2pd::pipe_msg"), x.data, x.from, x.pipe);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pipe_up& x) {
  return f(caf::meta::type_name("p2pd::pipe_up"), x.pipe, x.peer, x.peer_node);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pipe_end& x) {
  return f(caf::meta::type_name("p2pd::pipe_end"), x.pipe, x.peer, x.whole, x.reason);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pipe_error& x) {
  return f(caf::meta::type_name("p2pd::pipe_error"), x.pipe, x.peer, x.reason);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pipe_info& x) {
  return f(caf::meta::type_name("p2pd::pipe_info"), x.pipe, x.proto, x.server, x.local,
           x.remote, x.peer_node);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pipe_stats& x) {
  return f(caf::meta::type_name("p2pd::pipe_stats"), x.rx_msgs, x.rx_bytes, x.tx_msgs,
           x.tx_bytes, x.clients_accepted, x.clients_shed, x.clients_timed_out,
           x.clients_malformed, x.dropped_unclaimed,
           x.dropped_queue_full, x.dropped_duplicate, x.dropped_oversized, x.dropped_send,
           x.dead_subscribers, x.rx_errors, x.dropped_forged, x.dropped_replayed,
           x.dropped_foreign, x.dropped_malformed);
}

} // namespace p2pd
