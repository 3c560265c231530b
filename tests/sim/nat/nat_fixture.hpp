#pragma once

// The cast of the NAT table tests: a site of hosts behind one NAT box at
// 203.0.113.1, and servers on the Internet (documentation ranges, which the
// tables never route anywhere: nothing here touches a socket).

#include <chrono>
#include <cstdint>
#include <ostream>

#include <gtest/gtest.h>

#include "support/values.hpp"

#include "p2pd/sim/nat/nat_profile.hpp"
#include "p2pd/sim/nat/nat_table.hpp"

namespace p2pd::sim {

inline void PrintTo(nat_action x, std::ostream* os) {
  *os << to_string(x);
}

inline void PrintTo(const packet& x, std::ostream* os) {
  *os << (x.proto == protocol::udp ? "udp " : "tcp ") << x.src.to_string() << " > "
      << x.dst.to_string();
  if (x.proto == protocol::tcp)
    *os << (x.has(tcp_flag::syn) ? " S" : "") << (x.has(tcp_flag::ack) ? " A" : "")
        << (x.has(tcp_flag::rst) ? " R" : "") << (x.has(tcp_flag::fin) ? " F" : "");
}

inline void PrintTo(const verdict& x, std::ostream* os) {
  *os << to_string(x.action) << " (" << x.why << "): ";
  PrintTo(x.pkt, os);
}

} // namespace p2pd::sim

namespace p2pd::sim::test {

using p2pd::test::at;
using p2pd::test::ip;

/// Inside host `n` of the site (192.168.1.10 + n) on `port`.
inline net::endpoint inside(int n, uint16_t port) {
  return net::endpoint{net::ip_address::v4(0xC0A8010Au + static_cast<uint32_t>(n)), port};
}

/// Server `n` on the Internet (198.51.100.10 + n) on `port`.
inline net::endpoint server(int n, uint16_t port = 3478) {
  return net::endpoint{net::ip_address::v4(0xC633640Au + static_cast<uint32_t>(n)), port};
}

/// The NAT box's external address.
inline net::ip_address nat_ip() {
  return ip("203.0.113.1");
}

/// Virtual time: `ms` milliseconds after the start.
inline sim_time ms(int64_t ms) {
  return std::chrono::milliseconds{ms};
}

inline sim_time secs(int64_t s) {
  return std::chrono::seconds{s};
}

/// A preset that must exist (a test failure where it does not).
inline nat_profile preset(net::nat_type nat, net::delta_type delta) {
  auto p = nat_profile::p2pd(nat, delta);
  if (!p) {
    ADD_FAILURE() << "no preset " << net::to_string(nat) << "/" << net::to_string(delta) << ": "
                  << net::to_string(p.error());
    return nat_profile{};
  }
  return *p;
}

/// A NAT with EIM, APDF and equal allocation, changed by `edit`.
template <class F>
nat_profile nat_with(F edit) {
  nat_profile p;
  edit(p);
  EXPECT_FALSE(check(p)) << net::to_string(check(p));
  return p;
}

/// The table of a profile at the site's address.
inline nat_table box(const nat_profile& p, uint64_t seed = 1) {
  return nat_table{p, nat_ip(), seed};
}

/// Sends `from` → `to` out through `t` and returns the external endpoint it
/// left with (a test failure and a default endpoint when it did not leave).
inline net::endpoint out_udp(nat_table& t, const net::endpoint& from, const net::endpoint& to,
                             sim_time now = sim_time::zero()) {
  auto v = t.outbound(packet::udp(from, to), now);
  EXPECT_EQ(v.action, nat_action::to_internet) << ::testing::PrintToString(v);
  return v.pkt.src;
}

/// The five allocators' names, for loops over them.
constexpr net::delta_type allocators[] = {net::delta_type::equal, net::delta_type::preserving,
                                          net::delta_type::independent,
                                          net::delta_type::dependent, net::delta_type::random};

/// The seven NAT types the presets simulate.
constexpr net::nat_type simulated_types[] = {
  net::nat_type::open_internet, net::nat_type::udp_firewall, net::nat_type::full_cone,
  net::nat_type::restricted,    net::nat_type::port_restricted, net::nat_type::symmetric,
  net::nat_type::blocked};

} // namespace p2pd::sim::test
