#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "p2pd/net/addr/address.hpp"
#include "p2pd/net/crypto/identity.hpp"
#include "p2pd/net/error.hpp"
#include "p2pd/net/nat/nat_type.hpp"
#include "p2pd/net/nat/port_delta.hpp"

// A node's address: everything a peer needs to reach it, in a text form a
// person can copy and paste (one line, no spaces), signed by the node.
//
//   p2pd1_<base32 of body || Ed25519 signature>
//
// The body (version 1, big-endian) holds the node's public keys (its id is
// their hash), when the address was made, one entry per interface and
// family (NIC address, IPv6 link-local, external address, node port, NAT
// type and port allocation; a port mapping under route flag 8, a new flag
// as a new field number would be in proto/: readers without it refuse the
// address rather than misread it) and the signalling channels by what they
// are (a broker URI, a hub name), never by an index into a list that can
// change.
// The signature (sign_purpose::peer_address) covers the whole body, so
// nobody can send a node's connects elsewhere; a scope id is host-local and
// never written.

namespace p2pd::node {

/// The version this build writes and reads.
inline constexpr uint8_t peer_address_version = 1;
/// The text form's prefix for that version.
inline constexpr std::string_view peer_address_prefix = "p2pd1_";
/// The longest text accepted: parsing stops before decoding anything longer.
inline constexpr size_t max_peer_address_text = 2048;
/// Interfaces per family, as the original (PEER_ADDR_MAX_INTERFACES).
inline constexpr size_t max_routes_per_family = 4;
/// Interface numbers run from 0 to this minus one.
inline constexpr size_t max_interfaces = 8;
/// Signalling channels in one address.
inline constexpr size_t max_signal_channels = 8;
/// Characters of one channel's name (a broker URI, a hub name).
inline constexpr size_t max_channel_name = 200;
/// The largest port step a NAT's allocation can have.
inline constexpr int max_delta_value = 65535;

/// One interface's way out for one family, as its node saw it.
struct peer_route {
  /// The node's number for the interface (0 to max_interfaces - 1): routes
  /// with the same number leave through the same NIC.
  uint8_t interface = 0;
  net::family fam = net::family::v4;
  /// The NIC address (IPv6: the global one). Optional for IPv6 when the
  /// interface has a link-local address only; required for IPv4.
  std::optional<net::ip_address> nic;
  /// The on-link prefix length of `nic` (0: unknown): tells a peer on the
  /// same LAN from one that only uses the same private range.
  uint8_t prefix = 0;
  /// IPv6 only: the interface's fe80::/10 address (the peer supplies its own
  /// scope id when it connects).
  std::optional<net::ip_address> link_local;
  /// The address STUN servers agreed on; none when unknown.
  std::optional<net::ip_address> external;
  /// The node's listening port on this route (1 to 65535).
  uint16_t port = 0;
  net::nat_type nat = net::nat_type::unknown;
  /// The NAT's port allocation; value within +-max_delta_value.
  net::delta_result delta;
  /// A port mapping the node holds at its gateway (PCP, NAT-PMP, UPnP IGD):
  /// the external address that forwards to `nic` at the node port, and its
  /// TCP and UDP ports (0: that protocol is not mapped; at least one is).
  std::optional<net::ip_address> mapped;
  uint16_t mapped_tcp = 0;
  uint16_t mapped_udp = 0;

  friend bool operator==(const peer_route& x, const peer_route& y);
  friend bool operator!=(const peer_route& x, const peer_route& y) { return !(x == y); }
};

/// How a signalling channel is named.
enum class channel_kind : uint8_t {
  mqtt = 1, ///< an MQTT broker URI ("tcp://host:1883", "ssl://...")
  hub = 2,  ///< an in-process hub's name
};

const char* to_string(channel_kind k);

/// A signalling channel on which the node listens.
struct signal_channel {
  channel_kind kind = channel_kind::mqtt;
  /// Printable ASCII without spaces, 1 to max_channel_name characters.
  std::string name;

  friend bool operator==(const signal_channel& x, const signal_channel& y) {
    return x.kind == y.kind && x.name == y.name;
  }
  friend bool operator!=(const signal_channel& x, const signal_channel& y) { return !(x == y); }
};

/// A node's address, parsed and checked (or about to be signed).
struct peer_address {
  net::public_keys keys;
  /// The signer's clock (Unix ms) when the address was made: of two valid
  /// addresses of one node, the later one is current.
  int64_t issued_ms = 0;
  std::vector<peer_route> routes;
  std::vector<signal_channel> channels;

  /// node_id::of(keys).
  net::node_id id() const { return net::node_id::of(keys); }

  friend bool operator==(const peer_address& x, const peer_address& y);
  friend bool operator!=(const peer_address& x, const peer_address& y) { return !(x == y); }
};

/// Checks `a` as parse_peer_address() would (every field in range, at most
/// max_routes_per_family per family, no interface and family twice, at
/// least one route or channel). Errors (errc::invalid_argument) name the
/// field and say why.
net::error check(const peer_address& a);

/// The signed text form of `a`. Errors: check()'s; `signer` is not the node
/// whose keys `a` carries (errc::invalid_argument).
net::result<std::string> encode_peer_address(const peer_address& a, const net::identity& signer);

/// The body bytes of `a`, not checked: with sign_peer_address_body(), how
/// tests and fuzz seeds make validly signed addresses with bad fields.
std::vector<uint8_t> peer_address_body(const peer_address& a);

/// The text form of `body` signed by `signer`, not checked.
std::string sign_peer_address_body(const std::vector<uint8_t>& body, const net::identity& signer);

/// Reads and verifies a text form. Strict and bounded: the text must be at
/// most max_peer_address_text characters of canonical base32 after the
/// prefix, the body must end exactly where the signature begins, and every
/// field is range-checked. Errors say which field is wrong and why:
/// errc::message_too_large (too long), errc::unsupported_version (another
/// prefix or body version), errc::malformed (structure, ranges; "route 2
/// (IPv6): port 0 is not in 1..65535"), errc::forged (keys of small order),
/// errc::crypto_failed (the signature does not check out: tampered).
net::result<peer_address> parse_peer_address(std::string_view text);

/// A person's view, one line per route and channel, for logs and tools.
std::string describe(const peer_address& a);

} // namespace p2pd::node
