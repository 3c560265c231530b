#pragma once

// A TURN TCP allocation (RFC 6062) as an actor: peers' TCP connections to
// the relayed address, and ours to peers through it, each a stream pipe.

#include <chrono>
#include <cstdint>
#include <optional>

#include "caf/actor_system.hpp"
#include "caf/typed_actor.hpp"

#include "p2pd/actors/pipe/pipe_spec.hpp"
#include "p2pd/actors/stack/net_stack.hpp"
#include "p2pd/actors/stun/stun_timing.hpp"
#include "p2pd/actors/turn/turn_pipe.hpp"
#include "p2pd/messages/pipe.hpp"

namespace p2pd {

using turn_connect_atom = caf::atom_constant<caf::atom("p2tconnect")>;

/// A connection through the relay, bound (ConnectionBind done): `pipe` is
/// an open TCP client pipe toward the TURN server whose bytes are the
/// peer's, both ways.
struct turn_stream {
  pipe_actor pipe;
  endpoint peer; ///< the peer as the relay sees it
  pipe_info info;
  /// The relay it came through: an acceptor of several tells them apart
  /// (it comes as an anonymous message).
  caf::actor_addr relay;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, turn_stream& x) {
  return f(caf::meta::type_name("p2pd::turn_stream"), x.pipe, x.peer, x.info, x.relay);
}

/// What a TCP relay did and refused.
struct turn_relay_stats {
  uint64_t accepted = 0;          ///< peers' connections handed on
  uint64_t connected = 0;         ///< our connects that got a stream
  uint64_t attempts_dropped = 0;  ///< peers' connections over max_pending, not bound
  uint64_t connects_refused = 0;  ///< connects over max_pending
  uint64_t binds_failed = 0;      ///< data connections whose ConnectionBind failed
  uint64_t malformed = 0;         ///< frames from the server that decode as nothing
  uint64_t forged = 0;            ///< responses whose integrity does not check
  uint64_t not_for_us = 0;        ///< responses to no request of ours
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, turn_relay_stats& x) {
  return f(caf::meta::type_name("p2pd::turn_relay_stats"), x.accepted, x.connected,
           x.attempts_dropped, x.connects_refused, x.binds_failed, x.malformed, x.forged,
           x.not_for_us);
}

/// What spawn_turn_stream_relay() allocates and how it behaves.
struct turn_stream_relay_spec {
  /// The server and our account; the control connection is TCP whatever
  /// `transport` says (RFC 6062 allocations are made over a stream).
  turn_server server;
  net::family relay_family = net::family::v4;
  uint32_t lifetime_s = 600;
  /// The local address of the control and data connections (port 0: the
  /// port is the system's). Default: the any-address of the server's family.
  std::optional<net::ip_address> local;
  /// The wait for the server's answers (tcp_timeout; the rest is unused).
  stun_timing timing = rfc8489_stun_timing();
  caf::timespan permission_refresh = std::chrono::seconds(240);
  /// Connects and peers' connections being bound at once, at most: more
  /// connects are refused (errc::queue_full), more peers' connections are
  /// left unbound (the server drops them after 30 s); both counted.
  size_t max_pending = 16;
  /// The data connections' spec: TLS (context, tls_as, expect_node),
  /// length_prefixed or framer, conf, subscribers, on_msg. Its destination,
  /// proto, local and preamble are the relay's.
  pipe_spec data;
  /// Gets a turn_stream for each peer's connection to the relayed address
  /// once it is bound (the pipe open: with TLS, its handshake done).
  caf::actor acceptor;
  /// The network the connections are opened on (default os_stack()).
  stack_ptr stack;

  /// errc::invalid_argument, saying what, for a spec that cannot work.
  caf::error check() const;
};

/// A TCP relay's handle. open: allocates and answers the relayed address;
/// the opener is the owner (the relay ends with it). permit (peer): lets
/// the peer's IP connect to the relayed address (CreatePermission, kept
/// fresh), answers ok once the server installed it (its refusal
/// otherwise). connect (peer): the server connects the relayed
/// address to the peer (Connect), then a data connection is bound to it
/// (ConnectionBind): answers the turn_stream; errors: errc::connect_failed
/// (447: the peer did not take the connection), connection_exists (446),
/// queue_full (max_pending), pipe_closed, or the data connection's. stats.
/// close: deletes the allocation (lifetime 0) and closes the data
/// connections; answers once done.
using turn_stream_relay_actor =
  caf::typed_actor<caf::replies_to<caf::open_atom>::with<endpoint>,
                   caf::replies_to<permit_atom, endpoint>::with<caf::ok_atom>,
                   caf::replies_to<turn_connect_atom, endpoint>::with<turn_stream>,
                   caf::replies_to<stats_atom>::with<turn_relay_stats>,
                   caf::replies_to<caf::close_atom>::with<caf::ok_atom>>;

/// A TURN TCP allocation, spawned idle (open starts it). The control
/// connection and the data connections are pipes of spec.stack; a data
/// connection is a plain TCP client pipe toward the server whose preamble
/// is the ConnectionBind (pipe_spec::preamble), so once bound it is an
/// ordinary stream pipe, and the peer's first bytes (if they came with the
/// bind's answer) are its first message. The data pipes are the relay's:
/// they close when it ends. Peers' connections (ConnectionAttempt) are
/// bound and handed to spec.acceptor as turn_stream; the data pipes'
/// subscribers (spec.data) hear pipe_up for them first, as a listener's
/// subscribers do for connections it accepted.
///
/// Errors of open: errc::auth_refused, quota_exceeded, family_unsupported,
/// recv_timeout (no answer within timing.tcp_timeout), server_refused,
/// connect_failed (the control connection). An allocation the server
/// loses ends the relay (its connections were the server's): the owner
/// sees it end, waiting connects fail with errc::allocation_lost.
turn_stream_relay_actor spawn_turn_stream_relay(caf::actor_system& sys,
                                                turn_stream_relay_spec spec);

} // namespace p2pd
