#include "p2pd/actors/interface/detail/interface_tasks.hpp"

#include "p2pd/actors/common/timeouts.hpp"
#include "p2pd/actors/stun/external_address.hpp"
#include "p2pd/actors/stun/nat_probe.hpp"
#include "p2pd/messages/errors.hpp"

namespace p2pd::actors {

namespace {

std::vector<endpoint> of_family(const std::vector<endpoint>& xs, net::family fam) {
  std::vector<endpoint> out;
  for (const auto& x : xs)
    if (x.fam() == fam)
      out.push_back(x);
  return out;
}

} // namespace

interface_snapshot read_nic(const net::interface_info& nic) {
  interface_snapshot out;
  out.name = nic.name;
  out.index = nic.index;
  out.mac = nic.mac_text();
  out.mtu = nic.mtu;
  for (auto fam : {net::family::v4, net::family::v6}) {
    auto rs = net::routes_for(nic, fam);
    if (rs.empty())
      continue;
    out.routes.insert(out.routes.end(), rs.begin(), rs.end());
    nat_summary n;
    n.fam = fam;
    out.nats.push_back(n);
  }
  return out;
}

external_spec external_for(const net::route& r, const interface_spec& spec) {
  external_spec ext;
  ext.servers = of_family(spec.stun_servers, r.fam);
  ext.min_agree = spec.min_agree;
  ext.timing = spec.timing;
  ext.stack = spec.stack;
  return ext;
}

std::optional<nat_probe_args> nat_probe_for(const net::ip_address& local,
                                            const interface_spec& spec, nat_summary& out) {
  out.fam = local.fam();
  auto servers = of_family(spec.nat_servers, out.fam);
  if (servers.empty()) {
    out.notes.push_back(std::string{"no "} + net::to_string(out.fam)
                        + " NAT servers configured");
    return std::nullopt;
  }
  if (servers.size() > timeouts::interface_nat_servers)
    servers.resize(timeouts::interface_nat_servers);
  nat_probe_args args;
  args.servers = std::move(servers);
  args.spec.local = endpoint{local, 0};
  args.spec.timing = spec.timing;
  args.spec.delta_samples = spec.delta_samples;
  args.spec.consecutive_samples = spec.consecutive_samples;
  args.spec.stack = spec.stack;
  return args;
}

void summarize_probe(const caf::expected<nat_report>& rep, nat_summary& out) {
  if (!rep) {
    out.notes.push_back("NAT probe: " + render(rep.error()));
    return;
  }
  out.server = rep->server;
  out.nat = rep->nat;
  out.delta = rep->delta.type;
  out.delta_value = rep->delta.value;
  if (rep->mapped_ports) {
    out.port_first = rep->mapped_ports->first;
    out.port_last = rep->mapped_ports->last;
  }
  for (auto& n : rep->notes)
    out.notes.push_back("probe via " + rep->server.to_string() + ": " + n);
}

caf::expected<net::interface_info> find_nic(const net_stack& stack, const std::string& name) {
  auto table = stack.interfaces();
  if (!table)
    return make_error(table.error());
  auto nic = net::choose_interface(*table, name);
  if (!nic)
    return make_error(nic.error());
  return std::move(*nic);
}

} // namespace p2pd::actors
