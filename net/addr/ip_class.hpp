#pragma once

#include <cstdint>
#include <vector>

#include "p2pd/net/addr/address.hpp"
#include "p2pd/net/addr/ip_range.hpp"

namespace p2pd::net {

/// What an address is for, from the IANA special-purpose registries
/// (RFC 6890 and successors). Only `global` is reachable from the Internet.
enum class ip_scope : uint8_t {
  unspecified,   ///< 0.0.0.0, ::
  loopback,      ///< 127.0.0.0/8, ::1
  private_v4,    ///< RFC 1918: 10/8, 172.16/12, 192.168/16
  shared,        ///< RFC 6598 carrier-grade NAT: 100.64/10
  link_local,    ///< 169.254/16, fe80::/10
  unique_local,  ///< fc00::/7 (RFC 4193): site-wide, routable, not link-local
  documentation, ///< 192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32, 3fff::/20
  benchmarking,  ///< 198.18/15, 2001:2::/48
  multicast,     ///< 224/4, ff00::/8
  broadcast,     ///< 255.255.255.255
  reserved,      ///< not for hosts: 0/8, 192.0.0/24, 240/4, and IPv6 outside 2000::/3
  global,        ///< everything else
};

const char* to_string(ip_scope s);

/// The scope of `ip`. IPv4-mapped (::ffff:a.b.c.d) and NAT64 well-known
/// prefix (64:ff9b::a.b.c.d) addresses classify as the IPv4 address inside.
/// 192.0.0.9 and 192.0.0.10 (PCP and TURN anycast) are global although the
/// rest of 192.0.0/24 is reserved; 64:ff9b:1::/48 (local-use NAT64), 100::/64
/// (discard) and fec0::/10 (old site-local) are reserved.
ip_scope classify(const ip_address& ip);

/// True if `ip` is globally reachable: classify(ip) == ip_scope::global.
bool is_public(const ip_address& ip);

/// Like is_public(), but addresses inside `also_public` count as public too:
/// a lab whose "Internet" uses documentation ranges (198.51.100.0/24) lists
/// them here.
bool is_public(const ip_address& ip, const std::vector<ip_range>& also_public);

} // namespace p2pd::net
