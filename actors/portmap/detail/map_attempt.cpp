#include "p2pd/actors/portmap/detail/port_mapper_state.hpp"

#include <memory>

#include "p2pd/actors/common/run_blocking.hpp"
#include "p2pd/actors/common/timeouts.hpp"
#include "p2pd/messages/errors.hpp"

namespace p2pd::actors::detail {

namespace {

int discover_ms(const port_mapper_state& st) {
  return static_cast<int>(
    std::chrono::duration_cast<std::chrono::milliseconds>(st.spec.timing.upnp_discover).count());
}

// Runs `call(restored)`, a blocking miniupnpc job that returns a lease, on
// the blocking executor; then `granted(lease, restored)` on the actor, or
// `done` with the error. The job fills `out`: a lease is no message type of
// CAF's.
template <class Lease, class Call, class Granted>
void run_upnp(mapper_ptr self, Call call, Granted granted, done_fn done) {
  auto restored = std::make_shared<bool>(false);
  auto out = std::make_shared<Lease>();
  run_blocking(self, timeouts::until_answered,
               [call, restored, out]() -> caf::expected<bool> {
                 auto r = call(*restored);
                 if (!r)
                   return make_error(r.error());
                 *out = std::move(*r);
                 return true;
               })
    .then([granted, restored, out](bool) mutable { granted(std::move(*out), *restored); },
          [done](caf::error& err) { done(std::move(err)); });
}

void attempt_upnp(mapper_ptr self, pm_entry e, done_fn done) {
  auto& st = self->state;
  upnp_request req;
  req.proto = e.m.proto;
  req.internal = e.m.internal;
  req.suggested_port = e.m.external.port;
  req.lifetime_s = e.asked_lifetime;
  req.discover_ms = discover_ms(st);
  req.gateway = st.spec.gateway;
  req.control_url = e.upnp.control_url;
  req.service_type = e.upnp.service_type;
  run_upnp<upnp_lease>(
    self, [req](bool& restored) { return upnp_map(req, restored); },
    [e, done](upnp_lease lease, bool restored) mutable {
      e.m.method = portmap_method::upnp;
      e.m.external = lease.external;
      e.m.lifetime_s = e.asked_lifetime;
      e.upnp = std::move(lease);
      e.restore_pending = e.restore_pending || restored;
      done(std::move(e));
    },
    done);
}

void attempt_pinhole(mapper_ptr self, pm_entry e, done_fn done) {
  upnp_pinhole_request req;
  req.proto = e.m.proto;
  req.internal = e.m.internal;
  req.lifetime_s = e.asked_lifetime;
  req.discover_ms = discover_ms(self->state);
  req.gateway = self->state.spec.gateway;
  req.known = e.pinhole;
  req.stale_id = e.stale_id;
  run_upnp<upnp_pinhole_lease>(
    self, [req](bool& restored) { return upnp_pinhole(req, restored); },
    [e, done](upnp_pinhole_lease lease, bool restored) mutable {
      e.pinhole = std::move(lease);
      e.m.method = portmap_method::upnp_pinhole;
      e.m.external = e.m.internal; // nothing is translated
      e.m.lifetime_s = e.asked_lifetime;
      e.restore_pending = e.restore_pending || restored;
      done(std::move(e));
    },
    done);
}

} // namespace

std::function<net::result<bool>()> upnp_delete_job(const pm_entry& e) {
  if (e.m.method == portmap_method::upnp)
    return [lease = e.upnp, proto = e.m.proto] { return upnp_unmap(lease, proto); };
  if (e.m.method == portmap_method::upnp_pinhole && !e.pinhole.unique_id.empty())
    return [lease = e.pinhole] { return upnp_delete_pinhole(lease); };
  return {};
}

// Declared and described in port_mapper_state.hpp.
void attempt(mapper_ptr self, portmap_method method, pm_entry e, done_fn done) {
  auto& st = self->state;
  bool tcp = e.m.proto == net::protocol::tcp;
  if (method == portmap_method::upnp_pinhole)
    return attempt_pinhole(self, std::move(e), std::move(done));
  if (method == portmap_method::upnp)
    return attempt_upnp(self, std::move(e), std::move(done));
  pmp_exchange x;
  x.method = method;
  net::result<std::vector<uint8_t>> w = std::vector<uint8_t>{};
  if (method == portmap_method::pcp) {
    auto req = net::pcp_map_request(st.spec.local_ip,
                                    tcp ? net::pcp_protocol::tcp : net::pcp_protocol::udp,
                                    e.m.internal.port, e.asked_lifetime);
    req.map->nonce = e.nonce;
    req.map->external_port = e.m.external.port; // keep the port on a refresh
    x.nonce = e.nonce;
    w = net::encode_pcp_request(req);
  } else {
    net::natpmp_map_request req;
    req.op = tcp ? net::natpmp_op::map_tcp : net::natpmp_op::map_udp;
    req.internal_port = e.m.internal.port;
    req.suggested_external_port = e.m.external.port;
    req.lifetime = e.asked_lifetime;
    x.op = req.op;
    w = net::encode_natpmp_map_request(req);
  }
  if (!w)
    return done(make_error(w.error()));
  x.wire.assign(w->begin(), w->end());
  x.done = [self, method, e, done](caf::expected<pmp_answer> a) mutable {
    if (!a)
      return done(std::move(a.error()));
    if (a->pcp_version0)
      return done(make_error(errc::unsupported_version, "the gateway speaks NAT-PMP, not PCP"));
    e.m.method = method;
    e.m.lifetime_s = a->lifetime;
    e.restore_pending = e.restore_pending || a->restarted;
    if (method == portmap_method::pcp) {
      e.m.external = a->external;
      return done(std::move(e));
    }
    e.m.external.port = a->external.port;
    auto& st = self->state;
    if (st.natpmp_external_ip) {
      e.m.external.ip = *st.natpmp_external_ip;
      return done(std::move(e));
    }
    // NAT-PMP's map answer has no address: ask for it once (op 0).
    pmp_exchange q;
    q.method = portmap_method::natpmp;
    q.op = net::natpmp_op::external_address;
    auto wire = net::encode_natpmp_external_address_request();
    q.wire.assign(wire.begin(), wire.end());
    q.done = [self, e, done](caf::expected<pmp_answer> b) mutable {
      if (!b)
        return done(std::move(b.error()));
      self->state.natpmp_external_ip = b->external.ip;
      e.m.external.ip = b->external.ip;
      done(std::move(e));
    };
    start_exchange(self, std::move(q));
  };
  start_exchange(self, std::move(x));
}

} // namespace p2pd::actors::detail
