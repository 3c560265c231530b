#include "netcheck.hpp"

#include <memory>
#include <optional>

#include "caf/event_based_actor.hpp"
#include "caf/scoped_actor.hpp"
#include "caf/send.hpp"

#include "p2pd/actors/portmap/port_mapper.hpp"

#include "netcheck_stop.hpp"
#include "node_options.hpp"

namespace p2pd::cli {

namespace {

using probe_atom = caf::atom_constant<caf::atom("p2pdprobe")>;

// Asks each mapper for a 30 s UDP mapping of `local`, all at once, and tells
// `to` each answer: (probe_atom, index, available, detail). Ends once all
// answered (each within `deadline`).
caf::behavior ask_mappers(caf::event_based_actor* self, std::vector<port_mapper_actor> mappers,
                          caf::actor to, endpoint local, caf::timespan deadline) {
  auto left = std::make_shared<size_t>(mappers.size());
  auto done = [self, left] {
    if (--*left == 0)
      self->quit();
  };
  for (size_t i = 0; i < mappers.size(); ++i)
    self->request(mappers[i], deadline, portmap_atom::value, net::protocol::udp, local, uint32_t{30})
      .then(
        [=](port_mapping& pm) {
          caf::anon_send(to, probe_atom::value, i, true,
                         "mapped " + pm.internal.to_string() + " to " + pm.external.to_string());
          done();
        },
        [=](caf::error& err) {
          caf::anon_send(to, probe_atom::value, i, false, render(err));
          done();
        });
  if (mappers.empty())
    self->quit();
  return {[](caf::ok_atom) {}};
}

} // namespace

void check_port_mapping(runtime& rt, const net::interface_table& table,
                        const net::interface_info& nic, interface_check& out,
                        netcheck_stop& stop) {
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
  // The answers come to `self` as messages, so that a stop signal can come
  // between them: from here until every mapper is closed, SIGINT and SIGTERM
  // end the check once the mappers are closed (which deletes their
  // mappings) instead of killing us.
  stop.guard(caf::actor{self.ptr()});
  auto deadline = portmap_deadline(portmap_timing{}) + std::chrono::seconds(1);
  std::vector<port_mapper_actor> asked;
  for (auto& [m, mapper] : mappers)
    asked.push_back(mapper);
  auto probe = rt.system().spawn(ask_mappers, std::move(asked), caf::actor{self.ptr()},
                                 sock->local(), deadline);
  std::vector<std::optional<portmap_probe>> got(mappers.size());
  size_t answers = 0;
  bool gave_up = false;
  // A stop signal still waits for the requests in progress (each ends
  // within its mapper's own deadline): a mapper closed while its UPnP job
  // runs in miniupnpc would never learn of the mapping the job then adds,
  // nor delete it.
  while (answers < mappers.size() && !gave_up)
    self->receive(
      [&](probe_atom, size_t i, bool available, std::string& detail) {
        if (i < got.size() && !got[i]) {
          got[i] = portmap_probe{to_string(mappers[i].first), available, std::move(detail)};
          ++answers;
        }
      },
      [&](stop_signal_atom, int) {
        std::cerr << "p2pd: netcheck: stopping once the port mapping requests in progress "
                     "ended, to delete what they got (a second signal ends it at once)\n";
      },
      // The probe answers every mapper within `deadline`; this only
      // bounds a probe that is gone.
      caf::after(deadline + std::chrono::seconds(1)) >> [&] { gave_up = true; });
  for (size_t i = 0; i < mappers.size(); ++i)
    out.portmap.push_back(got[i] ? std::move(*got[i])
                                 : portmap_probe{to_string(mappers[i].first), false,
                                                 "no answer"});
  caf::anon_send_exit(probe, caf::exit_reason::user_shutdown);
  for (auto& [m, mapper] : mappers) // deletes what each got, then ends
    self->request(mapper, deadline, caf::close_atom::value)
      .receive([](caf::ok_atom) {}, [](caf::error&) {});
  stop.unguard();
  sock->close();
}

} // namespace p2pd::cli
