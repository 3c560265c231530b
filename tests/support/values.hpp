#pragma once

// Values that tests write as text: addresses, endpoints, ranges, interface
// addresses, loopback routes, hex strings, identities. Bad text is a test
// failure where it is written (ADD_FAILURE with the text), not a crash on an
// empty optional.

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "printers.hpp" // so that these values print as text wherever they are compared

#include "p2pd/net/addr/address.hpp"
#include "p2pd/net/addr/ip_range.hpp"
#include "p2pd/net/crypto/identity.hpp"
#include "p2pd/net/iface/interfaces.hpp"
#include "p2pd/net/iface/route.hpp"

namespace p2pd::test {

/// "192.168.1.20", "fe80::1%3".
inline net::ip_address ip(std::string_view text) {
  auto x = net::ip_address::parse(text);
  if (!x)
    ADD_FAILURE() << "not an IP address: " << text << ": " << net::to_string(x.error());
  return x ? *x : net::ip_address{};
}

/// "198.51.100.15:40123", "[2001:db8::1]:443".
inline net::endpoint ep(std::string_view text) {
  auto x = net::endpoint::parse(text);
  if (!x)
    ADD_FAILURE() << "not an endpoint: " << text << ": " << net::to_string(x.error());
  return x ? *x : net::endpoint{};
}

/// `ip` and `port` as an endpoint.
inline net::endpoint at(std::string_view ip_text, uint16_t port) {
  return net::endpoint{ip(ip_text), port};
}

/// `ip` with port 0: the kernel picks the port.
inline net::endpoint any_port(std::string_view ip_text) {
  return at(ip_text, 0);
}

/// "10.0.0.0/8", or a single address.
inline net::ip_range range(std::string_view text) {
  auto x = net::ip_range::parse(text);
  if (!x)
    ADD_FAILURE() << "not an IP range: " << text << ": " << net::to_string(x.error());
  return x ? *x : net::ip_range{};
}

/// An interface's address with its prefix length, as netlink reports it.
inline net::interface_addr addr(std::string_view text, uint8_t prefix) {
  net::interface_addr a;
  a.ip = ip(text);
  a.prefix = prefix;
  return a;
}

/// A route on loopback for one family (the "lo" interface's address).
inline net::route loopback_route(net::family f) {
  net::route r;
  r.interface = "lo";
  r.fam = f;
  r.nic_ips.push_back(net::ip_range::single(net::ip_address::loopback(f)));
  return r;
}

/// N bytes written as 2N hex digits (test vectors).
template <size_t N>
std::array<uint8_t, N> from_hex(const std::string& hex) {
  EXPECT_EQ(hex.size(), 2 * N) << hex;
  std::array<uint8_t, N> out{};
  for (size_t i = 0; i < N && 2 * i + 1 < hex.size(); ++i)
    out[i] = static_cast<uint8_t>(std::stoul(hex.substr(2 * i, 2), nullptr, 16));
  return out;
}

/// Whether `text` has `part` in it (for error messages and logs).
inline bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

/// The bytes of a text.
inline std::vector<uint8_t> bytes_of(std::string_view text) {
  return {text.begin(), text.end()};
}

/// A new node identity (keys from OpenSSL's generator). An identity has no
/// empty state to return instead: a failure throws, which fails the test.
inline net::identity make_identity() {
  auto id = net::identity::generate();
  if (!id)
    throw std::runtime_error{"identity::generate: " + net::to_string(id.error())};
  return std::move(*id);
}

} // namespace p2pd::test
