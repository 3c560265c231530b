#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "p2pd/actors/turn_server/detail/turn_server_state.hpp"
#include "p2pd/net/stun/stun_builder.hpp"

// What the TURN server's request handlers share: answers, authentication,
// lifetimes (turn_server_replies.cpp), and the steps in other files.
namespace p2pd::actors::turn_srv {

/// `t` in ns since the actor clock's epoch: the nonces' time.
int64_t ns_of(srv_time t);

bytes as_bytes(const std::vector<uint8_t>& v);

/// An error response to `req`, counted. 401 and 438 carry REALM and a fresh
/// NONCE (and no integrity: the client has no good key yet); the others are
/// signed with `key` when the request was authenticated.
void reply_error(server_ptr self, const net::stun_message& req, const client_id& to,
                 uint16_t code, const net::stun_key* key = nullptr,
                 const std::vector<uint16_t>& unknown = {});

/// A success response of `b`'s attributes, signed and fingerprinted; its
/// bytes are kept in `keep` when given (an Allocate's, for retransmissions).
void reply_success(server_ptr self, net::stun_builder& b, const client_id& to,
                   const net::stun_key& key, bytes* keep = nullptr);

struct credentials {
  std::string username;
  net::stun_key key;
};

/// RFC 8489 §9.2.4: the request's long-term credentials, or nothing once
/// the error is answered.
std::optional<credentials> authenticate(server_ptr self, const net::stun_message& m,
                                        const client_id& from);

/// The lifetime granted for `asked_s` (RFC 8656 §7.2, capped by the spec).
caf::timespan granted(const turn_server_spec& spec, std::optional<uint32_t> asked_s);

/// Whole seconds, rounded up, at least 1: what LIFETIME says of `t`.
uint32_t seconds_of(caf::timespan t);

void add_lifetime(net::stun_builder& b, uint32_t s);

/// Allocate (turn_server_allocate.cpp): checks, quotas, then the relay
/// pipe opened asynchronously and the answer sent once it is.
void on_allocate(server_ptr self, const net::stun_message& m, const client_id& from,
                 const credentials& cred);

/// A Send indication and ChannelData from a client (turn_server_relay.cpp).
void on_send_indication(server_ptr self, const net::stun_message& m, const client_id& from);
void on_channel_data(server_ptr self, const bytes& raw, const client_id& from);

} // namespace p2pd::actors::turn_srv
