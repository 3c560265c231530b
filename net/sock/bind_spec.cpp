#include "p2pd/net/sock/bind_spec.hpp"

#include <algorithm>

#include "p2pd/net/addr/ip_class.hpp"

namespace p2pd::net {

namespace {

// What a bind can pick from: a route's or an interface's addresses of the
// spec's family.
struct bind_target {
  std::string name;
  uint32_t index = 0;
  std::vector<ip_range> nics;
  std::vector<ip_address> link_locals; // scope id = index
};

bool is_link_local_v6(const ip_address& ip) {
  return ip.is_v6() && classify(ip) == ip_scope::link_local;
}

std::string quoted(const std::string& name) {
  return "interface '" + name + "'";
}

// An explicit link-local address needs a scope: its own, or the target's.
result<ip_address> scoped(const ip_address& ip, const bind_target* t) {
  if (!is_link_local_v6(ip))
    return ip;
  if (t == nullptr) {
    if (ip.scope_id() == 0)
      return error{errc::invalid_argument, "link-local address " + ip.to_string()
                                             + " needs a scope id: give one or an interface"};
    return ip;
  }
  if (ip.scope_id() != 0 && ip.scope_id() != t->index)
    return error{errc::invalid_argument,
                 "link-local address " + ip.to_string() + " is scoped to another interface than "
                   + quoted(t->name) + " (index " + std::to_string(t->index) + ")"};
  return ip.with_scope(t->index);
}

result<ip_address> pick_nic(const bind_spec& spec, const bind_target& t) {
  if (t.nics.empty())
    return error{errc::family_unsupported,
                 quoted(t.name) + " has no " + to_string(spec.fam) + " address"};
  if (!spec.ip)
    return t.nics.front()[0];
  bool ours = std::any_of(t.nics.begin(), t.nics.end(),
                          [&](const ip_range& r) { return r.contains(*spec.ip); });
  if (!ours)
    return error{errc::invalid_argument, spec.ip->to_string() + " is not an "
                                           + to_string(spec.fam) + " address of "
                                           + quoted(t.name)};
  return *spec.ip;
}

result<ip_address> pick_link_local(const bind_spec& spec, const bind_target& t) {
  if (t.link_locals.empty())
    return error{errc::family_unsupported, quoted(t.name) + " has no IPv6 link-local address"};
  if (!spec.ip)
    return t.link_locals.front();
  auto want = scoped(*spec.ip, &t);
  if (!want)
    return want.error();
  if (std::find(t.link_locals.begin(), t.link_locals.end(), *want) == t.link_locals.end())
    return error{errc::invalid_argument,
                 spec.ip->to_string() + " is not a link-local address of " + quoted(t.name)};
  return *want;
}

result<endpoint> resolve(const bind_spec& spec, const bind_target* t) {
  if (spec.ip && spec.ip->fam() != spec.fam)
    return error{errc::invalid_argument, "bind address " + spec.ip->to_string() + " is not "
                                           + to_string(spec.fam)};
  result<ip_address> ip = ip_address{};
  switch (spec.kind) {
    case bind_spec::any:
      ip = ip_address::any(spec.fam);
      break;
    case bind_spec::loopback:
      ip = ip_address::loopback(spec.fam);
      break;
    case bind_spec::explicit_ip:
      if (!spec.ip)
        return error{errc::invalid_argument, "an explicit bind needs an IP address"};
      ip = scoped(*spec.ip, t);
      break;
    case bind_spec::nic:
    case bind_spec::link_local:
      if (t == nullptr)
        return error{errc::invalid_argument, std::string{"a "} + to_string(spec.kind)
                                               + " bind needs a route or an interface"};
      if (spec.kind == bind_spec::link_local && spec.fam != family::v6)
        return error{errc::invalid_argument, "link-local binds are IPv6 only"};
      ip = spec.kind == bind_spec::nic ? pick_nic(spec, *t) : pick_link_local(spec, *t);
      break;
  }
  if (!ip)
    return ip.error();
  return endpoint{*ip, spec.port};
}

} // namespace

result<bind_spec> bind_spec::parse(family fam, std::string_view text, uint16_t port) {
  bind_spec spec;
  spec.fam = fam;
  spec.port = port;
  if (text.empty() || text == "*" || (fam == family::v6 && text == "::/0")) {
    spec.kind = any;
    return spec;
  }
  if (text == "localhost") {
    spec.kind = loopback;
    return spec;
  }
  auto ip = ip_address::parse(text);
  if (!ip)
    return error{errc::invalid_argument, "cannot bind to '" + std::string{text} + "': "
                                           + ip.error().what};
  if (ip->fam() != fam)
    return error{errc::invalid_argument, "cannot bind to '" + std::string{text} + "': not "
                                           + to_string(fam)};
  spec.kind = ip->is_any() ? any : explicit_ip;
  if (spec.kind == explicit_ip)
    spec.ip = *ip;
  return spec;
}

const char* to_string(bind_spec::kind_t k) {
  switch (k) {
    case bind_spec::any: return "any-address";
    case bind_spec::loopback: return "loopback";
    case bind_spec::nic: return "NIC";
    case bind_spec::link_local: return "link-local";
    case bind_spec::explicit_ip: return "explicit";
  }
  return "unknown";
}

result<endpoint> resolve_bind(const bind_spec& spec) {
  return resolve(spec, nullptr);
}

result<endpoint> resolve_bind(const bind_spec& spec, const route& r) {
  bool needs_route = spec.kind == bind_spec::nic || spec.kind == bind_spec::link_local;
  if (needs_route && r.fam != spec.fam)
    return error{errc::invalid_argument, std::string{"the bind asks for "} + to_string(spec.fam)
                                           + " but the route of " + quoted(r.interface)
                                           + " is " + to_string(r.fam)};
  bind_target t{r.interface, r.if_index, r.nic_ips, r.link_locals};
  return resolve(spec, &t);
}

result<endpoint> resolve_bind(const bind_spec& spec, const interface_info& nic) {
  bind_target t{nic.name, nic.index, {}, {}};
  for (const auto& r : routes_for(nic, spec.fam))
    t.nics.insert(t.nics.end(), r.nic_ips.begin(), r.nic_ips.end());
  for (const auto& a : nic.addrs)
    if (a.usable() && is_link_local_v6(a.ip))
      t.link_locals.push_back(a.ip.with_scope(nic.index));
  return resolve(spec, &t);
}

} // namespace p2pd::net
