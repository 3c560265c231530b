// Port mapping of a node (node_spec::port_mapping): one port_mapper per IPv4
// route with a gateway asks for the node port, TCP and UDP, and one per IPv6
// route with an address reachable from outside asks for pinholes of it (the
// router's stateful firewall then lets peers in to that very address: the
// node's address needs nothing new). Nothing here holds up the start: the
// node is ready when it listens, and a mapping
// joins the (re-signed) address when the gateway grants it. The mappers
// renew; their events move the address; a close deletes the mappings, and
// any other end of the node ends the mappers, which delete them too.
#include "p2pd/node/node_state.hpp"

#include <algorithm>

#include "caf/actor_cast.hpp"
#include "caf/send.hpp"

#include "p2pd/actors/common/timeouts.hpp"
#include "p2pd/messages/errors.hpp"
#include "p2pd/net/addr/ip_class.hpp"
#include "p2pd/net/iface/route.hpp"

namespace p2pd::node {

namespace {

const char* proto_name(net::protocol p) {
  return p == net::protocol::tcp ? "TCP" : "UDP";
}

// "TCP 10.0.1.2:41234 -> 11.100.0.11:41234 by PCP, 3600 s"; a pinhole
// says so ("by PCP pinhole", "by UPnP pinhole").
std::string describe(const port_mapping& m, bool pinhole) {
  std::string how = to_string(m.method);
  if (pinhole && m.method != portmap_method::upnp_pinhole)
    how += " pinhole";
  return std::string{proto_name(m.proto)} + " " + m.internal.to_string() + " -> "
         + m.external.to_string() + " by " + how + ", " + std::to_string(m.lifetime_s) + " s";
}

// The gateway of interface `i`'s route of `fam`: the spec's (if of that
// family), else the default route's next hop when the default route leaves
// through that interface (IPv6: often link-local).
std::optional<net::ip_address> gateway_of(const node_state& st, size_t i,
                                          const net::interface_table* table, net::family fam) {
  const auto& given = st.spec.port_mapping.gateway;
  if (given && given->fam() == fam)
    return given; // asked from every route of its family
  if (table == nullptr || !table->default_for(fam) || !table->default_for(fam)->gateway)
    return std::nullopt;
  const auto& d = *table->default_for(fam);
  if (d.if_index != st.snaps[i].index && d.interface != st.snaps[i].name)
    return std::nullopt;
  return d.gateway;
}

// Mappers tell subscribers by a strong handle, which would keep a node
// nobody holds alive: a forwarder holds the node weakly and tags each event
// with its slot.
caf::actor spawn_forwarder(node_actor_ptr self, uint64_t slot) {
  return self->home_system().spawn(
    [](caf::event_based_actor* fwd, caf::weak_actor_ptr node, uint64_t slot) -> caf::behavior {
      return {[=](portmap_event& ev) {
        if (auto n = caf::actor_cast<caf::actor>(node))
          fwd->send(n, portmap_note_atom::value, slot, std::move(ev));
      }};
    },
    caf::weak_actor_ptr{self->ctrl()}, slot);
}

std::optional<port_mapping>& held(portmap_slot& s, net::protocol p) {
  return p == net::protocol::tcp ? s.tcp : s.udp;
}

void ask(node_actor_ptr self, size_t slot, net::protocol proto) {
  auto& st = self->state;
  auto& s = st.portmaps[slot];
  auto deadline = portmap_deadline(st.spec.port_mapping.timing);
  auto life = st.spec.port_mapping.lifetime_s;
  auto req = s.pinhole ? self->request(s.mapper, deadline, pinhole_atom::value, proto,
                                       endpoint{s.local, st.port}, std::min(life, 86400u))
                       : self->request(s.mapper, deadline, portmap_atom::value, proto,
                                       endpoint{s.local, st.port}, life);
  std::move(req).then(
      [=](port_mapping& m) {
        auto& st = self->state;
        if (st.life.closing())
          return;
        st.progress("port mapping: " + describe(m, st.portmaps[slot].pinhole));
        auto& s = st.portmaps[slot];
        held(s, proto) = m;
        if (!s.pinhole)
          st.rebuild_address();
      },
      [=](caf::error& err) {
        auto& st = self->state;
        if (st.life.closing())
          return;
        // A router that offers nothing: the node goes on without.
        const auto& s = st.portmaps[slot];
        st.progress("port mapping: no " + std::string{proto_name(proto)}
                    + (s.pinhole ? " pinhole for " + s.local.to_string() : " mapping")
                    + " at " + s.gateway.to_string() + ": " + render(err));
      });
}

// An IPv6 address a peer outside could reach, given a pinhole: not
// link-local, loopback, unique-local or multicast. Documentation addresses
// (2001:db8::/32) count: the lab's "Internet" is made of them.
bool pinhole_worthy(const net::ip_address& ip) {
  auto c = net::classify(ip);
  return ip.is_v6() && !ip.is_v4_mapped()
         && (c == net::ip_scope::global || c == net::ip_scope::documentation);
}

// The first address of interface `i`'s route of `fam` to ask for: IPv4 its
// NIC address, IPv6 one worth a pinhole.
std::optional<net::ip_address> local_of(const node_state& st, size_t i, net::family fam) {
  const auto* r = st.snaps[i].route(fam);
  if (r == nullptr)
    return std::nullopt;
  if (fam == net::family::v4)
    return r->nic();
  for (const auto& a : r->nic_ips)
    if (pinhole_worthy(a[0]))
      return a[0];
  return std::nullopt;
}

// A mapper for interface `i`'s route of `fam` and its two requests.
void start_slot(node_actor_ptr self, size_t i, net::family fam,
                const net::interface_table* tab) {
  auto& st = self->state;
  const auto& pm = st.spec.port_mapping;
  bool pinhole = fam == net::family::v6;
  auto local = local_of(st, i, fam);
  if (!local)
    return;
  auto gw = gateway_of(st, i, tab, fam);
  if (!gw) {
    st.progress("port mapping: interface " + st.snaps[i].name + " has no "
                + (pinhole ? "IPv6" : "IPv4") + " gateway");
    return;
  }
  port_mapper_spec ms;
  ms.stack = st.spec.stack;
  ms.gateway = *gw;
  ms.local_ip = local->with_scope(0);
  // Pinholes are PCP's and UPnP's (the caller checked one is among the
  // methods); NAT-PMP is IPv4 only.
  ms.methods = pm.methods;
  if (pinhole)
    ms.methods.erase(std::remove(ms.methods.begin(), ms.methods.end(), portmap_method::natpmp),
                     ms.methods.end());
  ms.timing = pm.timing;
  auto mapper = spawn_port_mapper(self->home_system(), ms);
  if (!mapper) {
    st.progress("port mapping: no mapper for gateway " + gw->to_string() + ": "
                + render(mapper.error()));
    return;
  }
  // However the node ends, the mapper ends with it and deletes what it
  // holds (its state's destructor); an orderly close asks it first.
  auto hdl = *mapper;
  self->attach_functor(
    [hdl](const caf::error&) { caf::anon_send_exit(hdl, caf::exit_reason::user_shutdown); });
  portmap_slot s;
  s.interface = static_cast<uint8_t>(i);
  s.pinhole = pinhole;
  s.gateway = *gw;
  s.local = ms.local_ip;
  s.mapper = hdl;
  st.portmaps.push_back(std::move(s));
  auto slot = st.portmaps.size() - 1;
  caf::anon_send(hdl, caf::subscribe_atom::value, spawn_forwarder(self, slot));
  st.progress("port mapping: asking gateway " + gw->to_string() + " for "
              + (pinhole ? "pinholes of port " : "port ") + std::to_string(st.port) + " of "
              + ms.local_ip.to_string());
  ask(self, slot, net::protocol::tcp);
  ask(self, slot, net::protocol::udp);
}

} // namespace

void start_port_mapping(node_actor_ptr self) {
  auto& st = self->state;
  const auto& pm = st.spec.port_mapping;
  if (!pm.enabled || !st.portmaps.empty() || st.port == 0 || st.life.closing())
    return;
  auto table = st.spec.stack->interfaces();
  const net::interface_table* tab = table ? &*table : nullptr;
  auto has = [&](portmap_method m) {
    return std::count(pm.methods.begin(), pm.methods.end(), m) != 0;
  };
  bool pinholes = pm.pinholes && (has(portmap_method::pcp) || has(portmap_method::upnp));
  for (size_t i = 0; i < st.snaps.size() && i < max_interfaces; ++i) {
    start_slot(self, i, net::family::v4, tab);
    if (pinholes)
      start_slot(self, i, net::family::v6, tab);
  }
}

void on_portmap_event(node_actor_ptr self, uint64_t slot, portmap_event& ev) {
  auto& st = self->state;
  if (slot >= st.portmaps.size() || st.life.closing())
    return;
  auto& s = st.portmaps[slot];
  auto& h = held(s, ev.mapping.proto);
  std::string what = "port mapping " + std::string{to_string(ev.change)} + ": "
                     + describe(ev.mapping, s.pinhole);
  if (!ev.reason.empty())
    what += " (" + ev.reason + ")";
  st.progress(what);
  auto before = h;
  if (ev.change == portmap_change::lost)
    h.reset(); // the router may not forward it any more: not in the address
  else
    h = ev.mapping;
  bool changed = before.has_value() != h.has_value()
                 || (before && (before->external != h->external));
  // A pinhole is not in the address: the peer dials the address itself.
  if (changed && !s.pinhole)
    st.rebuild_address();
}

void close_port_mapping(node_actor_ptr self, std::function<void()> done) {
  auto& st = self->state;
  auto left = std::make_shared<size_t>(1);
  auto one = [left, done] {
    if (--*left == 0)
      done();
  };
  for (auto& s : st.portmaps) {
    if (!s.mapper)
      continue;
    ++*left;
    auto hdl = s.mapper;
    self->request(hdl, timeouts::node_close, caf::close_atom::value)
      .then([one](caf::ok_atom) { one(); },
            [one, hdl](caf::error&) {
              caf::anon_send_exit(hdl, caf::exit_reason::kill);
              one();
            });
  }
  st.portmaps.clear();
  one();
}

std::vector<route_mapping> mapped_routes(const node_state& st) {
  std::vector<route_mapping> out;
  for (const auto& s : st.portmaps) {
    if (s.pinhole || (!s.tcp && !s.udp))
      continue;
    route_mapping m;
    m.interface = s.interface;
    // Both come from one gateway: one external address. One the address
    // could not carry (a gateway that does not know its own) is left out.
    m.external = s.tcp ? s.tcp->external.ip : s.udp->external.ip;
    if (net::check_external(net::family::v4, m.external))
      continue;
    if (s.tcp)
      m.tcp = s.tcp->external.port;
    if (s.udp && s.udp->external.ip == m.external)
      m.udp = s.udp->external.port;
    out.push_back(m);
  }
  return out;
}

} // namespace p2pd::node
