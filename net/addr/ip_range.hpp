#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "p2pd/net/addr/address.hpp"
#include "p2pd/net/error.hpp"

namespace p2pd::net {

/// 128-bit integers: an IPv6 block has up to 2^128 - 1 hosts and host
/// indices that large, so counts and indices cannot be 64-bit.
using uint128 = unsigned __int128;
using int128 = __int128;

/// Decimal text of a 128-bit value (iostreams and std::to_string have none).
std::string u128_to_string(uint128 x);

/// An IP range in the manner of P2PD's IPRange: one host (a /32 or /128) or
/// a CIDR block, IPv4 or IPv6.
///
/// Hosts of a block: like the original, indexing skips the network address,
/// so `r[0]` is the first address after it and a /n block has 2^(bits-n) - 1
/// hosts (a /64 has 2^64 - 1, a /24 has 255, its broadcast address
/// included). Indices wrap modulo the host count, negative ones from the end:
/// `r[-1]` is the last address of the block. (The original wraps with period
/// 2^(bits-n) and maps the network address back to the first host, so on a
/// /24 both `r[255]` and `r[256]` are .1; here the period is the host count,
/// so `r[255]` is .1 and `r[256]` is .2.) A single host is its own only host:
/// every index gives it.
///
/// Containment and overlap use the whole block, network address included.
/// Ranges carry no scope id: a range of link-local addresses means the same
/// on every link.
class ip_range {
public:
  /// 0.0.0.0 as a single host.
  ip_range() = default;

  /// The block of `prefix` network bits around `ip`. Host bits are cleared
  /// (10.1.2.3/8 is 10.0.0.0/8) and the scope id dropped. A prefix longer than
  /// the address is an errc::invalid_argument.
  static result<ip_range> make(const ip_address& ip, unsigned prefix);

  /// `ip` alone: a /32 or a /128, scope dropped.
  static ip_range single(const ip_address& ip);

  /// Parses "10.0.0.0/8", "1.2.3.4" (one host), "fe80::/10",
  /// "192.168.0.0/255.255.0.0" (an IPv4 netmask). "fe80::1%eth0/64" is
  /// accepted and the scope dropped.
  static result<ip_range> parse(std::string_view text);

  family fam() const { return network_.fam(); }
  /// The first address of the block (host bits zero).
  const ip_address& network() const { return network_; }
  /// The last address of the block (host bits one): the broadcast address of
  /// an IPv4 subnet.
  ip_address last() const;
  unsigned prefix() const { return prefix_; }
  /// 32 or 128.
  unsigned max_prefix() const { return network_.is_v4() ? 32 : 128; }
  unsigned host_bits() const { return max_prefix() - prefix_; }
  bool is_single() const { return prefix_ == max_prefix(); }

  /// 1 for a single host, 2^host_bits - 1 for a block (the network address is
  /// not a host).
  uint128 host_count() const;

  /// The host at index `i` (see the class comment): r[0] is the first host,
  /// r[-1] the last; indices wrap.
  ip_address operator[](int128 i) const;

  /// The address `n` past the network address, wrapping within the block;
  /// negative `n` counts back from the end of the block. On 192.168.0.0/16,
  /// `+ 4` is 192.168.0.4 and `- 4` is 192.168.255.252.
  ip_address offset(int128 n) const;
  friend ip_address operator+(const ip_range& r, int128 n) { return r.offset(n); }
  friend ip_address operator-(const ip_range& r, int128 n) { return r.offset(-n); }

  /// True if `ip` lies in the block (scope ignored). An IPv4-mapped IPv6
  /// address is also looked up in an IPv4 range.
  bool contains(const ip_address& ip) const;
  /// True if every address of `other` lies in this block.
  bool contains(const ip_range& other) const;
  /// True if the two blocks share an address (same family only).
  bool overlaps(const ip_range& other) const;

  /// "10.0.0.0/8"; a single host is written as its bare address, "1.2.3.4".
  std::string to_string() const;

  /// Same family, network and prefix (the original's `==` meant "overlaps";
  /// use overlaps() for that).
  friend bool operator==(const ip_range& x, const ip_range& y) {
    return x.prefix_ == y.prefix_ && x.network_ == y.network_;
  }
  friend bool operator!=(const ip_range& x, const ip_range& y) { return !(x == y); }
  /// By network address (IPv4 first), then by prefix.
  friend bool operator<(const ip_range& x, const ip_range& y) {
    return x.network_ < y.network_ || (x.network_ == y.network_ && x.prefix_ < y.prefix_);
  }

  size_t hash() const noexcept;

private:
  ip_address network_;
  uint8_t prefix_ = 32;
};

inline std::string to_string(const ip_range& x) { return x.to_string(); }

/// The address as an unsigned number (IPv4 in the low 32 bits).
uint128 to_u128(const ip_address& ip);
/// The address of family `f` with value `v` (IPv4 uses the low 32 bits).
ip_address from_u128(family f, uint128 v);

/// The netmask of a prefix: 24 gives 255.255.255.0.
ip_address prefix_to_netmask(family f, unsigned prefix);
/// The prefix of a netmask; a mask whose one bits are not contiguous from
/// the top (255.0.255.0) is an errc::invalid_argument.
result<unsigned> netmask_to_prefix(const ip_address& mask);

} // namespace p2pd::net

template <>
struct std::hash<p2pd::net::ip_range> {
  size_t operator()(const p2pd::net::ip_range& x) const noexcept { return x.hash(); }
};
