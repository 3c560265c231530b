#pragma once

#include <cstdint>

#include "p2pd/net/addr/address.hpp"

namespace p2pd::sim {

enum class protocol : uint8_t { udp, tcp };

/// TCP flags a NAT looks at (a bit set).
namespace tcp_flag {
constexpr uint8_t syn = 1;
constexpr uint8_t ack = 2;
constexpr uint8_t rst = 4;
constexpr uint8_t fin = 8;
} // namespace tcp_flag

/// What a NAT sees of a datagram or segment: no payload, which it never
/// reads (the fabric carries that beside it).
struct packet {
  protocol proto = protocol::udp;
  net::endpoint src;
  net::endpoint dst;
  uint8_t flags = 0; ///< tcp_flag bits; 0 for UDP

  static packet udp(net::endpoint from, net::endpoint to) {
    return {protocol::udp, from, to, 0};
  }
  static packet tcp(net::endpoint from, net::endpoint to, uint8_t f) {
    return {protocol::tcp, from, to, f};
  }

  bool has(uint8_t f) const { return (flags & f) != 0; }
  /// A SYN that opens a connection (no ACK: not the SYN-ACK answering one).
  bool is_bare_syn() const { return proto == protocol::tcp && has(tcp_flag::syn) && !has(tcp_flag::ack); }

  friend bool operator==(const packet& x, const packet& y) {
    return x.proto == y.proto && x.src == y.src && x.dst == y.dst && x.flags == y.flags;
  }
  friend bool operator!=(const packet& x, const packet& y) { return !(x == y); }
};

} // namespace p2pd::sim
