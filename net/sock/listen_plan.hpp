#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "p2pd/net/addr/address.hpp"
#include "p2pd/net/error.hpp"
#include "p2pd/net/iface/interfaces.hpp"
#include "p2pd/net/iface/route.hpp"
#include "p2pd/net/sock/socket.hpp"

namespace p2pd::net {

/// One listener to open: a protocol and the address to bind.
struct listen_addr {
  protocol proto = protocol::tcp;
  endpoint local;

  friend bool operator==(const listen_addr& x, const listen_addr& y) {
    return x.proto == y.proto && x.local == y.local;
  }
};

/// Ports of a listen_all: a single port (first == last) or an inclusive range.
struct port_range {
  uint16_t first = 0;
  uint16_t last = 0;

  port_range() = default;
  port_range(uint16_t port) : first(port), last(port) {}
  port_range(uint16_t start, uint16_t stop) : first(start), last(stop) {}
};

/// The families a listen_all asks for: one, or every family a target has.
enum class family_choice : uint8_t { v4, v6, any };

/// What listen_all binds on: an interface (its routes) or one route.
using listen_target = std::variant<interface_info, route>;

/// Expands the seed's listen_all(targets, ports, protos, af, error_on_af)
/// into the listeners to open: for every target, port, protocol and family,
/// the target's first NIC address of that family and, for IPv6, also its
/// link-local address (the seed's doubling). A target lacking a requested
/// family is an error with `error_on_af`, and skipped otherwise.
/// Errors: a range with start > stop, port 0, an empty list, nothing left to
/// listen on.
result<std::vector<listen_addr>> plan_listen_all(const std::vector<listen_target>& targets,
                                                 const std::vector<port_range>& ports,
                                                 const std::vector<protocol>& protos,
                                                 family_choice af, bool error_on_af);

/// Checks listen_specific's already-bound targets: an address and a protocol
/// each; port 0 takes a free port. Errors: a duplicate, a link-local IPv6
/// address without its scope id.
error check_listen_specific(const std::vector<listen_addr>& targets);

} // namespace p2pd::net
