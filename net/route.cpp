#include "p2pd/net/route.hpp"

#include <algorithm>

#include "p2pd/net/ip_class.hpp"

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
  for (auto& r : out)
    r.link_locals = link_locals;
  return out;
}

} // namespace p2pd::net
