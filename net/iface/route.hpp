#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "p2pd/net/addr/address.hpp"
#include "p2pd/net/iface/interfaces.hpp"
#include "p2pd/net/error.hpp"
#include "p2pd/net/addr/ip_range.hpp"

namespace p2pd::net {

/// One way out of an interface for one family: the NIC addresses that leave
/// through the same external address. External addresses come from STUN
/// later; until then a route knows only its NIC addresses and `ext_ips` is
/// empty.
struct route {
  std::string interface;
  uint32_t if_index = 0;
  family fam = family::v4;
  /// Single hosts: an interface owns addresses, not its on-link block.
  std::vector<ip_range> nic_ips;
  std::vector<ip_range> ext_ips;
  /// IPv6 link-local addresses of the interface, scope id = if_index; the
  /// same in every IPv6 route of the interface.
  std::vector<ip_address> link_locals;

  /// The first NIC address.
  std::optional<ip_address> nic() const;
  /// The first external address.
  std::optional<ip_address> ext() const;
  /// The first link-local address.
  std::optional<ip_address> link_local() const;

  /// True if `ip` lies in one of nic_ips.
  bool has_nic_ip(const ip_address& ip) const;
  /// True if `ip` is one of link_locals (its scope id, if set, must be ours).
  bool has_link_local(const ip_address& ip) const;

  /// Adds `ip` as an external address. Refused (invalid_argument) if it is
  /// of the other family or can be no host's address: the any-address
  /// (0.0.0.0, ::), multicast, broadcast or IPv4-mapped (::ffff:a.b.c.d), as
  /// a lying or broken STUN server might report. Adding one already there
  /// changes nothing.
  error add_ext(const ip_address& ip);

  /// "eth0 IPv4 nic [192.168.1.5] ext [203.0.113.7] link-local []".
  std::string to_string() const;

  /// Routes are values: equal (and hashed alike) when every field is, lists
  /// in order. The original compared the first external range only, which
  /// made two NICs behind one NAT one route; for "the same way out" compare
  /// ext(). A route that learns its external address is a new value.
  friend bool operator==(const route& x, const route& y) {
    return x.interface == y.interface && x.if_index == y.if_index && x.fam == y.fam
           && x.nic_ips == y.nic_ips && x.ext_ips == y.ext_ips && x.link_locals == y.link_locals;
  }
  friend bool operator!=(const route& x, const route& y) { return !(x == y); }
};

/// Why `ip` cannot be an external address of a `fam` route, or none.
error check_external(family fam, const ip_address& ip);

/// The routes of `nic` for `fam`, following the original P2PD:
///   - every non-public address (RFC 1918, CGNAT, unique-local, IPv4
///     link-local, ...) goes into one route: one NAT maps them all to the
///     same external address;
///   - every public address is a route of its own: it may be its own
///     external address (STUN will tell);
///   - IPv6 link-local addresses are no route of their own; they go into
///     `link_locals` of every IPv6 route;
///   - addresses not usable yet (tentative, DAD failed) and multicast,
///     broadcast and unspecified ones are left out.
/// Routes come in the order of their first address on the interface. An
/// interface with no address of the family but link-locals has no route: a
/// link-local bind goes through the interface (resolve_bind()).
std::vector<route> routes_for(const interface_info& nic, family fam);

} // namespace p2pd::net

template <>
struct std::hash<p2pd::net::route> {
  size_t operator()(const p2pd::net::route& r) const noexcept;
};
