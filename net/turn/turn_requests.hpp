#pragma once

// Building TURN requests and indications (RFC 8656, RFC 6156) on the STUN
// builder, and reading what a TURN response carries. The session
// (turn_session.hpp) decides when to send what; these only get the bytes
// right.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "p2pd/net/addr/address.hpp"
#include "p2pd/net/error.hpp"
#include "p2pd/net/sock/socket.hpp"
#include "p2pd/net/stun/stun_auth.hpp"
#include "p2pd/net/stun/stun_message.hpp"

namespace p2pd::net {

/// Long-term credentials as the server's 401 asked for them: every request
/// after the first carries USERNAME, REALM, NONCE and MESSAGE-INTEGRITY
/// (RFC 8489 §9.2).
struct turn_auth {
  std::string username;
  std::string realm;
  std::string nonce;
  stun_key key; ///< MD5(username:realm:password)
};

/// What an Allocate asks for.
struct turn_allocate_params {
  uint32_t lifetime_s = 600;
  /// REQUESTED-ADDRESS-FAMILY: an IPv6 relayed address (RFC 6156). Left out
  /// for IPv4, the default every server assumes.
  family relay_family = family::v4;
  /// REQUESTED-TRANSPORT: UDP (17), or TCP (6) for RFC 6062 allocations.
  protocol relay_transport = protocol::udp;
};

/// Requests are unsigned when `auth` is null: the first Allocate (which a
/// server with credentials answers with 401), or a server without them.
///
/// Allocate.
result<std::vector<uint8_t>> build_turn_allocate(const stun_txid& id,
                                                 const turn_allocate_params& p,
                                                 const turn_auth* auth, std::string_view software);
/// Refresh with LIFETIME (0 deletes the allocation).
result<std::vector<uint8_t>> build_turn_refresh(const stun_txid& id, uint32_t lifetime_s,
                                                const turn_auth* auth);
/// CreatePermission for `peers` (their IPs; the ports are ignored by the
/// server).
result<std::vector<uint8_t>> build_turn_permission(const stun_txid& id,
                                                   const std::vector<endpoint>& peers,
                                                   const turn_auth* auth);
/// ChannelBind of `channel` to `peer`.
result<std::vector<uint8_t>> build_turn_channel_bind(const stun_txid& id, uint16_t channel,
                                                     const endpoint& peer, const turn_auth* auth);
/// A Send indication: `data` to `peer` through the allocation (no
/// integrity: indications are not authenticated, RFC 8656 §11).
result<std::vector<uint8_t>> build_turn_send(const stun_txid& id, const endpoint& peer,
                                             const uint8_t* data, size_t size);

/// LIFETIME of a response, in seconds.
std::optional<uint32_t> turn_lifetime(const stun_message& m);
/// The XOR-RELAYED-ADDRESS of `fam` in an Allocate success response (a
/// dual allocation carries two).
std::optional<endpoint> turn_relayed(const stun_message& m, family fam);

/// "401 Unauthorized", or "no ERROR-CODE" for an error response without one.
std::string turn_error_text(const stun_message& m);

} // namespace p2pd::net
