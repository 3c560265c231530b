#include "p2pd/actors/portmap/port_mapper.hpp"

#include <algorithm>
#include <memory>

#include "caf/send.hpp"

#include "p2pd/actors/common/run_blocking.hpp"
#include "p2pd/actors/common/timeouts.hpp"
#include "p2pd/actors/portmap/detail/port_mapper_state.hpp"
#include "p2pd/messages/errors.hpp"

namespace p2pd {

using namespace actors::detail;
using actors::run_blocking;

const char* to_string(portmap_method x) {
  switch (x) {
    case portmap_method::pcp: return "PCP";
    case portmap_method::natpmp: return "NAT-PMP";
    case portmap_method::upnp: return "UPnP";
    case portmap_method::upnp_pinhole: return "UPnP pinhole";
  }
  return "?";
}

const char* to_string(portmap_change x) {
  switch (x) {
    case portmap_change::refreshed: return "refreshed";
    case portmap_change::moved: return "moved";
    case portmap_change::restored: return "restored";
    case portmap_change::lost: return "lost";
  }
  return "?";
}

caf::timespan portmap_deadline(const portmap_timing& t) {
  caf::timespan pmp = t.rto * t.last_wait_factor;
  auto wait = t.rto;
  for (uint32_t i = 1; i < t.max_sends; ++i, wait *= 2)
    pmp += wait;
  // PCP, NAT-PMP (its map and its external address), UPnP (a pinhole's
  // second discovery included), a margin.
  return 3 * pmp + t.upnp_deadline + t.upnp_discover + std::chrono::seconds(1);
}

namespace {

void schedule_refresh(mapper_ptr self, pm_entry& e) {
  // At half the lifetime (RFC 6886 §3.3, RFC 6887 §11.2.1 renew before it
  // runs out), at least 1 s so a tiny lifetime does not spin.
  auto half = std::chrono::milliseconds(std::max<uint64_t>(1000, e.m.lifetime_s * 500ull));
  e.timer = arm_timer(self, half, e.m.id, ++e.gen);
}

void tell(mapper_ptr self, portmap_change c, const port_mapping& m, std::string reason) {
  for (auto& s : self->state.subs)
    caf::anon_send(s, portmap_event{c, m, reason});
}

// A restart noticed on one mapping's answer: renew the others now.
void restore_others(mapper_ptr self) {
  for (auto& [id, e] : self->state.maps)
    if (e.restore_pending)
      self->send(self, pm_timer_atom::value, id, e.gen);
}

// The IGD gave pinhole `id` its unique id. A rebooted miniupnpd numbers
// from 1 again: another pinhole of ours that held that id before is not
// the IGD's any more, and an UpdatePinhole of it would renew this one.
// It is added anew, now.
void claim_pinhole_id(mapper_ptr self, uint64_t id) {
  auto& maps = self->state.maps;
  auto& mine = maps[id];
  bool any = false;
  for (auto& [other, e] : maps)
    if (other != id && e.m.method == portmap_method::upnp_pinhole
        && e.pinhole.unique_id == mine.pinhole.unique_id
        && (e.m.proto != mine.m.proto || !(e.m.internal == mine.m.internal))) {
      e.stale_id = true;
      e.restore_pending = true;
      any = true;
    }
  if (any)
    restore_others(self);
}

// Tries the spec's methods from `idx` on for a new mapping.
void map_from(mapper_ptr self, pm_entry e, size_t idx, bool pcp_silent,
              std::shared_ptr<std::string> why, caf::typed_response_promise<port_mapping> rp) {
  auto& methods = self->state.spec.methods;
  // A gateway that did not answer PCP at all does not speak NAT-PMP either.
  while (idx < methods.size() && pcp_silent && methods[idx] == portmap_method::natpmp)
    ++idx;
  if (idx >= methods.size()) {
    rp.deliver(make_error(errc::recv_timeout, "no port mapping from gateway "
                                                + self->state.spec.gateway.to_string() + ": "
                                                + *why));
    return;
  }
  auto method = methods[idx];
  attempt(self, method, e, [=](caf::expected<pm_entry> r) mutable {
    if (!r) {
      auto code = code_of(r.error());
      *why += (why->empty() ? "" : "; ") + render(r.error());
      if (code == errc::recv_timeout || code == errc::unsupported_version)
        return map_from(self, e, idx + 1,
                        pcp_silent || (method == portmap_method::pcp && code == errc::recv_timeout),
                        why, rp);
      rp.deliver(r.error());
      return;
    }
    r->restore_pending = false;
    auto& st = self->state;
    auto& in = st.maps[r->m.id] = std::move(*r);
    schedule_refresh(self, in);
    rp.deliver(in.m);
  });
}

// A new pinhole by `ways` from `idx` on: PCP MAP of the IPv6 address
// (RFC 6887: without NAT the server opens its firewall), then UPnP
// WANIPv6FirewallControl. The last way's error code is the answer's, with
// every way's reason.
void open_pinhole(mapper_ptr self, pm_entry e, std::vector<portmap_method> ways, size_t idx,
                  std::string why, caf::typed_response_promise<port_mapping> rp) {
  auto way = ways[idx];
  attempt(self, way, e, [=](caf::expected<pm_entry> r) mutable {
    if (!r) {
      auto reason = render(r.error());
      if (idx + 1 < ways.size())
        return open_pinhole(self, std::move(e), std::move(ways), idx + 1,
                            why + reason + "; ", rp);
      rp.deliver(make_error(code_of(r.error()), "no pinhole for "
                                                  + e.m.internal.to_string() + ": " + why
                                                  + reason));
      return;
    }
    r->restore_pending = false;
    auto id = r->m.id;
    auto& in = self->state.maps[id] = std::move(*r);
    schedule_refresh(self, in);
    rp.deliver(in.m);
    if (way == portmap_method::upnp_pinhole)
      claim_pinhole_id(self, id);
  });
}

void refresh(mapper_ptr self, uint64_t id) {
  auto& st = self->state;
  auto i = st.maps.find(id);
  if (i == st.maps.end() || i->second.busy)
    return; // a renewal in flight tells what it finds
  auto gen = i->second.gen;
  i->second.busy = true;
  attempt(self, i->second.m.method, i->second, [self, id, gen](caf::expected<pm_entry> r) {
    auto& st = self->state;
    auto i = st.maps.find(id);
    if (i == st.maps.end() || i->second.gen != gen)
      return; // unmapped meanwhile
    auto& e = i->second;
    e.busy = false;
    if (!r) {
      e.lost = true;
      tell(self, portmap_change::lost, e.m, render(r.error()));
      return schedule_refresh(self, e);
    }
    // A pinhole's id went to another pinhole of ours while this update was
    // in flight: the update renewed that one. Add ours anew.
    if (e.stale_id && !r->stale_id && r->pinhole.unique_id == e.pinhole.unique_id)
      return refresh(self, id);
    auto change = e.lost || e.restore_pending || r->restore_pending ? portmap_change::restored
                  : r->m.external != e.m.external                    ? portmap_change::moved
                                                                     : portmap_change::refreshed;
    auto timer = e.timer;
    e = std::move(*r);
    e.timer = timer;
    e.gen = gen;
    e.busy = false;
    e.stale_id = false;
    e.lost = false;
    e.restore_pending = false;
    schedule_refresh(self, e);
    tell(self, change, e.m, {});
    if (e.m.method == portmap_method::upnp_pinhole)
      claim_pinhole_id(self, id);
  });
}

void unmap(mapper_ptr self, uint64_t id, caf::typed_response_promise<caf::ok_atom> rp) {
  auto& st = self->state;
  auto i = st.maps.find(id);
  if (i == st.maps.end()) {
    rp.deliver(make_error(errc::invalid_argument, "no mapping " + std::to_string(id)));
    return;
  }
  auto e = std::move(i->second);
  st.maps.erase(i);
  if (e.timer)
    caf::anon_send_exit(e.timer, caf::exit_reason::user_shutdown);
  if (auto job = upnp_delete_job(e)) {
    run_blocking(self, timeouts::until_answered,
                 [job]() -> caf::expected<bool> {
                   auto r = job();
                   if (!r)
                     return make_error(r.error());
                   return true;
                 })
      .then([rp](bool) mutable { rp.deliver(caf::ok_atom::value); },
            [rp](caf::error& err) mutable { rp.deliver(err); });
    return;
  }
  pmp_exchange x;
  x.method = e.m.method;
  x.nonce = e.nonce;
  x.op = e.m.proto == net::protocol::tcp ? net::natpmp_op::map_tcp : net::natpmp_op::map_udp;
  x.wire = delete_wire(st, e);
  x.done = [rp](caf::expected<pmp_answer> a) mutable {
    if (a)
      rp.deliver(caf::ok_atom::value);
    else
      rp.deliver(a.error());
  };
  start_exchange(self, std::move(x));
}

// A new entry with the next id, not yet asked for.
pm_entry new_entry(port_mapper_state& st, net::protocol proto, const endpoint& internal,
                   uint32_t lifetime) {
  pm_entry e;
  e.m.id = st.next_id++;
  e.m.proto = proto;
  e.m.internal = internal;
  e.m.gateway = st.spec.gateway;
  e.asked_lifetime = lifetime;
  e.nonce = net::pcp_random_nonce();
  return e;
}

caf::result<port_mapping> ask_pinhole(mapper_ptr self, net::protocol proto, endpoint internal,
                                      uint32_t lifetime) {
  auto& st = self->state;
  if (internal.ip.is_any() && st.spec.local_ip.is_v6())
    internal.ip = st.spec.local_ip;
  if (!internal.ip.is_v6() || internal.ip.is_v4_mapped() || internal.port == 0)
    return make_error(errc::invalid_argument, "port mapper: a pinhole needs an IPv6 address "
                                              "and a port, not "
                                                + internal.to_string());
  if (lifetime == 0 || lifetime > 86400)
    return make_error(errc::invalid_argument, "port mapper: a pinhole's lease is 1 to 86400 s, "
                                              "not "
                                                + std::to_string(lifetime));
  // UPnP first: miniupnpd 2.3.1 refuses to delete a PCP pinhole once it
  // renewed it (its renewal rewrites the rule's label, and the delete then
  // finds another nonce there), a UPnP one goes by its id. PCP checks that a
  // request comes from the address it names: only for the address the
  // mapper sends from.
  auto& ms = st.spec.methods;
  std::vector<portmap_method> ways;
  if (std::count(ms.begin(), ms.end(), portmap_method::upnp) != 0)
    ways.push_back(portmap_method::upnp_pinhole);
  if (std::count(ms.begin(), ms.end(), portmap_method::pcp) != 0
      && internal.ip == st.spec.local_ip)
    ways.push_back(portmap_method::pcp);
  if (ways.empty())
    return make_error(errc::invalid_argument,
                      "port mapper: pinholes need UPnP among the methods, or PCP and the "
                      "mapper's own address "
                        + st.spec.local_ip.to_string());
  auto e = new_entry(st, proto, internal, lifetime);
  e.m.method = ways.front();
  e.m.external = internal;
  auto rp = self->make_response_promise<port_mapping>();
  open_pinhole(self, std::move(e), std::move(ways), 0, {}, rp);
  return rp;
}

} // namespace

caf::expected<port_mapper_actor> spawn_port_mapper(caf::actor_system& sys, port_mapper_spec spec) {
  if (spec.gateway.is_any())
    return make_error(errc::invalid_argument, "port mapper: no gateway");
  if (spec.methods.empty())
    return make_error(errc::invalid_argument, "port mapper: no methods");
  if (std::count(spec.methods.begin(), spec.methods.end(), portmap_method::upnp_pinhole) != 0)
    return make_error(errc::invalid_argument,
                      "port mapper: UPnP pinholes are asked for by pinhole, not by map");
  if (!spec.stack)
    spec.stack = os_stack();
  return sys.spawn([](mapper_ptr self, port_mapper_spec spec) -> port_mapper_actor::behavior_type {
    auto& st = self->state;
    st.spec = std::move(spec);
    st.sys = &self->home_system();
    auto weak = caf::weak_actor_ptr{self->ctrl()};
    auto handler = [weak](pipe_io&, std::string_view data, const endpoint& from) {
      if (auto hdl = weak.lock())
        caf::anon_send(caf::actor_cast<caf::actor>(std::move(hdl)), pm_dgram_atom::value,
                       bytes(data.begin(), data.end()), from);
    };
    st.pipe = st.spec.stack->spawn_pipe(
      self->home_system(), server_spec(udp, endpoint{st.spec.local_ip, 0}, std::move(handler)));
    // What waited for the socket runs once it is open or failed.
    auto run_waiting = [self] {
      auto waiting = std::move(self->state.until_open);
      for (auto& f : waiting)
        f();
    };
    self->request(st.pipe, timeouts::until_answered, caf::open_atom::value)
      .then(
        [self, run_waiting](pipe_info&) {
          self->state.pipe_open = true;
          run_waiting();
        },
        [self, run_waiting](caf::error& err) {
          self->state.pipe_error = err;
          run_waiting();
        });
    return {
      [self](portmap_atom, net::protocol proto, endpoint internal,
             uint32_t lifetime) -> caf::result<port_mapping> {
        auto& st = self->state;
        if (internal.port == 0)
          return make_error(errc::invalid_argument, "port mapper: internal port 0");
        if (internal.ip.is_any())
          internal.ip = st.spec.local_ip;
        auto e = new_entry(st, proto, internal, lifetime);
        auto rp = self->make_response_promise<port_mapping>();
        map_from(self, std::move(e), 0, false, std::make_shared<std::string>(), rp);
        return rp;
      },
      [self](pinhole_atom, net::protocol proto, endpoint internal,
             uint32_t lifetime) -> caf::result<port_mapping> {
        return ask_pinhole(self, proto, internal, lifetime);
      },
      [self](unmap_atom, uint64_t id) -> caf::result<caf::ok_atom> {
        auto rp = self->make_response_promise<caf::ok_atom>();
        unmap(self, id, rp);
        return rp;
      },
      [self](caf::subscribe_atom, caf::actor sub) -> caf::ok_atom {
        self->state.subs.push_back(std::move(sub));
        return caf::ok_atom::value;
      },
      [self](stats_atom) { return self->state.stats; },
      [self](caf::close_atom) -> caf::result<caf::ok_atom> {
        // The state's destructor deletes what is left.
        self->quit();
        return caf::ok_atom::value;
      },
      [self](pm_dgram_atom, bytes& data, endpoint& from) {
        on_datagram(self, data, from);
        restore_others(self);
      },
      [self](pm_timer_atom, uint64_t id, uint64_t gen) {
        auto& st = self->state;
        if (st.xs.count(id) != 0)
          return exchange_timer(self, id, gen);
        if (auto i = st.maps.find(id); i != st.maps.end() && i->second.gen == gen)
          refresh(self, id);
      },
    };
  }, std::move(spec));
}

} // namespace p2pd
