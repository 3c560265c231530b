#pragma once

// TCP hole punching on CAF's multiplexer: connect-while-listening from one
// local port, in rounds, inside an event-based actor that owns what it
// opens (a pipe closes when its owner ends, and the owner keeps the
// connection the punch made). No thread, no blocking call, no clock but the
// actor's; every socket through the actor's network stack.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "caf/actor_clock.hpp"
#include "caf/error.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/meta/type_name.hpp"
#include "caf/timespan.hpp"

#include "p2pd/actors/pipe/pipe_spec.hpp"
#include "p2pd/actors/stack/net_stack.hpp"
#include "p2pd/messages/pipe.hpp"
#include "p2pd/net/crypto/identity.hpp"
#include "p2pd/net/tls/tls_context.hpp"

namespace p2pd {

/// Defaults of tcp_punch_spec, each with its reason.
namespace punch_defaults {
/// Between connect rounds: a refused SYN (a NAT or host that answered RST)
/// is sent again this soon, a few times per second without a flood; both
/// sides using the same interval from the same meeting time keeps their
/// SYNs in step.
inline constexpr caf::timespan interval = std::chrono::milliseconds(200);
/// The whole punch: a SYN dropped once is resent by the kernel after 1 s and
/// again after 3 s, so 5 s covers two losses on a path with any RTT a
/// peer-to-peer link has.
inline constexpr caf::timespan window = std::chrono::seconds(5);
/// Connect attempts in all (one socket each, and as many connections the
/// listener may hold at once): a few per predicted endpoint.
inline constexpr size_t max_attempts = 32;
} // namespace punch_defaults

/// What a TCP punch does: bind `local`, listen there, and connect from there
/// to each of `remotes` in rounds until one connection is up or the window
/// ends.
struct tcp_punch_spec {
  /// Where sockets come from; null: os_stack().
  stack_ptr stack;
  /// The IP and port that the listener and every connect bind (with
  /// SO_REUSEADDR and SO_REUSEPORT): the port whose NAT mapping the peer
  /// aims at. Port 0: the listener's free port, then used by the connects.
  /// No socket on this port may be without SO_REUSEPORT (a daemon's
  /// listener is), or the binds fail.
  endpoint local;
  /// The peer's predicted endpoints, likeliest first; same family as local.
  std::vector<endpoint> remotes;
  /// When the first round starts: the time both sides agreed on, on the
  /// actor clock. Default (or past): at once. The window counts from it.
  caf::actor_clock::time_point start{};
  /// Between the starts of two rounds. A round connects to every remote
  /// that has no attempt under way; an attempt lasts until it is answered
  /// (refused, reset, connected) or the window ends.
  caf::timespan interval = punch_defaults::interval;
  /// How long the punch tries, from `start`. A TLS handshake under way at
  /// its end may finish (within conf.ssl_handshake).
  caf::timespan window = punch_defaults::window;
  /// Connects in all (sockets), and connections the listener holds at once.
  size_t max_attempts = punch_defaults::max_attempts;
  /// The TLS context of this side's role: every connection (connected or
  /// accepted) is that TLS end (pipe_spec::tls_as), since in a simultaneous
  /// open both sides connect. Both sides must pick opposite ends by the
  /// same rule: tcp_punch_role(). A node passes its client context when
  /// that says client, its server context otherwise. Null: plain TCP (for
  /// tests and users without TLS; a node always sets it).
  std::shared_ptr<net::tls_context> tls;
  /// The node the peer must be (node TLS): checked on every connection,
  /// whichever end; one that proves another node is refused and counted.
  std::optional<net::node_id> expect_node;
  /// Options of every pipe (reuse_addr is set whatever it says;
  /// con_timeout is the rest of the window; max_clients of the listener is
  /// max_attempts). A connection the listener accepted stays a server
  /// pipe's client, so idle_timeout and msg_deadline apply to it once
  /// kept (a node that keeps quiet connections sets idle_timeout to 0).
  net_conf conf;
  /// Messages travel behind their length (pipe_spec::length_prefixed), as
  /// node connections do.
  bool length_prefixed = true;
  /// Events of every pipe the owner gets beyond up and end, which it must
  /// hand to on_up() and on_end(): events::msgs for messages on connections
  /// not yet kept (a hello that says which one to keep).
  uint8_t events = 0;
  /// Listen on `local` while connecting (connect-while-listening); off:
  /// connects only (simultaneous open alone).
  bool listen = true;
};

/// A connection the punch made: up, its TLS handshake done and the peer
/// proven (expect_node).
struct tcp_punch_conn {
  /// A client pipe of its own, or (accepted) the listener pipe, which holds
  /// it as its client `remote`: send with (bytes, remote) on it, and close
  /// it with (close, remote) or the whole pipe. That pipe no longer listens
  /// (pipe_spec::listen_until_up) and ends with its last connection.
  pipe_actor pipe;
  endpoint local;
  endpoint remote;
  /// The node id (text form) the peer proved; empty without TLS.
  std::string peer_node;
  /// It came in on the listener rather than by a connect of ours.
  bool accepted = false;
};

/// What a punch did: each attempt ends counted once.
struct tcp_punch_stats {
  uint32_t rounds = 0;
  uint32_t attempts = 0;   ///< connects started (a socket each)
  uint32_t refused = 0;    ///< answered with RST (refused or reset)
  uint32_t timed_out = 0;  ///< no answer before the window ended
  uint32_t failed = 0;     ///< other connect errors (unreachable, a pair already connected)
  uint32_t wrong_node = 0; ///< the peer proved another node than expect_node
  uint32_t tls_failed = 0; ///< other TLS handshake failures (connected or accepted)
  uint32_t accepted = 0;   ///< connections up on the listener
  uint32_t connected = 0;  ///< connections up, connected or accepted
  uint32_t lost = 0;       ///< up, then ended before keep()
  uint32_t closed = 0;     ///< pipes and connections closed by keep(), cancel() or the end

  /// "12 rounds, 3 connects (1 refused, 2 timed out, 0 failed), ...".
  std::string to_string() const;
};

/// The punch's timer message: the owner hands it to on_tick().
struct tcp_punch_tick {
  uint64_t punch = 0;
  uint64_t seq = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tcp_punch_tick& x) {
  return f(caf::meta::type_name("p2pd::tcp_punch_tick"), x.punch, x.seq);
}

/// What the punch tells its owner. Each runs inside the owner, as the last
/// thing the punch does in that call: it may call keep() or cancel(), or
/// destroy the punch.
struct tcp_punch_callbacks {
  /// A connection is up. The owner picks one (the same one on both sides:
  /// see tcp_punch_role()) and calls keep().
  std::function<void(const tcp_punch_conn&)> on_connected;
  /// Nothing connected within the window (or the listener could not open):
  /// why, with what was tried (stats().to_string()). Everything is closed.
  /// The code: tls_verify_failed if a peer proved another node,
  /// connect_timeout if every connect went unanswered, connect_refused if
  /// every one was refused, else connect_failed.
  std::function<void(const caf::error&)> on_failed;
  /// Optional: a connection reported up ended before keep() (a TLS 1.3
  /// client is done before the server has checked its certificate, so a
  /// peer that refuses us ends it right after). Its remote gets a connect
  /// again in the next round, within the window.
  std::function<void(const tcp_punch_conn&, const caf::error&)> on_lost;
};

/// Which TLS end this side of a punch is: the same rule on both sides, so
/// that a simultaneous open (both connected) or a connection that came in
/// on a listener has one client and one server. The node with the lower id
/// is the client; it also decides which connection both keep (it sends its
/// hello on one, and the server keeps the one the hello comes on).
tls_role tcp_punch_role(const net::node_id& me, const net::node_id& peer);

/// One TCP punch, held in the state of the event-based actor `self` that
/// owns everything it opens (like tcp_connector in a broker's state). The
/// owner must hand it three kinds of messages, each of which answers
/// whether it was the punch's:
///
///     [=](tcp_punch_tick& t) { punch.on_tick(t); },
///     [=](pipe_up& x) { if (!punch.on_up(x)) ...; },    // the pipes subscribe self
///     [=](pipe_end& x) { if (!punch.on_end(x)) ...; },
///
/// plus pipe_msg if spec.events asks for them (owns() tells whose). Every
/// up connection is reported by on_connected; the owner keeps one with
/// keep(), which closes every other pipe, connection and the listener. If
/// the window ends with nothing up, on_failed. Destroying the punch closes
/// what it opened and did not give away.
class tcp_punch {
public:
  /// A punch owned by `self`; `id` tells its ticks from those of the
  /// owner's other punches (unique per owner).
  tcp_punch(caf::event_based_actor* self, uint64_t id, tcp_punch_spec spec,
            tcp_punch_callbacks callbacks);
  ~tcp_punch();
  tcp_punch(tcp_punch&&) noexcept;
  tcp_punch& operator=(tcp_punch&&) noexcept;
  tcp_punch(const tcp_punch&) = delete;
  tcp_punch& operator=(const tcp_punch&) = delete;

  /// Opens the listener and schedules the rounds. An error at once for a
  /// spec that cannot work (no remote, families that differ, expect_node
  /// without TLS, a window that has ended); later failures go to on_failed.
  caf::error start();

  /// Whether `pipe` is (or was) one of the punch's: the owner hands its
  /// events to the punch, and its messages belong to a connection not kept.
  bool owns(const pipe_actor& pipe) const;
  bool owns(const caf::actor_addr& pipe) const;

  /// A pipe_up or pipe_end the owner got: true if it was the punch's (then
  /// the owner does nothing more with it). After keep(), the kept
  /// connection's events and its pipe's are the owner's (false), while the
  /// ends of what keep() closed are still absorbed (true).
  bool on_up(const pipe_up& x);
  bool on_end(const pipe_end& x);
  /// The punch's timer: true if it is this punch's (by id).
  bool on_tick(const tcp_punch_tick& x);

  /// Keeps the connection to `remote` on `pipe` (as on_connected gave it,
  /// or as a message on it says: keep(m.pipe, m.from) of a pipe_msg m that
  /// the punch owns) and ends the punch: every other pipe, connection and the listener is
  /// closed, no more rounds. The pipe is the owner's from now on (it stays
  /// open while the owner lives). Error: no such connection up, or the
  /// punch is over.
  caf::error keep(const pipe_actor& pipe, const endpoint& remote);

  /// Ends the punch without a callback; closes everything it opened.
  void cancel();

  uint64_t id() const;
  /// Over: kept, failed or cancelled.
  bool done() const;
  /// The bound local endpoint (spec.local until the listener has opened).
  endpoint local() const;
  const tcp_punch_stats& stats() const;

  class core;

private:
  std::shared_ptr<core> core_;
};

} // namespace p2pd
