#include "p2pd/actors/portmap/detail/port_mapper_state.hpp"

#include "caf/send.hpp"

#include "p2pd/actors/common/run_blocking.hpp"
#include "p2pd/actors/common/weak_timer.hpp"
#include "p2pd/messages/errors.hpp"

namespace p2pd::actors::detail {

namespace {

endpoint server_of(const port_mapper_state& st) {
  return {st.spec.gateway, net::pcp_server_port};
}

void send_now(mapper_ptr self, uint64_t id, pmp_exchange& x) {
  ++x.sends;
  self->send(self->state.pipe, send_atom::value, x.wire, server_of(self->state));
  self->state.x_timers[id] = arm_timer(self, x.wait, id, x.sends);
}

void finish(mapper_ptr self, uint64_t id, caf::expected<pmp_answer> res) {
  auto& st = self->state;
  auto i = st.xs.find(id);
  if (i == st.xs.end())
    return;
  auto done = std::move(i->second.done);
  st.xs.erase(i);
  if (auto t = st.x_timers.find(id); t != st.x_timers.end()) {
    caf::anon_send_exit(t->second, caf::exit_reason::user_shutdown);
    st.x_timers.erase(t);
  }
  done(std::move(res));
}

// Applies the epoch rules to an answer from `method`'s server: true when it
// lost its state since the last answer; every mapping of that method is
// then to be restored.
bool check_epoch(mapper_ptr self, portmap_method method, uint32_t epoch) {
  auto& st = self->state;
  auto& seen = method == portmap_method::pcp ? st.pcp_epoch : st.natpmp_epoch;
  auto now = self->clock().now();
  bool lost = false;
  if (seen.have) {
    auto elapsed = std::chrono::duration_cast<std::chrono::seconds>(now - seen.at).count();
    auto secs = static_cast<uint64_t>(elapsed < 0 ? 0 : elapsed);
    lost = method == portmap_method::pcp ? net::pcp_lost_state(seen.epoch, epoch, secs)
                                         : net::natpmp_restarted(seen.epoch, epoch, secs);
  }
  seen = {true, epoch, now};
  if (lost) {
    ++st.stats.restarts;
    for (auto& [id, e] : st.maps)
      if (e.m.method == method)
        e.restore_pending = true;
  }
  return lost;
}

// What exchange `x` makes of `data`: an answer (or the gateway's error),
// nullopt when it is not for `x`; `malformed` is set when the codec refused
// the bytes as such.
std::optional<caf::expected<pmp_answer>> read_for(mapper_ptr self, const pmp_exchange& x,
                                                  const std::vector<char>& data,
                                                  bool& malformed) {
  auto bytes = reinterpret_cast<const uint8_t*>(data.data());
  if (x.method == portmap_method::pcp) {
    net::pcp_decode_options opts;
    opts.opcode = net::pcp_opcode::map;
    opts.nonce = x.nonce;
    auto r = net::decode_pcp_response(bytes, data.size(), opts);
    if (!r) {
      if (r.error().code == net::errc::unsupported_version) {
        pmp_answer a;
        a.pcp_version0 = true;
        return caf::expected<pmp_answer>{a};
      }
      malformed = malformed || r.error().code != net::errc::not_for_us;
      return std::nullopt;
    }
    pmp_answer a;
    a.restarted = check_epoch(self, portmap_method::pcp, r->epoch);
    if (!r->ok())
      return caf::expected<pmp_answer>{make_error(
        errc::server_refused, std::string{"PCP MAP refused by "} + self->state.spec.gateway.to_string()
                                + ": " + net::to_string(r->result))};
    a.lifetime = r->lifetime;
    if (r->map)
      a.external = {r->map->external_ip, r->map->external_port};
    return caf::expected<pmp_answer>{a};
  }
  auto r = net::decode_natpmp_response(bytes, data.size(), x.op);
  if (!r) {
    malformed = malformed || r.error().code != net::errc::not_for_us;
    return std::nullopt;
  }
  pmp_answer a;
  a.restarted = check_epoch(self, portmap_method::natpmp, r->epoch);
  if (!r->ok())
    return caf::expected<pmp_answer>{make_error(
      errc::server_refused, std::string{"NAT-PMP refused by "} + self->state.spec.gateway.to_string() + ": "
                              + net::to_string(r->result))};
  a.lifetime = r->lifetime;
  a.external = {r->op == net::natpmp_op::external_address ? r->external_ip : net::ip_address{},
                r->external_port};
  return caf::expected<pmp_answer>{a};
}

} // namespace

caf::actor arm_timer(mapper_ptr self, caf::timespan delay, uint64_t id, uint64_t gen) {
  return start_weak_timer(self->home_system(), caf::weak_actor_ptr{self->ctrl()}, delay,
                          caf::make_message(pm_timer_atom::value, id, gen));
}

void start_exchange(mapper_ptr self, pmp_exchange x) {
  auto& st = self->state;
  if (!st.pipe_open) {
    if (st.pipe_error)
      return x.done(st.pipe_error);
    st.until_open.push_back([self, x = std::move(x)]() mutable { start_exchange(self, x); });
    return;
  }
  x.wait = st.spec.timing.rto;
  auto id = st.next_id++;
  auto& in = st.xs.emplace(id, std::move(x)).first->second;
  send_now(self, id, in);
}

void exchange_timer(mapper_ptr self, uint64_t id, uint64_t sends) {
  auto& st = self->state;
  auto i = st.xs.find(id);
  if (i == st.xs.end() || i->second.sends != sends)
    return; // answered, or an older send's timer
  auto& x = i->second;
  const auto& t = st.spec.timing;
  if (x.sends >= t.max_sends)
    return finish(self, id, make_error(errc::recv_timeout,
                                       std::string{"no "} + to_string(x.method) + " answer from "
                                         + server_of(st).to_string() + " after "
                                         + std::to_string(x.sends) + " sends"));
  x.wait = x.sends + 1 == t.max_sends ? t.rto * t.last_wait_factor : x.wait * 2;
  send_now(self, id, x);
}

void on_datagram(mapper_ptr self, const std::vector<char>& data, const endpoint& from) {
  auto& st = self->state;
  if (from != server_of(st)) {
    ++st.stats.stray;
    return;
  }
  bool malformed = false;
  // NAT-PMP exchanges first: a NAT-PMP answer would read as PCP's
  // "unsupported version".
  for (auto pass : {portmap_method::natpmp, portmap_method::pcp})
    for (auto& [id, x] : st.xs)
      if ((x.method == portmap_method::pcp) == (pass == portmap_method::pcp))
        if (auto res = read_for(self, x, data, malformed)) {
          auto key = id;
          return finish(self, key, std::move(*res));
        }
  ++(malformed ? st.stats.malformed : st.stats.stray);
}

std::vector<char> delete_wire(const port_mapper_state& st, const pm_entry& e) {
  net::result<std::vector<uint8_t>> w = std::vector<uint8_t>{};
  if (e.m.method == portmap_method::pcp) {
    auto req = net::pcp_map_request(st.spec.local_ip,
                                    e.m.proto == net::protocol::tcp ? net::pcp_protocol::tcp
                                                                    : net::pcp_protocol::udp,
                                    e.m.internal.port, 0);
    req.map->nonce = e.nonce;
    w = net::encode_pcp_request(req);
  } else {
    net::natpmp_map_request req;
    req.op = e.m.proto == net::protocol::tcp ? net::natpmp_op::map_tcp : net::natpmp_op::map_udp;
    req.internal_port = e.m.internal.port;
    req.lifetime = 0;
    w = net::encode_natpmp_map_request(req);
  }
  if (!w)
    return {};
  return {w->begin(), w->end()};
}

port_mapper_state::~port_mapper_state() {
  for (auto& [id, e] : maps) {
    if (e.timer)
      caf::anon_send_exit(e.timer, caf::exit_reason::user_shutdown);
    if (auto job = upnp_delete_job(e)) {
      if (sys != nullptr)
        run_blocking_detached(*sys, [job] { (void)job(); });
    } else if (pipe_open) {
      auto w = delete_wire(*this, e);
      if (!w.empty())
        caf::anon_send(pipe, send_atom::value, w, endpoint{spec.gateway, net::pcp_server_port});
    }
  }
  for (auto& [id, t] : x_timers)
    caf::anon_send_exit(t, caf::exit_reason::user_shutdown);
}

} // namespace p2pd::actors::detail
