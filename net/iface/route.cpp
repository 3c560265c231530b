#include "p2pd/net/iface/route.hpp"

#include <algorithm>

#include "p2pd/net/addr/ip_class.hpp"

namespace p2pd::net {

namespace {

std::string join(const std::vector<ip_range>& xs) {
  std::string out;
  for (const auto& x : xs) {
    if (!out.empty())
      out += ", ";
    out += x.to_string();
  }
  return out;
}

} // namespace

std::optional<ip_address> route::nic() const {
  if (nic_ips.empty())
    return std::nullopt;
  return nic_ips.front()[0];
}

std::optional<ip_address> route::ext() const {
  if (ext_ips.empty())
    return std::nullopt;
  return ext_ips.front()[0];
}

std::optional<ip_address> route::link_local() const {
  if (link_locals.empty())
    return std::nullopt;
  return link_locals.front();
}

bool route::has_nic_ip(const ip_address& ip) const {
  return std::any_of(nic_ips.begin(), nic_ips.end(),
                     [&](const ip_range& r) { return r.contains(ip); });
}

bool route::has_link_local(const ip_address& ip) const {
  if (ip.scope_id() != 0 && ip.scope_id() != if_index)
    return false;
  auto want = ip.with_scope(if_index);
  return std::find(link_locals.begin(), link_locals.end(), want) != link_locals.end();
}

error check_external(family fam, const ip_address& ip) {
  auto bad = [&](const std::string& why) {
    return error{errc::invalid_argument,
                 ip.to_string() + " cannot be the external address of an " + net::to_string(fam)
                   + " route: " + why};
  };
  if (ip.fam() != fam)
    return bad("it is an " + std::string{net::to_string(ip.fam())} + " address");
  switch (classify(ip)) {
    case ip_scope::unspecified: return bad("it is the any-address, no host's own");
    case ip_scope::multicast: return bad("it is a multicast address");
    case ip_scope::broadcast: return bad("it is the broadcast address");
    default: break;
  }
  // classify() looks inside ::ffff:a.b.c.d, so the checks above passed it as
  // the IPv4 address it holds; as an IPv6 source it never appears on a wire.
  if (ip.is_v4_mapped())
    return bad("it is the IPv4 address " + ip.unmapped().to_string()
               + " in IPv6 form, which no IPv6 packet comes from");
  return {};
}

error route::add_ext(const ip_address& ip) {
  if (auto err = check_external(fam, ip))
    return err;
  auto one = ip_range::single(ip);
  if (std::find(ext_ips.begin(), ext_ips.end(), one) == ext_ips.end())
    ext_ips.push_back(one);
  return {};
}

std::string route::to_string() const {
  std::string ll;
  for (const auto& x : link_locals)
    ll += (ll.empty() ? "" : ", ") + x.to_string();
  return interface + ' ' + net::to_string(fam) + " nic [" + join(nic_ips) + "] ext ["
         + join(ext_ips) + "] link-local [" + ll + ']';
}

std::vector<route> routes_for(const interface_info& nic, family fam) {
  std::vector<route> out;
  std::vector<ip_address> link_locals;
  std::optional<size_t> private_route; // index in out
  auto new_route = [&] {
    route r;
    r.interface = nic.name;
    r.if_index = nic.index;
    r.fam = fam;
    out.push_back(std::move(r));
    return out.size() - 1;
  };
  for (const auto& a : nic.addrs) {
    if (a.ip.fam() != fam || !a.usable())
      continue;
    auto scope = classify(a.ip);
    switch (scope) {
      case ip_scope::unspecified:
      case ip_scope::multicast:
      case ip_scope::broadcast:
        continue;
      case ip_scope::link_local:
        if (fam == family::v6) {
          link_locals.push_back(a.ip.with_scope(nic.index));
          continue;
        }
        break;
      default:
        break;
    }
    if (scope == ip_scope::global) {
      out[new_route()].nic_ips.push_back(ip_range::single(a.ip));
    } else {
      if (!private_route)
        private_route = new_route();
      out[*private_route].nic_ips.push_back(ip_range::single(a.ip));
    }
  }
  // IPv6 with link-local addresses only (two hosts cabled together, a LAN
  // without a router) is still a route: peers on the link reach it.
  if (out.empty() && !link_locals.empty())
    new_route();
  for (auto& r : out)
    r.link_locals = link_locals;
  return out;
}

} // namespace p2pd::net

size_t std::hash<p2pd::net::route>::operator()(const p2pd::net::route& r) const noexcept {
  // Boost's hash_combine: order matters, as it does for equality.
  size_t h = std::hash<std::string>{}(r.interface);
  auto mix = [&h](size_t v) { h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2); };
  mix(r.if_index);
  mix(static_cast<size_t>(r.fam));
  for (const auto& x : r.nic_ips)
    mix(std::hash<p2pd::net::ip_range>{}(x));
  for (const auto& x : r.ext_ips)
    mix(std::hash<p2pd::net::ip_range>{}(x));
  for (const auto& x : r.link_locals)
    mix(std::hash<p2pd::net::ip_address>{}(x));
  return h;
}
