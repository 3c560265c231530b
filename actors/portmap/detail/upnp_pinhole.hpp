#pragma once

// IPv6 pinholes with miniupnpc (UPnP IGDv2 WANIPv6FirewallControl): an
// inbound hole in the router's IPv6 firewall to one of our addresses and
// ports, no translation. Blocking calls, run as jobs on the blocking
// executor like upnp_igd's. CAF-free.

#include <cstdint>
#include <string>

#include "p2pd/net/addr/address.hpp"
#include "p2pd/net/error.hpp"
#include "p2pd/net/sock/socket.hpp"

namespace p2pd::actors::detail {

/// A pinhole the IGD holds for us.
struct upnp_pinhole_lease {
  /// The WANIPv6FirewallControl control URL and service type.
  std::string control_url;
  std::string service_type;
  /// The IGD's UniqueID of the pinhole (UpdatePinhole, DeletePinhole).
  std::string unique_id;
};

struct upnp_pinhole_request {
  net::protocol proto = net::protocol::udp;
  /// An IPv6 address of ours and the port to open.
  net::endpoint internal;
  /// Seconds, 1 to 86400 (IGD2's range).
  uint32_t lifetime_s = 0;
  int discover_ms = 500;
  /// Only an IGD on this host (link-local or unspecified: any).
  net::ip_address gateway;
  /// From an earlier grant: renew this pinhole (UpdatePinhole) at that URL.
  upnp_pinhole_lease known;
  /// The unique id is known to be stale (the IGD gave it to another
  /// pinhole of ours since): add again instead of updating.
  bool stale_id = false;
};

/// Opens the pinhole, or renews a known one by UpdatePinhole (the unique id
/// kept). When the IGD no longer has it (a router that rebooted: the update
/// is refused, or the control URL is gone and discovery finds the IGD on
/// another port), it is added again and `restored` set. Discovery searches
/// over IPv6 first, then IPv4. Errors: errc::recv_timeout (no IGD
/// answered), errc::family_unsupported (the IGD has no
/// WANIPv6FirewallControl service), errc::server_refused (its firewall is
/// disabled, inbound pinholes are not allowed, or it refused the request:
/// the UPnP error code, and why when it is known).
net::result<upnp_pinhole_lease> upnp_pinhole(const upnp_pinhole_request& req, bool& restored);

/// DeletePinhole; errc::server_refused with the UPnP error code.
net::result<bool> upnp_delete_pinhole(const upnp_pinhole_lease& lease);

} // namespace p2pd::actors::detail
