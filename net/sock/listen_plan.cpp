#include "p2pd/net/sock/listen_plan.hpp"

#include <algorithm>
#include <unordered_set>

#include "p2pd/net/addr/ip_class.hpp"

namespace p2pd::net {

namespace {

std::string target_name(const listen_target& t) {
  if (auto* nic = std::get_if<interface_info>(&t))
    return "interface '" + nic->name + "'";
  return "route on '" + std::get<route>(t).interface + "'";
}

// The routes of a target for one family.
std::vector<route> routes_of(const listen_target& t, family f) {
  if (auto* nic = std::get_if<interface_info>(&t))
    return routes_for(*nic, f);
  auto& r = std::get<route>(t);
  if (r.fam != f)
    return {};
  return {r};
}

// The addresses to bind for one target and family: the first NIC address and,
// for IPv6, the first link-local one.
std::vector<ip_address> bind_ips(const listen_target& t, family f) {
  std::vector<ip_address> out;
  for (auto& r : routes_of(t, f)) {
    if (auto ip = r.nic(); ip && out.empty())
      out.push_back(*ip);
    if (f == family::v6)
      if (auto ll = r.link_local()) {
        out.push_back(*ll);
        break;
      }
  }
  if (f == family::v6 && out.empty())
    if (auto* nic = std::get_if<interface_info>(&t))
      for (auto& a : nic->addresses(family::v6))
        if (a.usable() && classify(a.ip) == ip_scope::link_local) {
          out.push_back(a.ip.with_scope(nic->index)); // an interface with only a link-local
          break;
        }
  return out;
}

} // namespace

result<std::vector<listen_addr>> plan_listen_all(const std::vector<listen_target>& targets,
                                                 const std::vector<port_range>& ports,
                                                 const std::vector<protocol>& protos,
                                                 family_choice af, bool error_on_af) {
  if (targets.empty() || ports.empty() || protos.empty())
    return error{errc::invalid_argument, "listen_all needs targets, ports and protocols"};
  for (auto& p : ports) {
    if (p.first == 0 || p.last == 0)
      return error{errc::invalid_argument,
                   "port 0 is not a listen port: ports are 1..65535 (a free port: listen_specific)"};
    if (p.first > p.last)
      return error{errc::invalid_argument, "port range [" + std::to_string(p.first) + ", "
                                             + std::to_string(p.last)
                                             + "] starts after it stops"};
  }
  std::vector<family> fams;
  if (af != family_choice::v6)
    fams.push_back(family::v4);
  if (af != family_choice::v4)
    fams.push_back(family::v6);
  std::vector<listen_addr> out;
  for (auto& t : targets) {
    for (auto f : fams) {
      auto ips = bind_ips(t, f);
      if (ips.empty()) {
        if (error_on_af && af != family_choice::any)
          return error{errc::family_unsupported,
                       target_name(t) + " has no " + to_string(f) + " address"};
        continue;
      }
      for (auto& p : ports)
        for (uint32_t port = p.first; port <= p.last; ++port)
          for (auto proto : protos)
            for (auto& ip : ips)
              out.push_back(listen_addr{proto, endpoint{ip, static_cast<uint16_t>(port)}});
    }
  }
  if (out.empty()) {
    std::string names;
    for (auto& t : targets)
      names += (names.empty() ? "" : ", ") + target_name(t);
    return error{errc::family_unsupported,
                 names + (targets.size() == 1 ? " has" : " have")
                   + " no address of the families asked for"};
  }
  return out;
}

error check_listen_specific(const std::vector<listen_addr>& targets) {
  if (targets.empty())
    return error{errc::invalid_argument, "listen_specific needs at least one target"};
  std::unordered_set<endpoint> seen[2]; // per protocol
  for (auto& t : targets) {
    if (t.local.ip.is_v6() && classify(t.local.ip) == ip_scope::link_local
        && t.local.ip.scope_id() == 0)
      return error{errc::invalid_argument, "link-local address " + t.local.to_string()
                                             + " needs its interface (a scope id)"};
    if (t.local.port != 0 && !seen[static_cast<int>(t.proto)].insert(t.local).second)
      return error{errc::invalid_argument, std::string{"listener "} + to_string(t.proto) + " "
                                             + t.local.to_string() + " is asked for twice"};
  }
  return {};
}

} // namespace p2pd::net
