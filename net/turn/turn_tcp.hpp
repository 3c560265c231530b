#pragma once

// RFC 6062, TURN TCP allocations: the requests and answers that are not the
// control session's own (turn_session.hpp drives Connect and hears
// ConnectionAttempt). A TCP allocation relays TCP connections: each one
// between the relayed address and a peer is a "peer data connection" that
// the server pairs with a new TCP connection from the client, the "client
// data connection", once the client sends ConnectionBind with the
// connection's CONNECTION-ID on it. After a successful ConnectionBind that
// connection carries the peer's bytes as they are, no framing.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "p2pd/net/addr/address.hpp"
#include "p2pd/net/error.hpp"
#include "p2pd/net/stun/stun_message.hpp"
#include "p2pd/net/turn/turn_requests.hpp"

namespace p2pd::net {

/// Connect (RFC 6062 §4.3): the server opens a TCP connection from the
/// relayed address to `peer`; the success carries CONNECTION-ID.
result<std::vector<uint8_t>> build_turn_connect(const stun_txid& id, const endpoint& peer,
                                                const turn_auth* auth);
/// ConnectionBind (RFC 6062 §4.4) of `connection_id`, signed with the
/// control session's credentials, sent first on a new connection to the
/// server.
result<std::vector<uint8_t>> build_turn_connection_bind(const stun_txid& id,
                                                        uint32_t connection_id,
                                                        const turn_auth& auth);

/// CONNECTION-ID of a Connect success or a ConnectionAttempt indication.
std::optional<uint32_t> turn_connection_id(const stun_message& m);

/// The errc for a TURN error code: 401, 441 auth_refused; 486, 508
/// quota_exceeded; 437 allocation_lost; 440 family_unsupported; 446
/// connection_exists; 447 connect_failed (the server's connection to the
/// peer timed out or failed); anything else server_refused.
errc turn_errc(uint16_t code);

/// The answer to a ConnectionBind, at the start of what the data connection
/// has read so far (`buffered`): the bytes it takes, after which the
/// connection is the peer's stream; 0 while it is not whole yet. Errors:
/// the answer is refused (the errc of turn_errc, saying the code), it is
/// not a ConnectionBind response to `id` (errc::malformed, not_for_us), or
/// a success whose MESSAGE-INTEGRITY does not check with `key`
/// (errc::forged).
result<size_t> check_turn_connection_bind(const uint8_t* buffered, size_t size,
                                          const stun_txid& id, const stun_key& key,
                                          uint32_t connection_id);

} // namespace p2pd::net
