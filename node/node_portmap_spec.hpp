#pragma once

// What node_spec::port_mapping holds: whether and how a node asks its
// gateways to forward the node port (node/node_portmap.cpp; "Port mapping"
// in docs/design-notes.md).

#include <cstdint>
#include <optional>
#include <vector>

#include "p2pd/actors/portmap/port_mapper.hpp"
#include "p2pd/net/addr/address.hpp"

namespace p2pd {

struct node_portmap_spec {
  /// Off by default: a node asks its router for nothing unless told to.
  bool enabled = false;
  /// Tried in this order at each gateway (port_mapper_spec::methods).
  std::vector<portmap_method> methods{portmap_method::pcp, portmap_method::natpmp,
                                      portmap_method::upnp};
  /// The lifetime asked for each mapping, in seconds (1..604800). The
  /// mapper renews at half of it; a node killed outright leaves its
  /// mappings at the router for this long.
  uint32_t lifetime_s = 3600;
  /// The gateway to ask instead of the default route's next hop (a router
  /// that is not the default gateway); it is asked from every route of its
  /// family (IPv4 mappings, or IPv6 pinholes).
  std::optional<net::ip_address> gateway;
  /// Also ask for IPv6 pinholes of the node port, TCP and UDP, for each
  /// IPv6 route's address that may be reachable from outside: by UPnP
  /// IGDv2 WANIPv6FirewallControl, else PCP MAP, those of `methods`
  /// (NAT-PMP has no IPv6; port_mapper_actor's pinhole says why UPnP
  /// first); the lease is lifetime_s, at most a day (IGD2's limit).
  bool pinholes = true;
  /// Retransmissions and UPnP waits (lab_portmap_timing() on a LAN).
  portmap_timing timing;
};

} // namespace p2pd
