#pragma once

#include <cstdint>
#include <vector>

#include "p2pd/messages/interface.hpp"
#include "p2pd/net/crypto/identity.hpp"
#include "p2pd/net/iface/interfaces.hpp"
#include "p2pd/node/address/peer_address.hpp"

namespace p2pd::node {

/// The port a node listens on when none is configured: derived from its id
/// (as the original derives one from the machine), so a node keeps its port
/// across restarts and a port mapping made for it stays right. In
/// 10000..59999, clear of the ephemeral range Linux uses by default.
uint16_t default_node_port(const net::node_id& id);

/// A port mapping the node holds for one route (node_portmap.cpp): the
/// gateway forwards external:tcp and external:udp to the node port.
struct route_mapping {
  uint8_t interface = 0;
  net::ip_address external;
  uint16_t tcp = 0; ///< 0: none
  uint16_t udp = 0; ///< 0: none
};

/// What goes into our own address.
struct local_address_input {
  net::public_keys keys;
  int64_t issued_ms = 0;
  /// One per interface actor, in the node's order: the interface number of
  /// a route is its snapshot's position (up to max_interfaces are used).
  std::vector<interface_snapshot> interfaces;
  /// The host's table, for the prefix length of each NIC address (routes
  /// hold addresses only); without one, prefixes are 0 (unknown).
  const net::interface_table* table = nullptr;
  /// The node's listening port, the same on every route.
  uint16_t port = 0;
  std::vector<signal_channel> channels;
  /// Port mappings held, by interface number (IPv4 routes).
  std::vector<route_mapping> mapped;
};

/// Our address from what the interface actors know: per interface and
/// family, the first NIC address (IPv6: the first that is not link-local)
/// and its prefix, the first link-local (IPv6), the agreed external
/// address, the family's NAT and the route's port mapping (if held); at most max_routes_per_family routes of a
/// family, in interface order. Routes with nothing to reach are left out.
peer_address make_local_address(const local_address_input& in);

/// The scope id of each interface's link-local addresses, by interface
/// number (0 where it has none): local_view::scope_of_interface.
std::vector<uint32_t> link_scopes(const std::vector<interface_snapshot>& interfaces);

} // namespace p2pd::node
