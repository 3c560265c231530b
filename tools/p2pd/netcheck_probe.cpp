#include "netcheck.hpp"

#include <algorithm>

#include "caf/scoped_actor.hpp"

#include "p2pd/api/blocking.hpp"
#include "p2pd/actors/stun/stun_client.hpp"

namespace p2pd::cli {

namespace {

// One binding request to each server of `fam` from `nic_ip`, all at once.
std::vector<stun_probe> ask_stun_servers(runtime& rt, const net::ip_address& nic_ip,
                                         const std::vector<endpoint>& servers) {
  std::vector<stun_probe> out;
  if (servers.empty())
    return out;
  auto pipe = rt.listen(net::protocol::udp, endpoint{nic_ip, 0});
  if (!pipe) {
    for (auto& s : servers)
      out.push_back({s.to_string(), std::nullopt, "",
                     "cannot open a UDP socket on " + nic_ip.to_string() + ": "
                       + render(pipe.error())});
    return out;
  }
  auto timing = fast_stun_timing(); // an unanswered server costs about a second
  auto client = spawn_stun_client(rt.system(), timing);
  caf::scoped_actor self{rt.system()};
  std::vector<caf::response_handle<caf::blocking_actor, caf::detail::type_list<stun_binding>, true>> pending;
  for (auto& s : servers) {
    stun_query q;
    q.pipe = pipe->handle();
    q.server = s;
    pending.push_back(self->request(client, stun_deadline(timing, net::protocol::udp),
                                    stun_atom::value, q));
  }
  for (size_t i = 0; i < servers.size(); ++i) {
    stun_probe p{servers[i].to_string(), std::nullopt, "", ""};
    pending[i].receive(
      [&](stun_binding& b) {
        p.rtt_ms = std::chrono::duration<double, std::milli>(b.rtt).count();
        p.mapped = b.mapped.to_string();
      },
      [&](caf::error& err) { p.error = render(err); });
    out.push_back(std::move(p));
  }
  self->send_exit(client, caf::exit_reason::user_shutdown);
  pipe->close();
  return out;
}

} // namespace

interface_check check_interface(runtime& rt, const net::interface_table& table,
                                const net::interface_info& nic,
                                const std::vector<net::server_entry>& servers,
                                const net::resolved_servers& resolved, netcheck_stop& stop) {
  interface_check out;
  out.name = nic.name;
  interface_spec spec;
  spec.name = nic.name;
  spec.refresh_interval = {};
  add_servers(spec, servers);
  auto li = load_interface(rt.system(), spec);
  if (!li) {
    out.notes.push_back("the interface did not load: " + render(li.error()));
    return out;
  }
  const auto& s = li->state;
  std::vector<endpoint> stun_eps = resolved.of(net::server_kind::stun);
  for (auto& e : resolved.of(net::server_kind::nat))
    stun_eps.push_back(e);
  for (auto fam : {net::family::v4, net::family::v6}) {
    auto* r = s.route(fam);
    if (!r)
      continue;
    family_check f;
    f.fam = fam;
    f.nic = r->nic() ? r->nic()->to_string() : "none";
    f.external = r->ext() ? r->ext()->to_string() : "";
    f.nat = s.nat(fam);
    std::vector<endpoint> of_fam;
    for (auto& e : stun_eps) // a server on a stun and a nat line is asked once
      if (e.ip.fam() == fam && std::find(of_fam.begin(), of_fam.end(), e) == of_fam.end())
        of_fam.push_back(e);
    if (r->nic())
      f.stun = ask_stun_servers(rt, *r->nic(), of_fam);
    if (!f.stun.empty()) {
      f.udp = false;
      for (auto& p : f.stun)
        f.udp = *f.udp || p.rtt_ms.has_value();
    }
    f.notes = f.nat.notes;
    out.families.push_back(std::move(f));
  }
  out.notes = s.notes;
  check_port_mapping(rt, table, nic, out, stop);
  return out;
}

} // namespace p2pd::cli
