#pragma once

#include <cstdint>

#include "p2pd/actors/pipe/pipe_spec.hpp"
#include "p2pd/actors/turn_server/detail/turn_server_replies.hpp"

// TCP allocations (RFC 6062): the relayed address listens for peers'
// connections (ConnectionAttempt), Connect makes one to a peer, and a
// client data connection that sends ConnectionBind carries that peer's
// bytes raw, both ways, from then on.
namespace p2pd::actors::turn_srv {

/// The control TCP pipe's framer: TURN messages, except on bound client
/// data connections, whose bytes are delivered as they come.
peer_framer_fn control_framer(server_ptr self);

/// The TCP listener on a TCP allocation's relayed address.
pipe_spec tcp_relay_listener(server_ptr self, const endpoint& local, uint64_t id);

/// Connect and ConnectionBind (authenticated already).
void on_connect(server_ptr self, const net::stun_message& m, const client_id& from,
                const credentials& cred);
void on_connection_bind(server_ptr self, const net::stun_message& m, const client_id& from,
                        const credentials& cred);

/// Bytes from a TCP client: true when they came on a bound data
/// connection (then relayed to its peer).
bool on_tcp_client_bytes(server_ptr self, const bytes& data, const endpoint& from);

/// Bytes from a peer data connection of allocation `alloc`.
void on_tcp_peer_bytes(server_ptr self, uint64_t alloc, const bytes& data, const endpoint& from);

/// A peer connected to a TCP allocation's relayed address.
void on_tcp_peer_up(server_ptr self, const pipe_up& up);

/// A connection ended (a client data connection, a peer's); false when it
/// is none of the TCP relay's.
bool on_tcp_end(server_ptr self, const pipe_end& e);

/// Closes allocation `alloc`'s peer and client data connections.
void tcp_allocation_gone(server_ptr self, uint64_t alloc);

/// Closes peer connections left unbound past tcp_bind_timeout.
void tcp_sweep(server_ptr self);

} // namespace p2pd::actors::turn_srv
