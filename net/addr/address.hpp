#pragma once

#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "p2pd/net/error.hpp"

namespace p2pd::net {

/// Address family. Values are the IP version, not the OS's AF_* numbers, so
/// they mean the same on every platform and on the wire.
enum class family : uint8_t { v4 = 4, v6 = 6 };

/// AF_INET or AF_INET6.
int to_af(family f);

/// The largest UDP payload one datagram carries: 65,535 less the headers
/// the length field counts (IPv4: 20 of IP and 8 of UDP; IPv6: 8 of UDP,
/// its IP header is outside the payload length). Jumbograms aside.
constexpr size_t max_udp_payload(family f) {
  return f == family::v4 ? 65535 - 20 - 8 : 65535 - 8;
}
const char* to_string(family f);

/// An IPv4 or IPv6 address; IPv6 addresses carry a scope id (the interface
/// index of a link-local address, 0 otherwise). Numeric only: no DNS here.
class ip_address {
public:
  using bytes_type = std::array<uint8_t, 16>;

  /// 0.0.0.0
  ip_address() = default;

  /// From a host-order IPv4 value, e.g. 0x7f000001 for 127.0.0.1.
  static ip_address v4(uint32_t host_order);
  /// From 4 network-order bytes.
  static ip_address v4_bytes(const uint8_t* bytes);
  /// From 16 network-order bytes and a scope id.
  static ip_address v6(const bytes_type& bytes, uint32_t scope_id = 0);
  static ip_address any(family f);
  static ip_address loopback(family f);

  /// Parses "1.2.3.4", "::1", "fe80::1%eth0" or "fe80::1%3". A scope given by
  /// name must be an interface of this host.
  static result<ip_address> parse(std::string_view text);

  family fam() const { return fam_; }
  bool is_v4() const { return fam_ == family::v4; }
  bool is_v6() const { return fam_ == family::v6; }

  /// Network-order bytes: 4 for IPv4 (the rest are zero), 16 for IPv6.
  const bytes_type& bytes() const { return bytes_; }
  size_t size() const { return is_v4() ? 4 : 16; }
  /// Host-order value of an IPv4 address (0 for IPv6).
  uint32_t v4_value() const;

  uint32_t scope_id() const { return scope_; }
  ip_address with_scope(uint32_t scope) const;

  bool is_any() const;
  bool is_loopback() const;
  /// ::ffff:a.b.c.d
  bool is_v4_mapped() const;
  /// The IPv4 address inside ::ffff:a.b.c.d; the address itself otherwise.
  ip_address unmapped() const;

  /// Canonical text: dotted quad, RFC 5952 IPv6, "%<index>" for a scope id.
  std::string to_string() const;

  friend bool operator==(const ip_address& x, const ip_address& y) {
    return x.fam_ == y.fam_ && x.bytes_ == y.bytes_ && x.scope_ == y.scope_;
  }
  friend bool operator!=(const ip_address& x, const ip_address& y) { return !(x == y); }
  /// IPv4 before IPv6, then bytes, then scope.
  friend bool operator<(const ip_address& x, const ip_address& y);

  size_t hash() const noexcept;

private:
  family fam_ = family::v4;
  bytes_type bytes_{};
  uint32_t scope_ = 0;
};

/// An IP address and a port.
struct endpoint {
  ip_address ip;
  uint16_t port = 0;

  endpoint() = default;
  endpoint(ip_address addr, uint16_t p) : ip(addr), port(p) {}

  /// Parses "1.2.3.4:80", "[::1]:80", "[fe80::1%eth0]:80".
  static result<endpoint> parse(std::string_view text);

  family fam() const { return ip.fam(); }

  /// "1.2.3.4:80" or "[::1]:80".
  std::string to_string() const;

  /// Fills `out`; returns the sockaddr length.
  socklen_t to_sockaddr(sockaddr_storage& out) const;
  /// IPv4 or IPv6 sockaddr; an error for other families.
  static result<endpoint> from_sockaddr(const sockaddr* sa, socklen_t len);

  friend bool operator==(const endpoint& x, const endpoint& y) {
    return x.port == y.port && x.ip == y.ip;
  }
  friend bool operator!=(const endpoint& x, const endpoint& y) { return !(x == y); }
  friend bool operator<(const endpoint& x, const endpoint& y) {
    return x.ip < y.ip || (x.ip == y.ip && x.port < y.port);
  }

  size_t hash() const noexcept;
};

inline std::string to_string(const ip_address& x) { return x.to_string(); }
inline std::string to_string(const endpoint& x) { return x.to_string(); }

} // namespace p2pd::net

template <>
struct std::hash<p2pd::net::ip_address> {
  size_t operator()(const p2pd::net::ip_address& x) const noexcept { return x.hash(); }
};

template <>
struct std::hash<p2pd::net::endpoint> {
  size_t operator()(const p2pd::net::endpoint& x) const noexcept { return x.hash(); }
};
