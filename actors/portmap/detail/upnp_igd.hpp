#pragma once

// UPnP IGD port mapping with miniupnpc: blocking calls (SSDP discovery, HTTP
// SOAP requests on sockets miniupnpc owns), so the port mapper runs them as
// jobs on the blocking executor (run_blocking), never on an actor thread.
// CAF-free.

#include <cstdint>
#include <string>

#include "p2pd/net/addr/address.hpp"
#include "p2pd/net/error.hpp"
#include "p2pd/net/sock/socket.hpp"

namespace p2pd::actors::detail {

/// An IGD found and the mapping it holds for us.
struct upnp_lease {
  /// The WANIPConnection control URL and service type: refreshes and
  /// deletes go there without a new discovery.
  std::string control_url;
  std::string service_type;
  /// Our address as the IGD sees it (miniupnpd in secure mode maps only to
  /// the address that asks).
  net::ip_address lan_ip;
  net::endpoint external;
};

/// What to map and where to look for the IGD.
struct upnp_request {
  net::protocol proto = net::protocol::udp;
  /// Unspecified IP: the address the IGD sees us from.
  net::endpoint internal;
  /// 0: the internal port if free, else any.
  uint16_t suggested_port = 0;
  uint32_t lifetime_s = 0;
  /// How long discovery waits for SSDP answers.
  int discover_ms = 500;
  /// Only an IGD whose description URL is on this host (unspecified: any).
  net::ip_address gateway;
  /// Known from an earlier mapping: skip discovery and try these first.
  std::string control_url;
  std::string service_type;
};

/// An IGD that answered discovery and its services (also for pinholes).
struct upnp_igd_found {
  /// WANIPConnection: control URL, service type, our address as it sees us.
  upnp_lease ip;
  /// WANIPv6FirewallControl (IGDv2): empty when the IGD has none.
  std::string fc_control_url;
  std::string fc_service_type;
  std::string desc_url;
  /// UPNP_GetValidIGD said the WAN is not connected (its IPv4 side).
  bool wan_down = false;
};

/// One SSDP search for an IGD (over IPv6 when `ipv6`: ff02::c), waiting
/// `discover_ms`; only an IGD whose description URL is on `gateway` (any when
/// unspecified, or link-local: the IGD's HTTP address is then another).
/// errc::recv_timeout when none answered, errc::server_refused when the
/// device is no IGD.
net::result<upnp_igd_found> upnp_discover(int discover_ms, const net::ip_address& gateway,
                                          bool ipv6);

/// "718 ConflictInMappingEntry": a UPnP error code with its name.
std::string upnp_error_text(int rc);

/// The host of a URL: "10.77.1.1" of "http://10.77.1.1:36623/rootDesc.xml",
/// "2001:db8::1" of "http://[2001:db8::1]:5000/x".
std::string upnp_url_host(const std::string& url);

/// Maps (or refreshes: an AddPortMapping of the same mapping renews it).
/// `restored` says the IGD did not have the mapping any more (a router that
/// restarted). Errors: errc::recv_timeout when no IGD answered the
/// discovery, errc::server_refused with the UPnP error code when it
/// refused.
net::result<upnp_lease> upnp_map(const upnp_request& req, bool& restored);

/// Deletes the mapping; errc::server_refused with the UPnP error code.
net::result<bool> upnp_unmap(const upnp_lease& lease, net::protocol proto);

} // namespace p2pd::actors::detail
