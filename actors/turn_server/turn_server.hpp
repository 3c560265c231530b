#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include "caf/actor_system.hpp"
#include "caf/meta/type_name.hpp"
#include "caf/replies_to.hpp"
#include "caf/timespan.hpp"
#include "caf/typed_actor.hpp"

#include "p2pd/actors/stack/net_stack.hpp"
#include "p2pd/messages/pipe.hpp"

namespace p2pd {

/// What a TURN server serves, to whom, and how much.
struct turn_server_spec {
  /// Sockets (the control pipe, one relay pipe per allocation) are spawned
  /// on it. Default: os_stack().
  stack_ptr stack;
  /// Where clients reach the server (UDP, and TCP on the same port);
  /// port 0: a free port.
  endpoint listen = endpoint{net::ip_address::loopback(net::family::v4), 0};
  /// Also serve TCP toward the server (RFC 8656 §3.1; the relays are UDP
  /// either way). An allocation made over TCP ends with its connection.
  bool tcp = true;
  /// The TCP pipe's options: the limits on clients (max_clients,
  /// idle_timeout, msg_deadline) and reader_limit. An idle_timeout below
  /// max_lifetime is raised to it (a client may be quiet between refreshes).
  net_conf tcp_conf;
  /// The relayed addresses' IP (its family is the only one relayed: an
  /// Allocate asking for the other is answered 440).
  net::ip_address relay_ip = net::ip_address::loopback(net::family::v4);
  /// The relayed ports, inclusive; {0, 0}: a free port from the stack.
  uint16_t relay_port_min = 49152;
  uint16_t relay_port_max = 65535;
  /// Ports tried per Allocate before it is refused (508).
  uint32_t port_tries = 16;
  /// Long-term credentials (RFC 8489 §9.2): username -> password
  /// (printable ASCII, as stun_key asks).
  std::map<std::string, std::string> users;
  std::string realm = "p2pd";
  std::string software = "p2pd";
  /// How long a nonce is good for; then 438 (Stale Nonce) and a new one.
  caf::timespan nonce_lifetime = std::chrono::minutes(10);
  /// Allocation lifetime: the default (also the least granted), the most.
  /// A cap below the default grants the cap (for tests of expiry); the
  /// LIFETIME answered is the grant rounded up to whole seconds.
  caf::timespan default_lifetime = std::chrono::seconds(600);
  caf::timespan max_lifetime = std::chrono::seconds(3600);
  /// RFC 8656 §9, §12: 300 s and 600 s.
  caf::timespan permission_lifetime = std::chrono::seconds(300);
  caf::timespan channel_lifetime = std::chrono::seconds(600);
  /// How long the port an EVEN-PORT with its R bit reserves waits for the
  /// Allocate that claims it with the RESERVATION-TOKEN (RFC 8656 §7.2: 30 s).
  caf::timespan reservation_lifetime = std::chrono::seconds(30);
  /// How often expired allocations, permissions and channels are removed.
  caf::timespan sweep_interval = std::chrono::seconds(1);
  /// Allocations at most in all (then 508) and per username (then 486).
  size_t max_allocations = 1000;
  size_t max_allocations_per_user = 10;
  /// Permissions (peer IPs) and channels per allocation at most (then 508).
  size_t max_permissions = 64;
  size_t max_channels = 64;
  /// Channel numbers up to 0x7FFF, as RFC 5766 allowed (coturn's clients
  /// pick them there); false: RFC 8656's 0x4000..0x4FFF only.
  bool rfc5766_channels = true;
  /// Relay to loopback peers (127.0.0.0/8, ::1): tests on one host. Off,
  /// a CreatePermission or ChannelBind for one is answered 403. Multicast,
  /// unspecified, link-local and broadcast peers and the server's own
  /// listen endpoint are refused always.
  bool allow_loopback_peers = false;
  /// Bytes a second each allocation relays at most (both ways together;
  /// a bucket of one second's worth); 0: no limit. More is dropped.
  uint64_t max_bytes_per_s = 0;
  /// TCP allocations (RFC 6062): peer data connections per allocation at
  /// most (then 508 to a Connect, a peer's connection closed); a peer's
  /// bytes buffered before its connection is bound at most (then it is
  /// closed); how long the server's connect to a peer may take (then 447);
  /// how long a peer data connection waits for its ConnectionBind (§5.3).
  size_t max_tcp_connections = 64;
  size_t max_tcp_buffered = 64 * 1024;
  caf::timespan tcp_connect_timeout = std::chrono::seconds(30);
  caf::timespan tcp_bind_timeout = std::chrono::seconds(30);
  /// Datagrams waiting for the actor at most, from clients and from peers
  /// (each its own bound); more are dropped (a flood).
  size_t max_queued = 1024;

  /// errc::invalid_argument, saying what, for a spec that cannot work.
  caf::error check() const;

  /// The highest channel number served (rfc5766_channels).
  uint16_t max_channel() const;

  /// Relay ports {0, 0}: the stack picks a free one for each allocation
  /// (no range to walk, and a failed open is not tried again).
  bool free_relay_ports() const { return relay_port_min == 0 && relay_port_max == 0; }
};

/// What a TURN server did; every refusal and drop has a counter.
struct turn_server_stats {
  uint64_t allocations = 0;        ///< now
  uint64_t permissions = 0;        ///< now, in all allocations
  uint64_t channels = 0;           ///< now, in all allocations
  uint64_t reservations = 0;       ///< ports reserved now (EVEN-PORT with R)
  uint64_t allocated = 0;          ///< allocations made since the start
  uint64_t expired = 0;            ///< allocations that ran out of lifetime
  uint64_t deleted = 0;            ///< allocations deleted (Refresh 0, close)
  uint64_t requests = 0;           ///< requests (any method) that decoded
  uint64_t unauthenticated = 0;    ///< 401 to a request without MESSAGE-INTEGRITY
  uint64_t auth_failed = 0;        ///< 401: unknown user, integrity that does not check
  uint64_t stale_nonce = 0;        ///< 438
  uint64_t refused_quota = 0;      ///< 486: a user's allocations
  uint64_t refused_capacity = 0;   ///< 508: all allocations, permissions, channels, ports
  uint64_t refused_other = 0;      ///< 400, 420, 437, 440-443, 446, 447
  uint64_t refused_peer = 0;       ///< 403: a peer address not relayed to
  uint64_t malformed = 0;          ///< dropped: neither STUN nor ChannelData, or broken
  uint64_t to_peers = 0;           ///< datagrams relayed from clients to peers
  uint64_t to_clients = 0;         ///< datagrams relayed from peers to clients
  uint64_t relayed_bytes = 0;
  uint64_t dropped_no_allocation = 0; ///< data or indications from a client without one
  uint64_t dropped_no_permission = 0; ///< to or from a peer IP not permitted
  uint64_t dropped_unknown_channel = 0;
  uint64_t dropped_bandwidth = 0;  ///< over max_bytes_per_s
  uint64_t dropped_too_large = 0;  ///< a peer's datagram too large to frame for its client
  uint64_t dropped_flood = 0;      ///< over max_queued
  uint64_t tcp_connections = 0;    ///< peer data connections now (RFC 6062)
  uint64_t tcp_connected = 0;      ///< Connects that connected
  uint64_t tcp_connect_failed = 0; ///< Connects answered 447
  uint64_t tcp_attempts = 0;       ///< ConnectionAttempts sent for peers' connections
  uint64_t tcp_bound = 0;          ///< ConnectionBinds that bound
  uint64_t tcp_unbound_expired = 0; ///< peer connections closed unbound after tcp_bind_timeout
  uint64_t tcp_refused = 0;        ///< peers' connections closed: no permission, over max
  uint64_t tcp_dropped_buffer = 0; ///< closed: over max_tcp_buffered before the bind
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, turn_server_stats& x) {
  return f(caf::meta::type_name("p2pd::turn_server_stats"), x.allocations, x.permissions,
           x.channels, x.reservations, x.allocated, x.expired, x.deleted, x.requests, x.unauthenticated,
           x.auth_failed, x.stale_nonce, x.refused_quota, x.refused_capacity, x.refused_other, x.refused_peer,
           x.malformed, x.to_peers, x.to_clients, x.relayed_bytes, x.dropped_no_allocation,
           x.dropped_no_permission, x.dropped_unknown_channel, x.dropped_bandwidth, x.dropped_too_large,
           x.dropped_flood, x.tcp_connections, x.tcp_connected, x.tcp_connect_failed,
           x.tcp_attempts, x.tcp_bound, x.tcp_unbound_expired, x.tcp_refused,
           x.tcp_dropped_buffer);
}

/// A TURN server (RFC 8656: UDP relays, reached over UDP or TCP; RFC 6062
/// TCP relays over TCP; long-term credentials):
/// the relay the simulated world's nodes use, and a lab's without coturn.
///
/// - open: opens the control pipes on the spec's stack (UDP, then TCP on
///   its port) and answers the UDP one's info (local = the address clients
///   use); the opener becomes the owner and the server ends with it. A
///   second open answers the same.
/// - stats: the counters.
/// - close: closes every pipe and ends the server.
///
/// Requests: Allocate (REQUESTED-TRANSPORT UDP; a relay pipe on a port of
/// the range, XOR-RELAYED-ADDRESS, XOR-MAPPED-ADDRESS, LIFETIME), Refresh
/// (LIFETIME 0 deletes), CreatePermission, ChannelBind, all signed with the
/// long-term key (401 with REALM and NONCE first; 438 for a stale nonce)
/// and answered signed; Binding, unsigned. Send indications and ChannelData
/// from the client go to peers with a permission, datagrams from permitted
/// peers come back as ChannelData (a channel bound) or Data indications.
/// Allocations, permissions and channels expire on the actor clock.
/// Over TCP, TCP allocations too (RFC 6062): Connect, ConnectionAttempt
/// indications for permitted peers' connections to the relayed address,
/// ConnectionBind on a new connection, whose bytes then are the peer's.
/// Retransmitted Allocates get the first answer again.
using turn_server_actor =
  caf::typed_actor<caf::replies_to<caf::open_atom>::with<pipe_info>,
                   caf::replies_to<stats_atom>::with<turn_server_stats>,
                   caf::replies_to<caf::close_atom>::with<caf::ok_atom>>;

/// Spawns a TURN server; errors at once: spec.check()'s.
caf::expected<turn_server_actor> spawn_turn_server(caf::actor_system& sys, turn_server_spec spec);

} // namespace p2pd
