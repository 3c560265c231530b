#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "p2pd/net/addr/address.hpp"
#include "p2pd/sim/nat/nat_profile.hpp"
#include "p2pd/sim/net/link.hpp"

namespace p2pd::sim {

/// A host's index in its fabric.
using host_id = uint32_t;
/// A site's (NAT box's) index in its fabric.
using site_id = uint32_t;

/// A host on the Internet, with public addresses of either family.
struct public_host_config {
  std::vector<net::ip_address> addresses;
  link_config link; ///< its access link
};

/// A site: a NAT box between a LAN and the Internet.
struct site_config {
  nat_profile nat;
  /// The box's public IPv4 address (what translated packets leave with).
  net::ip_address external;
  /// The LAN's first host address; host n gets lan_base + n (n from 0).
  /// Without translation (open, firewall) these addresses are routed from
  /// the Internet, so they must look public.
  net::ip_address lan_base;
  /// The site's uplink (box to Internet).
  link_config uplink;
  /// If set, hosts also get an IPv6 address prefix + n, public and behind
  /// `nat_v6` (an RFC 6092 firewall unless changed).
  std::optional<net::ip_address> v6_base;
  nat_profile nat_v6 = nat_profile::ipv6_firewall();
};

} // namespace p2pd::sim
