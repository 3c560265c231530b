#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "p2pd/net/addr/address.hpp"
#include "p2pd/net/error.hpp"

namespace p2pd::net {

/// The interface flags that matter here (from IFF_*).
struct interface_flags {
  bool up = false;             ///< administratively up (IFF_UP)
  bool running = false;        ///< has carrier (IFF_RUNNING)
  bool loopback = false;
  bool multicast = false;
  bool broadcast = false;
  bool point_to_point = false;
};

/// An address of an interface and the length of its on-link prefix.
struct interface_addr {
  /// IPv6 link-local addresses carry the interface index as scope id.
  ip_address ip;
  uint8_t prefix = 0;
  /// IPv6 duplicate address detection still running: bind() fails until it
  /// ends (IFA_F_TENTATIVE).
  bool tentative = false;
  /// Duplicate address detection found the address in use (IFA_F_DADFAILED).
  bool dad_failed = false;
  /// Still valid but not to be used for new connections (IFA_F_DEPRECATED).
  bool deprecated = false;
  /// An IPv6 privacy address (IFA_F_TEMPORARY).
  bool temporary = false;

  /// Usable as a source address now: neither tentative nor DAD-failed.
  bool usable() const { return !tentative && !dad_failed; }
};

/// One network interface as the kernel reports it.
struct interface_info {
  std::string name;
  uint32_t index = 0;
  interface_flags flags;
  /// Hardware address bytes (6 for Ethernet, none for a tun device).
  std::vector<uint8_t> mac;
  uint32_t mtu = 0;
  /// The link type the interface was created with ("veth", "bridge", ...);
  /// empty for physical NICs and loopback.
  std::string kind;
  /// IPv4 and IPv6 addresses, in the kernel's order.
  std::vector<interface_addr> addrs;

  /// "02:fc:00:00:00:01"; empty if the interface has no hardware address.
  std::string mac_text() const;
  /// The addresses of one family.
  std::vector<interface_addr> addresses(family f) const;
  bool has_family(family f) const;
};

/// The default route of one family (destination /0 in the main table).
struct default_route {
  std::string interface;
  uint32_t if_index = 0;
  /// The next hop; none for a route straight out of a point-to-point link.
  /// An IPv6 link-local gateway carries the interface index as scope id.
  std::optional<ip_address> gateway;
  /// The route's priority; the lowest wins when several defaults exist.
  uint32_t metric = 0;
};

/// Every interface of the host (in index order) and the default routes.
struct interface_table {
  std::vector<interface_info> interfaces;
  /// Empty when the family has no default route (an offline host, a
  /// namespace without uplink): that is not an error.
  std::optional<default_route> v4_default;
  std::optional<default_route> v6_default;

  const std::optional<default_route>& default_for(family f) const {
    return f == family::v4 ? v4_default : v6_default;
  }
  /// The interface that holds the family's default route, if any.
  const interface_info* default_interface(family f) const;
  const interface_info* find(std::string_view name) const;
  const interface_info* find(uint32_t index) const;
};

/// Reads the interfaces, their addresses and the default routes of the
/// calling thread's network namespace from the kernel (rtnetlink dumps of
/// links, addresses and routes). Nothing is sent on any network. Blocking
/// but local and fast. Default routes that live only in nexthop objects
/// (RTA_NH_ID, `ip nexthop`) are not resolved.
result<interface_table> list_interfaces();

/// The interface called `name`; errc::interface_not_found
/// ("no interface 'meow' on this host") if there is none.
result<interface_info> find_interface(const interface_table& table, std::string_view name);

/// The interface `name` names; with an empty name, the one a program would
/// use: the interface of the IPv4 default route, else of the IPv6 one, else
/// the first one that is up with a usable address, loopback last (an offline
/// host or a namespace without uplink still gets an interface).
result<interface_info> choose_interface(const interface_table& table, std::string_view name);

} // namespace p2pd::net
