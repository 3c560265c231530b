#include "netcheck.hpp"

#include "caf/scoped_actor.hpp"

#include "p2pd/actors/portmap/port_mapper.hpp"

namespace p2pd::cli {

void check_port_mapping(runtime& rt, const net::interface_table& table,
                        const net::interface_info& nic, interface_check& out) {
  const auto& d = table.default_for(net::family::v4);
  if (!d || !d->gateway || (d->if_index != nic.index && d->interface != nic.name)) {
    out.portmap_note = "none found: no IPv4 default gateway via " + nic.name;
    return;
  }
  std::optional<net::ip_address> local;
  for (auto& a : nic.addresses(net::family::v4))
    if (a.usable()) {
      local = a.ip;
      break;
    }
  if (!local) {
    out.portmap_note = "none found: " + nic.name + " has no usable IPv4 address";
    return;
  }
  out.gateway = d->gateway->to_string();
  // Each method alone, all at once: a short UDP mapping of a port we hold
  // (a socket bound for the time of the check), deleted when its mapper ends.
  auto sock = rt.listen(net::protocol::udp, endpoint{*local, 0});
  if (!sock) {
    out.portmap_note = "not checked: cannot open a UDP socket on " + local->to_string() + ": "
                       + render(sock.error());
    return;
  }
  caf::scoped_actor self{rt.system()};
  std::vector<std::pair<portmap_method, port_mapper_actor>> mappers;
  for (auto m : {portmap_method::pcp, portmap_method::natpmp, portmap_method::upnp}) {
    port_mapper_spec spec;
    spec.gateway = *d->gateway;
    spec.local_ip = *local;
    spec.methods = {m};
    auto mapper = spawn_port_mapper(rt.system(), spec);
    if (!mapper) {
      out.portmap.push_back({to_string(m), false, render(mapper.error())});
      continue;
    }
    mappers.emplace_back(m, *mapper);
  }
  auto deadline = portmap_deadline(portmap_timing{}) + std::chrono::seconds(1);
  std::vector<caf::response_handle<caf::blocking_actor, caf::detail::type_list<port_mapping>, true>> pending;
  for (auto& [m, mapper] : mappers)
    pending.push_back(self->request(mapper, deadline, portmap_atom::value, net::protocol::udp,
                                    sock->local(), uint32_t{30}));
  for (size_t i = 0; i < mappers.size(); ++i) {
    portmap_probe p{to_string(mappers[i].first), false, ""};
    pending[i].receive(
      [&](port_mapping& pm) {
        p.available = true;
        p.detail = "mapped " + pm.internal.to_string() + " to " + pm.external.to_string();
      },
      [&](caf::error& err) { p.detail = render(err); });
    out.portmap.push_back(std::move(p));
  }
  for (auto& [m, mapper] : mappers) // deletes what each got, then ends
    self->request(mapper, deadline, caf::close_atom::value)
      .receive([](caf::ok_atom) {}, [](caf::error&) {});
  sock->close();
}

} // namespace p2pd::cli
