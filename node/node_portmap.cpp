// Port mapping of a node (node_spec::port_mapping): one port_mapper per IPv4
// route with a gateway asks for the node port, TCP and UDP. Nothing here
// holds up the start: the node is ready when it listens, and a mapping
// joins the (re-signed) address when the gateway grants it. The mappers
// renew; their events move the address; a close deletes the mappings, and
// any other end of the node ends the mappers, which delete them too.
#include "p2pd/node/node_state.hpp"

#include "caf/actor_cast.hpp"
#include "caf/send.hpp"

#include "p2pd/actors/common/timeouts.hpp"
#include "p2pd/messages/errors.hpp"
#include "p2pd/net/iface/route.hpp"

namespace p2pd::node {

namespace {

const char* proto_name(net::protocol p) {
  return p == net::protocol::tcp ? "TCP" : "UDP";
}

std::string describe(const port_mapping& m) {
  return std::string{proto_name(m.proto)} + " " + m.internal.to_string() + " -> "
         + m.external.to_string() + " by " + to_string(m.method) + ", "
         + std::to_string(m.lifetime_s) + " s";
}

// The gateway of interface `i`'s IPv4 route: the spec's, else the default
// route's next hop when the default route leaves through that interface.
std::optional<net::ip_address> gateway_of(const node_state& st, size_t i,
                                          const net::interface_table* table) {
  if (st.spec.port_mapping.gateway)
    return st.spec.port_mapping.gateway;
  if (table == nullptr || !table->v4_default || !table->v4_default->gateway)
    return std::nullopt;
  const auto& d = *table->v4_default;
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
  self
    ->request(s.mapper, deadline, portmap_atom::value, proto, endpoint{s.local, st.port},
              st.spec.port_mapping.lifetime_s)
    .then(
      [=](port_mapping& m) {
        auto& st = self->state;
        if (st.life.closing())
          return;
        st.progress("port mapping: " + describe(m));
        held(st.portmaps[slot], proto) = m;
        st.rebuild_address();
      },
      [=](caf::error& err) {
        auto& st = self->state;
        if (st.life.closing())
          return;
        // A router that offers nothing: the node goes on without.
        st.progress("port mapping: no " + std::string{proto_name(proto)} + " mapping at "
                    + st.portmaps[slot].gateway.to_string() + ": " + render(err));
      });
}

} // namespace

void start_port_mapping(node_actor_ptr self) {
  auto& st = self->state;
  const auto& pm = st.spec.port_mapping;
  if (!pm.enabled || !st.portmaps.empty() || st.port == 0 || st.life.closing())
    return;
  auto table = st.spec.stack->interfaces();
  const net::interface_table* tab = table ? &*table : nullptr;
  for (size_t i = 0; i < st.snaps.size() && i < max_interfaces; ++i) {
    const auto* r = st.snaps[i].route(net::family::v4);
    auto nic = r != nullptr ? r->nic() : std::nullopt;
    if (!nic)
      continue;
    auto gw = gateway_of(st, i, tab);
    if (!gw) {
      st.progress("port mapping: interface " + st.snaps[i].name + " has no IPv4 gateway");
      continue;
    }
    port_mapper_spec ms;
    ms.stack = st.spec.stack;
    ms.gateway = *gw;
    ms.local_ip = nic->with_scope(0);
    ms.methods = pm.methods;
    ms.timing = pm.timing;
    auto mapper = spawn_port_mapper(self->home_system(), ms);
    if (!mapper) {
      st.progress("port mapping: no mapper for gateway " + gw->to_string() + ": "
                  + render(mapper.error()));
      continue;
    }
    // However the node ends, the mapper ends with it and deletes what it
    // holds (its state's destructor); an orderly close asks it first.
    auto hdl = *mapper;
    self->attach_functor(
      [hdl](const caf::error&) { caf::anon_send_exit(hdl, caf::exit_reason::user_shutdown); });
    portmap_slot s;
    s.interface = static_cast<uint8_t>(i);
    s.gateway = *gw;
    s.local = ms.local_ip;
    s.mapper = hdl;
    st.portmaps.push_back(std::move(s));
    auto slot = st.portmaps.size() - 1;
    caf::anon_send(hdl, caf::subscribe_atom::value, spawn_forwarder(self, slot));
    st.progress("port mapping: asking gateway " + gw->to_string() + " for port "
                + std::to_string(st.port) + " of " + ms.local_ip.to_string());
    ask(self, slot, net::protocol::tcp);
    ask(self, slot, net::protocol::udp);
  }
}

void on_portmap_event(node_actor_ptr self, uint64_t slot, portmap_event& ev) {
  auto& st = self->state;
  if (slot >= st.portmaps.size() || st.life.closing())
    return;
  auto& s = st.portmaps[slot];
  auto& h = held(s, ev.mapping.proto);
  std::string what = "port mapping " + std::string{to_string(ev.change)} + ": "
                     + describe(ev.mapping);
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
  if (changed)
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
    if (!s.tcp && !s.udp)
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
