#include "p2pd/node/address/local_address.hpp"

#include "p2pd/net/addr/ip_class.hpp"

namespace p2pd::node {

namespace {

uint8_t prefix_of(const net::interface_table* table, const net::ip_address& ip) {
  if (table == nullptr)
    return 0;
  for (const auto& nic : table->interfaces)
    for (const auto& a : nic.addrs)
      if (a.ip.fam() == ip.fam() && a.ip.bytes() == ip.bytes())
        return a.prefix;
  return 0;
}

std::optional<net::ip_address> first_nic(const net::route& r) {
  for (const auto& range : r.nic_ips) {
    auto ip = range.network();
    if (net::classify(ip) != net::ip_scope::link_local)
      return ip.with_scope(0);
  }
  return std::nullopt;
}

} // namespace

uint16_t default_node_port(const net::node_id& id) {
  uint32_t x = 0;
  for (size_t i = 0; i < 4; ++i)
    x = (x << 8) | id.bytes[i];
  return static_cast<uint16_t>(10000 + x % 50000);
}

peer_address make_local_address(const local_address_input& in) {
  peer_address out;
  out.keys = in.keys;
  out.issued_ms = in.issued_ms;
  out.channels = in.channels;
  size_t per_family[2] = {0, 0};
  for (size_t i = 0; i < in.interfaces.size() && i < max_interfaces; ++i) {
    const auto& snap = in.interfaces[i];
    for (auto fam : {net::family::v4, net::family::v6}) {
      const net::route* r = snap.route(fam);
      auto& count = per_family[fam == net::family::v4 ? 0 : 1];
      if (r == nullptr || count == max_routes_per_family)
        continue;
      peer_route p;
      p.interface = static_cast<uint8_t>(i);
      p.fam = fam;
      p.nic = first_nic(*r);
      if (p.nic)
        p.prefix = prefix_of(in.table, *p.nic);
      if (fam == net::family::v6)
        if (auto ll = r->link_local())
          p.link_local = ll->with_scope(0);
      if (auto ext = r->ext())
        p.external = ext->with_scope(0);
      p.port = in.port;
      auto nat = snap.nat(fam);
      p.nat = nat.nat;
      p.delta = {nat.delta, nat.delta_value};
      if (!p.nic && !p.link_local)
        continue;
      for (const auto& m : in.mapped)
        if (m.interface == i && m.external.fam() == fam && (m.tcp != 0 || m.udp != 0)) {
          p.mapped = m.external.with_scope(0);
          p.mapped_tcp = m.tcp;
          p.mapped_udp = m.udp;
          break;
        }
      out.routes.push_back(std::move(p));
      ++count;
    }
  }
  return out;
}

std::vector<uint32_t> link_scopes(const std::vector<interface_snapshot>& interfaces) {
  std::vector<uint32_t> out;
  for (const auto& snap : interfaces) {
    const net::route* r = snap.route(net::family::v6);
    auto ll = r != nullptr ? r->link_local() : std::nullopt;
    out.push_back(ll ? (ll->scope_id() != 0 ? ll->scope_id() : snap.index) : 0);
  }
  return out;
}

} // namespace p2pd::node
