#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "p2pd/net/addr/address.hpp"
#include "p2pd/net/error.hpp"
#include "p2pd/net/iface/interfaces.hpp"
#include "p2pd/net/iface/route.hpp"

namespace p2pd::net {

/// What a socket should bind to, before it is known on which interface:
/// resolve_bind() turns it into a socket address.
struct bind_spec {
  enum kind_t : uint8_t {
    any,         ///< 0.0.0.0 or ::
    loopback,    ///< 127.0.0.1 or ::1
    nic,         ///< a NIC address of the route or interface: `ip`, or the first
    link_local,  ///< an IPv6 link-local address of the interface: `ip`, or the first
    explicit_ip, ///< `ip` as given; a link-local one gets the interface's scope
  };

  kind_t kind = any;
  family fam = family::v4;
  /// Which address, for nic and link_local (it must belong to the route or
  /// interface) and explicit_ip (required).
  std::optional<ip_address> ip;
  uint16_t port = 0;

  /// The original's bind-address text for a family: "", "*", "0.0.0.0",
  /// "::" and "::/0" mean any; "localhost" loopback; an IP literal (with an
  /// optional %scope) is explicit_ip. An IP of the other family, or anything
  /// else, is an errc::invalid_argument.
  static result<bind_spec> parse(family fam, std::string_view ip, uint16_t port = 0);
};

const char* to_string(bind_spec::kind_t k);

/// The address for a spec that needs no interface (any, loopback, an
/// explicit IP; a link-local explicit IP must carry its scope id).
/// nic and link_local specs are an errc::invalid_argument here.
result<endpoint> resolve_bind(const bind_spec& spec);

/// The address for `spec` on route `r`: nic picks from r.nic_ips,
/// link_local from r.link_locals, an explicit link-local IP without scope
/// gets r.if_index. Errors: errc::family_unsupported if the route has no
/// address of the kind asked for ("interface 'eth0' has no IPv6 address"),
/// errc::invalid_argument if `spec.ip` is not the route's, is of the other
/// family, or carries another interface's scope id.
result<endpoint> resolve_bind(const bind_spec& spec, const route& r);

/// The same on an interface: nic picks from the interface's usable
/// non-link-local addresses of the family (what routes_for() would use).
result<endpoint> resolve_bind(const bind_spec& spec, const interface_info& nic);

} // namespace p2pd::net
