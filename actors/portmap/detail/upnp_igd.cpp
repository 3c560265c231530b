#include "p2pd/actors/portmap/detail/upnp_igd.hpp"

#include <miniupnpc/miniupnpc.h>
#include <miniupnpc/upnpcommands.h>
#include <miniupnpc/upnperrors.h>

#include <cstring>
#include <memory>

#include "p2pd/net/addr/ip_class.hpp"

namespace p2pd::actors::detail {

namespace {

const char* proto_text(net::protocol p) {
  return p == net::protocol::tcp ? "TCP" : "UDP";
}

} // namespace

std::string upnp_error_text(int rc) {
  const char* s = strupnperror(rc);
  return std::to_string(rc) + (s != nullptr ? std::string{" "} + s : std::string{});
}

std::string upnp_url_host(const std::string& url) {
  auto start = url.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  if (start < url.size() && url[start] == '[') {
    auto end = url.find(']', start);
    return end == std::string::npos ? std::string{} : url.substr(start + 1, end - start - 1);
  }
  auto end = url.find_first_of(":/", start);
  return url.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

// One SSDP search for IGDv1 (an IGDv2 answers it too), waiting `discover_ms`;
// miniupnpc's upnpDiscover would search four types one after the other,
// each waiting as long, when nothing answers.
net::result<upnp_igd_found> upnp_discover(int discover_ms, const net::ip_address& gateway,
                                          bool ipv6) {
  static const char* const types[] = {"urn:schemas-upnp-org:device:InternetGatewayDevice:1",
                                      nullptr};
  const char* over = ipv6 ? " over IPv6" : " over IPv4";
  int err = 0;
  std::unique_ptr<UPNPDev, void (*)(UPNPDev*)> devs{
    upnpDiscoverDevices(types, discover_ms, nullptr, nullptr, 0, ipv6 ? 1 : 0, 2, &err, 0),
    freeUPNPDevlist};
  if (!devs)
    return net::error{net::errc::recv_timeout, std::string{"no UPnP IGD answered SSDP discovery"}
                                                 + over + " within "
                                                 + std::to_string(discover_ms) + " ms"};
  // Only the gateway's devices, when we know the gateway. A link-local next
  // hop (IPv6) is not where the IGD's HTTP server is: any IGD then.
  bool any = gateway.is_any() || net::classify(gateway) == net::ip_scope::link_local;
  auto gw = gateway.with_scope(0).to_string();
  UPNPDev* keep = nullptr;
  for (UPNPDev* d = devs.get(); d != nullptr && keep == nullptr; d = d->pNext)
    if (any || upnp_url_host(d->descURL) == gw)
      keep = d;
  if (keep == nullptr)
    return net::error{net::errc::recv_timeout, std::string{"UPnP devices answered"} + over
                                                 + ", none at the gateway " + gw};
  UPNPDev* next = keep->pNext;
  keep->pNext = nullptr; // UPNP_GetValidIGD looks at this one only
  UPNPUrls urls{};
  IGDdatas data{};
  char lan[64] = {};
  int rc = UPNP_GetValidIGD(keep, &urls, &data, lan, sizeof(lan));
  keep->pNext = next;
  upnp_igd_found out;
  out.desc_url = keep->descURL;
  if (rc == 1 || rc == 2) {
    out.ip.control_url = urls.controlURL != nullptr ? urls.controlURL : "";
    out.ip.service_type = data.first.servicetype;
    if (auto ip = net::ip_address::parse(lan))
      out.ip.lan_ip = *ip;
    if (urls.controlURL_6FC != nullptr && data.IPv6FC.servicetype[0] != '\0') {
      out.fc_control_url = urls.controlURL_6FC;
      out.fc_service_type = data.IPv6FC.servicetype;
    }
    out.wan_down = rc == 2;
  }
  FreeUPNPUrls(&urls);
  if (rc != 1 && rc != 2)
    return net::error{net::errc::server_refused, "the UPnP device at " + out.desc_url
                                                   + " is no Internet gateway (UPNP_GetValidIGD "
                                                   + std::to_string(rc) + ")"};
  return out;
}

namespace {

// The external address and whether our mapping of `port` is there.
net::result<bool> has_mapping(const upnp_lease& l, net::protocol proto, uint16_t port) {
  char client[40] = {}, iport[6] = {}, desc[80] = {}, enabled[4] = {}, lease[16] = {};
  auto ext = std::to_string(port);
  int rc = UPNP_GetSpecificPortMappingEntry(l.control_url.c_str(), l.service_type.c_str(),
                                            ext.c_str(), proto_text(proto), nullptr, client,
                                            iport, desc, enabled, lease);
  if (rc == UPNPCOMMAND_SUCCESS)
    return true;
  if (rc == 714) // NoSuchEntryInArray
    return false;
  return net::error{net::errc::io_failed, "GetSpecificPortMappingEntry: " + upnp_error_text(rc)};
}

net::result<upnp_lease> add(upnp_lease l, const upnp_request& req) {
  char ext_ip[40] = {};
  int rc = UPNP_GetExternalIPAddress(l.control_url.c_str(), l.service_type.c_str(), ext_ip);
  if (rc != UPNPCOMMAND_SUCCESS)
    return net::error{net::errc::io_failed, "GetExternalIPAddress: " + upnp_error_text(rc)};
  auto ip = net::ip_address::parse(ext_ip);
  if (!ip)
    return net::error{net::errc::malformed, "the IGD's external address '" + std::string{ext_ip}
                                         + "' is no IP address"};
  auto internal_ip = req.internal.ip.is_any() ? l.lan_ip : req.internal.ip;
  auto in_port = std::to_string(req.internal.port);
  uint16_t want = req.suggested_port != 0 ? req.suggested_port : req.internal.port;
  auto ext_port = std::to_string(want);
  auto lease = std::to_string(req.lifetime_s);
  auto client = internal_ip.to_string();
  rc = UPNP_AddPortMapping(l.control_url.c_str(), l.service_type.c_str(), ext_port.c_str(),
                           in_port.c_str(), client.c_str(), "p2pd", proto_text(req.proto),
                           nullptr, lease.c_str());
  if (rc == 718) { // ConflictInMappingEntry: someone else has that port; any other (IGDv2)
    char reserved[6] = {};
    rc = UPNP_AddAnyPortMapping(l.control_url.c_str(), l.service_type.c_str(), ext_port.c_str(),
                                in_port.c_str(), client.c_str(), "p2pd", proto_text(req.proto),
                                nullptr, lease.c_str(), reserved);
    if (rc == UPNPCOMMAND_SUCCESS)
      want = static_cast<uint16_t>(std::strtoul(reserved, nullptr, 10));
  }
  if (rc != UPNPCOMMAND_SUCCESS)
    return net::error{net::errc::server_refused, "AddPortMapping " + ext_port + " -> " + client + ":"
                                              + in_port + " refused: " + upnp_error_text(rc)};
  l.external = {*ip, want};
  return l;
}

} // namespace

net::result<upnp_lease> upnp_map(const upnp_request& req, bool& restored) {
  restored = false;
  // A refresh goes to the control URL we know; a router that restarted may
  // listen on another port (miniupnpd picks one): then discover again.
  if (!req.control_url.empty() && req.suggested_port != 0) {
    upnp_lease known;
    known.control_url = req.control_url;
    known.service_type = req.service_type;
    known.lan_ip = req.internal.ip;
    auto had = has_mapping(known, req.proto, req.suggested_port);
    if (had) {
      restored = !*had;
      return add(std::move(known), req);
    }
  }
  auto found = upnp_discover(req.discover_ms, req.gateway, false);
  if (!found)
    return found.error();
  if (found->wan_down)
    return net::error{net::errc::server_refused, "the UPnP IGD at " + found->desc_url
                                                   + " says its WAN is not connected"};
  if (req.suggested_port != 0) {
    auto had = has_mapping(found->ip, req.proto, req.suggested_port);
    restored = had && !*had;
  }
  return add(std::move(found->ip), req);
}

net::result<bool> upnp_unmap(const upnp_lease& lease, net::protocol proto) {
  auto ext = std::to_string(lease.external.port);
  int rc = UPNP_DeletePortMapping(lease.control_url.c_str(), lease.service_type.c_str(),
                                  ext.c_str(), proto_text(proto), nullptr);
  if (rc != UPNPCOMMAND_SUCCESS)
    return net::error{net::errc::server_refused, "DeletePortMapping " + ext + ": "
                                              + upnp_error_text(rc)};
  return true;
}

} // namespace p2pd::actors::detail
