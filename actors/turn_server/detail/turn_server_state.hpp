#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "caf/actor_clock.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "p2pd/actors/common/bounded_inbox.hpp"
#include "p2pd/actors/common/open_once.hpp"
#include "p2pd/actors/turn_server/detail/turn_nonces.hpp"
#include "p2pd/actors/turn_server/detail/turn_server_tcp_state.hpp"
#include "p2pd/actors/turn_server/turn_server.hpp"
#include "p2pd/net/stun/stun_auth.hpp"
#include "p2pd/net/stun/stun_message.hpp"

// The TURN server actor's state and the steps its handlers are made of:
// requests (turn_server_requests.cpp), the data path and the sweep
// (turn_server_relay.cpp).
namespace p2pd::actors::turn_srv {

using srv_time = caf::actor_clock::time_point;

using ctrl_atom = caf::atom_constant<caf::atom("p2tsctrl")>;
using peer_atom = caf::atom_constant<caf::atom("p2tspeer")>;
using sweep_atom = caf::atom_constant<caf::atom("p2tssweep")>;
using tcp_data_atom = caf::atom_constant<caf::atom("p2tstcpd")>;

using server_impl = turn_server_actor::extend<
  caf::reacts_to<ctrl_atom, net::protocol, bytes, endpoint>, // from a client
  caf::reacts_to<peer_atom, uint64_t, bytes, endpoint>,      // to an allocation's relay
  caf::reacts_to<sweep_atom>,
  caf::reacts_to<tcp_data_atom, uint64_t, bytes, endpoint>, // a TCP allocation's peer
  caf::reacts_to<pipe_up>,   // a peer connected to a TCP allocation
  caf::reacts_to<pipe_end>>; // a TCP client or peer left

/// A client: the transport it reached us on and its address (with ours,
/// the 5-tuple of RFC 8656).
struct client_id {
  net::protocol proto = net::protocol::udp;
  endpoint ep;

  /// Over TCP: ChannelData is padded to 4 bytes.
  bool stream() const { return proto == net::protocol::tcp; }

  friend bool operator<(const client_id& x, const client_id& y) {
    return x.proto != y.proto ? x.proto < y.proto : x.ep < y.ep;
  }
};

struct relay_channel {
  endpoint peer;
  srv_time expires;
};

/// One client's allocation.
struct allocation {
  uint64_t id = 0;
  client_id client;
  std::string username;
  net::stun_key key;
  /// The Allocate that made it and the answer, for its retransmissions.
  net::stun_txid allocate_txid;
  bytes allocate_answer;
  bool ready = false; ///< the relay pipe is open
  bool even_port = false;
  bool reserve = false; ///< EVEN-PORT's R bit: keep the port above for later
  bool tcp = false; ///< RFC 6062: `relay` listens for peers' TCP connections
  uint32_t tries = 0; ///< ports tried
  pipe_actor relay;
  endpoint relayed;
  srv_time expires;
  std::map<net::ip_address, srv_time> perms;
  std::map<uint16_t, relay_channel> channels;
  std::map<endpoint, uint16_t> channel_of;
  /// Bytes it may still relay (max_bytes_per_s), as of tokens_at.
  double tokens = 0;
  srv_time tokens_at;
};

/// The port above an even relayed one, kept open for the Allocate that
/// claims it with its RESERVATION-TOKEN (RFC 8656 §7.2). Its pipe already
/// reports its datagrams as allocation `id`'s, dropped until one claims it.
struct reservation {
  uint64_t id = 0;
  /// Who reserved it: a reserved port counts toward the user's quota and
  /// max_allocations until it is claimed or expires.
  std::string username;
  pipe_actor pipe;
  endpoint local;
  srv_time expires;
};

struct turn_server_state {
  turn_server_spec spec;
  const net_stack* stack = nullptr;
  pipe_actor control;     ///< UDP
  pipe_actor control_tcp; ///< TCP (spec.tcp), on the UDP pipe's port
  uint32_t listen_tries = 0; ///< port 0: UDP and TCP pairs tried so far
  endpoint listening;     ///< the control pipes' bound address (no peer may be it)
  open_once opening;
  caf::actor ticker;
  std::shared_ptr<bounded_inbox> control_inbox;
  std::shared_ptr<bounded_inbox> relay_inbox;
  std::unique_ptr<turn_nonces> nonces;
  std::map<client_id, allocation> allocs; ///< by client
  std::map<uint64_t, client_id> client_of; ///< allocation id -> client
  std::map<std::string, size_t> per_user;
  std::map<uint64_t, reservation> reservations; ///< by token
  uint64_t next_id = 1;
  uint32_t port_cursor = 0;
  tcp_relay_state tcp; ///< TCP allocations' connections (RFC 6062)
  turn_server_stats stats;

  static inline const char* name = "p2pd.turn_server";
};

using server_ptr = server_impl::stateful_pointer<turn_server_state>;

/// A datagram from a client on the control pipe: a request, an indication
/// or ChannelData.
void on_client(server_ptr self, const bytes& data, const client_id& from);

/// A datagram from a peer to allocation `id`'s relayed address.
void on_peer(server_ptr self, uint64_t id, const bytes& data, const endpoint& from);

/// Removes what expired; counts expired allocations.
void sweep(server_ptr self);

/// Why an allocation ends, for the counters.
enum class end_reason : uint8_t {
  expired,  ///< its lifetime ran out (stats.expired)
  deleted,  ///< Refresh 0 (stats.deleted)
  refused,  ///< never made: no relay port (counted as the 508 it gets)
};

/// Ends allocation `it` (its relay pipe closes).
void remove_allocation(server_ptr self, std::map<client_id, allocation>::iterator it,
                       end_reason why);

/// Allocations and reserved ports (made, or to come from an Allocate with
/// EVEN-PORT's R bit still opening its relay), in all or of `user` only:
/// each holds a port, and counts toward max_allocations and the quota.
size_t slots_taken(const turn_server_state& st, const std::string* user);

/// Sends `data` to client `to` on the control pipe of its transport.
void to_client(server_ptr self, const client_id& to, bytes data);

/// Whether `a` may relay `size` more bytes now (max_bytes_per_s).
bool take_bandwidth(server_ptr self, allocation& a, size_t size);

/// A permission for `ip` that has not expired.
bool permitted(const allocation& a, const net::ip_address& ip, srv_time now);

} // namespace p2pd::actors::turn_srv
