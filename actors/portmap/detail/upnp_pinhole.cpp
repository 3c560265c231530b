#include "p2pd/actors/portmap/detail/upnp_pinhole.hpp"

#include <miniupnpc/upnpcommands.h>

#include "p2pd/actors/portmap/detail/upnp_igd.hpp"

namespace p2pd::actors::detail {

namespace {

// WANIPv6FirewallControl takes the IP protocol number.
const char* proto_number(net::protocol p) {
  return p == net::protocol::tcp ? "6" : "17";
}

std::string what_of(const upnp_pinhole_request& req) {
  return net::endpoint{req.internal.ip.with_scope(0), req.internal.port}.to_string()
         + (req.proto == net::protocol::tcp ? " TCP" : " UDP");
}

// A failed call: unreachable (miniupnpc's negative codes: no HTTP answer,
// an answer it could not read) or refused (the IGD's UPnP error code), with
// what the codes the IGD2 spec names mean for us.
net::error failed(const char* action, int rc, const upnp_pinhole_request& req,
                  const upnp_pinhole_lease& l, const net::ip_address& seen_as) {
  auto msg = std::string{action} + " " + what_of(req) + " at " + l.control_url + ": "
             + upnp_error_text(rc);
  if (rc == 702)
    msg += " (the IGD's IPv6 firewall is disabled: nothing to open)";
  else if (rc == 703)
    msg += " (the IGD does not allow inbound pinholes)";
  else if (rc == 606) {
    msg += " (an IGD opens pinholes only for the address a request comes from";
    if (upnp_url_host(l.control_url).find(':') == std::string::npos)
      msg += "; this one answered over IPv4 only";
    else if (!seen_as.is_any())
      msg += "; it sees us as " + seen_as.to_string();
    msg += ")";
  }
  return {rc < 0 ? net::errc::io_failed : net::errc::server_refused, std::move(msg)};
}

// The IGD's firewall control service, found over IPv6 SSDP or else IPv4
// (an IGD found over IPv4 has IPv4 URLs: it may then refuse, see failed()).
net::result<upnp_pinhole_lease> find_service(const upnp_pinhole_request& req,
                                             net::ip_address& seen_as) {
  auto f = upnp_discover(req.discover_ms, req.gateway, true);
  if (!f) {
    // An IPv6 gateway says nothing about the IGD's IPv4 address.
    auto gw4 = req.gateway.is_v4() ? req.gateway : net::ip_address::any(net::family::v4);
    auto v4 = upnp_discover(req.discover_ms, gw4, false);
    if (!v4)
      return net::error{v4.error().code, f.error().what + "; " + v4.error().what};
    f = std::move(v4);
  }
  seen_as = f->ip.lan_ip;
  if (f->fc_control_url.empty())
    return net::error{net::errc::family_unsupported,
                      "the UPnP IGD at " + f->desc_url
                        + " has no WANIPv6FirewallControl service: no IPv6 pinholes"};
  upnp_pinhole_lease l;
  l.control_url = f->fc_control_url;
  l.service_type = f->fc_service_type;
  int enabled = 1, allowed = 1;
  int rc = UPNP_GetFirewallStatus(l.control_url.c_str(), l.service_type.c_str(), &enabled,
                                  &allowed);
  // An IGD that cannot say goes on: AddPinhole will tell.
  if (rc == UPNPCOMMAND_SUCCESS && enabled == 0)
    return net::error{net::errc::server_refused,
                      "the UPnP IGD at " + f->desc_url
                        + " says its IPv6 firewall is disabled: nothing to open"};
  if (rc == UPNPCOMMAND_SUCCESS && allowed == 0)
    return net::error{net::errc::server_refused, "the UPnP IGD at " + f->desc_url
                                                   + " does not allow inbound pinholes"};
  return l;
}

// At `l`'s control URL: renews the known pinhole, or adds it when the IGD
// does not have it (or there is none yet). io_failed: the URL is
// unreachable.
net::result<upnp_pinhole_lease> renew_or_add(upnp_pinhole_lease l,
                                             const upnp_pinhole_request& req, bool& restored,
                                             const net::ip_address& seen_as) {
  auto life = std::to_string(req.lifetime_s);
  bool had = !req.known.unique_id.empty();
  if (had && !req.stale_id) {
    int rc = UPNP_UpdatePinhole(l.control_url.c_str(), l.service_type.c_str(),
                                req.known.unique_id.c_str(), life.c_str());
    if (rc == UPNPCOMMAND_SUCCESS) {
      l.unique_id = req.known.unique_id;
      return l;
    }
    if (rc < 0)
      return failed("UpdatePinhole", rc, req, l, seen_as);
    // Refused (miniupnpd: 402 for an id it does not have, 704 by the
    // spec): the IGD lost it.
  }
  auto ip = req.internal.ip.with_scope(0).to_string();
  auto port = std::to_string(req.internal.port);
  char uid[16] = {};
  int rc = UPNP_AddPinhole(l.control_url.c_str(), l.service_type.c_str(), "empty", "0",
                           ip.c_str(), port.c_str(), proto_number(req.proto), life.c_str(),
                           uid);
  if (rc != UPNPCOMMAND_SUCCESS)
    return failed("AddPinhole", rc, req, l, seen_as);
  if (uid[0] == '\0')
    return net::error{net::errc::malformed, "AddPinhole " + what_of(req) + " at "
                                              + l.control_url + ": no UniqueID in the answer"};
  l.unique_id = uid;
  restored = had;
  return l;
}

} // namespace

net::result<upnp_pinhole_lease> upnp_pinhole(const upnp_pinhole_request& req, bool& restored) {
  restored = false;
  if (!req.internal.ip.is_v6() || req.internal.ip.is_v4_mapped() || req.internal.port == 0)
    return net::error{net::errc::invalid_argument,
                      "a pinhole needs an IPv6 address and a port, not "
                        + req.internal.to_string()};
  net::ip_address seen_as = net::ip_address::any(net::family::v6);
  // A renewal goes to the URL known; a router that restarted may listen on
  // another port (miniupnpd picks one): then discover again.
  if (!req.known.control_url.empty()) {
    auto r = renew_or_add(req.known, req, restored, seen_as);
    if (r || r.error().code != net::errc::io_failed)
      return r;
  }
  auto l = find_service(req, seen_as);
  if (!l)
    return l;
  return renew_or_add(std::move(*l), req, restored, seen_as);
}

net::result<bool> upnp_delete_pinhole(const upnp_pinhole_lease& lease) {
  int rc = UPNP_DeletePinhole(lease.control_url.c_str(), lease.service_type.c_str(),
                              lease.unique_id.c_str());
  if (rc != UPNPCOMMAND_SUCCESS)
    return net::error{rc < 0 ? net::errc::io_failed : net::errc::server_refused,
                      "DeletePinhole " + lease.unique_id + " at " + lease.control_url + ": "
                        + upnp_error_text(rc)};
  return true;
}

} // namespace p2pd::actors::detail
