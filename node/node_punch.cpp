// Punches, the exchange over signalling (node/punch/punch_offer.hpp):
//
//   initiator: verdict from both NATs -> hold a mapping -> offer
//   responder: verdict -> hold a mapping -> answer (or refuse, with why)
//   initiator: round trip measured -> sync (meeting time) -> wait -> run
//   responder: sync -> wait -> run
//
// The mechanism (TCP or UDP) runs in node_punch_run.cpp. Every refusal is
// counted (node_stats::refused_punch) and told to subscribers; a punch that
// cannot work is reported at once, never left to time out.
#include "p2pd/node/node_state.hpp"

#include <algorithm>

#include "caf/send.hpp"

#include "p2pd/messages/errors.hpp"
#include "p2pd/node/punch/meeting.hpp"
#include "p2pd/net/util/server_list.hpp"
#include "p2pd/proto/envelope_codec.hpp"

namespace p2pd::node {

namespace {

using session_ptr = std::shared_ptr<punch_session>;

millis to_millis(caf::timespan t) {
  return std::chrono::duration_cast<millis>(t);
}

// The STUN server to hold a mapping with: the one the interface's probe
// used, else (a route whose UDP probes all failed, which may still map TCP)
// the first configured one of the family, given by address.
endpoint hold_server(const node_state& st, uint8_t i, net::family fam) {
  if (i < st.snaps.size()) {
    auto server = st.snaps[i].nat(fam).server;
    if (server.port != 0 && server.fam() == fam)
      return server;
  }
  for (auto& e : st.spec.iface.stun_servers)
    if (e.port != 0 && e.fam() == fam)
      return e;
  for (auto& e : st.spec.iface.servers) {
    if (e.kind != net::server_kind::stun && e.kind != net::server_kind::nat)
      continue;
    auto ip = net::ip_address::parse(e.host); // names: the interface resolves them, we do not block
    if (ip && ip->fam() == fam && e.port != 0)
      return endpoint{*ip, e.port};
  }
  return {};
}

// What we know of our NAT on interface `i` for `fam`.
net::nat_profile own_profile(const node_state& st, uint8_t i, net::family fam) {
  net::nat_profile p;
  if (i < st.snaps.size()) {
    auto n = st.snaps[i].nat(fam);
    p.nat = n.nat;
    p.delta = net::delta_result{n.delta, n.delta_value};
  }
  return p;
}

const peer_route* route_of(const peer_address& a, uint8_t i, net::family fam) {
  for (auto& r : a.routes)
    if (r.interface == i && r.fam == fam)
      return &r;
  return nullptr;
}

// Our address on the Internet for the route: the external one STUN agreed
// on, else (no NAT) the NIC address.
std::optional<net::ip_address> own_public(const node_state& st, uint8_t i, net::family fam) {
  for (auto& r : st.address.routes)
    if (r.interface == i && r.fam == fam) {
      if (r.external)
        return r.external;
      return r.nic;
    }
  return std::nullopt;
}

void refuse_message(node_actor_ptr self, const std::string& peer, errc code, std::string why) {
  self->state.refuse(&node_stats::refused_punch, "punch", peer,
                     make_error(code, "punch message: " + std::move(why)));
}

// Fills s.ours' predictions and local ports from our side's prediction;
// `held` is the mapping a STUN answer gave the bound port, if any.
void predict(node_actor_ptr self, punch_session& s, uint16_t port,
             std::optional<net::held_mapping> held, std::optional<net::ip_address> mapped_ip) {
  auto& st = self->state;
  auto prof = net::for_protocol(own_profile(st, s.route, s.fam), s.proto);
  prof.held = held;
  auto side = net::predict_own(prof, s.verdict, st.spec.punch_limits, st.spec.stack->rng_seed());
  auto ip = mapped_ip ? mapped_ip : own_public(st, s.route, s.fam);
  s.ours.local_ports.clear();
  for (auto p : side.local)
    s.ours.local_ports.push_back(p != 0 ? p : port);
  if (s.ours.local_ports.empty())
    s.ours.local_ports.push_back(port);
  // A port of ours that was not bound is the one we hold (bound again).
  if (held && !s.ours.local_ports.empty() && s.verdict.kind != net::punch_kind::spray)
    s.ours.local_ports.front() = held->local;
  s.ours.predictions.clear();
  s.ours.external_ip = ip;
  if (ip)
    for (auto p : side.external)
      if (p >= min_punch_port && s.ours.predictions.size() < max_punch_predictions)
        s.ours.predictions.push_back(net::endpoint{*ip, p});
  s.ours.spray_probes = static_cast<uint32_t>(side.probes);
}

// Our side before the offer or answer: a port bound on the route and, when
// a STUN server is known, the mapping the NAT gives it (a cone keeps it for
// every destination; a sequential NAT counts from it). `then` runs once the
// predictions are in s.ours.
template <class F>
void prepare_side(node_actor_ptr self, session_ptr s, F then) {
  auto& st = self->state;
  auto server = hold_server(st, s->route, s->fam);
  if (s->verdict.kind == net::punch_kind::spray && !net::predictable_ports(own_profile(st, s->route, s->fam))) {
    // The spraying side: many sockets, mappings nobody can predict.
    predict(self, *s, 0, std::nullopt, std::nullopt);
    return then();
  }
  pipe_spec ps;
  ps.proto = s->proto;
  ps.local = endpoint{s->bind, 0};
  ps.conf.reuse_addr = true;
  if (server.port != 0 && server.fam() == s->fam) {
    if (s->proto == net::protocol::tcp) {
      ps.host = server.ip.to_string();
      ps.port = server.port;
    }
  }
  auto pipe = st.spec.stack->spawn_pipe(self->home_system(), std::move(ps));
  s->pipes.push_back(pipe);
  self->request(pipe, timeouts::listen, caf::open_atom::value)
    .then(
      [=](pipe_info& info) {
        auto port = info.local.port;
        if (server.port == 0 || server.fam() != s->fam) {
          predict(self, *s, port, std::nullopt, std::nullopt);
          return then();
        }
        auto& st = self->state;
        if (!st.stun)
          st.stun = spawn_stun_client(self->home_system());
        stun_query q;
        q.pipe = pipe;
        q.server = server;
        self->request(st.stun, stun_deadline(stun_timing{}, s->proto), stun_atom::value, q)
          .then(
            [=](stun_binding& b) {
              predict(self, *s, port, net::held_mapping{port, b.mapped.port}, b.mapped.ip);
              if (s->proto == net::protocol::udp)
                caf::anon_send(pipe, caf::close_atom::value); // the punch binds the port itself
              then();
            },
            [=](caf::error&) {
              // No mapping to hold: predicted from what the interface knows.
              predict(self, *s, port, std::nullopt, std::nullopt);
              if (s->proto == net::protocol::udp)
                caf::anon_send(pipe, caf::close_atom::value);
              then();
            });
      },
      [=](caf::error& err) { punch_done(self, s, std::nullopt, err); });
}

// The clock's offset in ms, when it rests on at least one server.
std::optional<int64_t> offset_of(const clock_offset& c) {
  if (c.servers == 0)
    return std::nullopt;
  return c.offset_ns / 1'000'000;
}

// Starts the mechanism after `wait`.
void schedule(node_actor_ptr self, session_ptr s, millis wait) {
  s->at = punch_session::step::answered;
  prime_mappings(self, s);
  self->delayed_send(self, wait, punch_go_atom::value, s->peer_id, s->id);
}

// The initiator: the answer came.
void on_answer(node_actor_ptr self, session_ptr s, punch_message& m) {
  auto& st = self->state;
  if (s->at != punch_session::step::offered)
    return refuse_message(self, s->peer_id, errc::invalid_argument,
                          "an answer to punch " + std::to_string(s->id) + ", which is past its offer");
  if (m.proto != s->proto || m.fam != s->fam)
    return punch_done(self, s, std::nullopt,
                      make_error(errc::invalid_argument, "the peer answered for another protocol or family"));
  if (s->relay && !m.relay)
    return punch_done(self, s, std::nullopt,
                      make_error(errc::invalid_argument,
                                 "the peer answered our relay offer without its relayed address"));
  if (s->mapped != m.mapped || (s->mapped && m.predictions.empty()))
    return punch_done(self, s, std::nullopt,
                      make_error(errc::invalid_argument,
                                 s->mapped ? "the peer answered our offer for its mapping without it"
                                           : "the peer answered with a mapping we did not aim at"));
  s->theirs = std::move(m);
  if (s->relay && s->proto == net::protocol::tcp)
    return join_relayed_stream(self, s); // no meeting: the server joins the two
  auto rtt = to_millis(self->clock().now() - s->offer_sent);
  auto send_sync = [=](std::optional<int64_t> off) {
    auto& st = self->state;
    auto mt = plan_meeting(st.now_ms(), off, rtt, to_millis(st.spec.punch_margin));
    punch_message sync;
    sync.request_id = s->id;
    sync.phase = punch_phase::sync;
    sync.proto = s->proto;
    sync.fam = s->fam;
    sync.start_time_ms = mt.start_unix_ms;
    sync.clock_synced = mt.synced;
    sync.interval_ms = s->ours.interval_ms;
    sync.window_ms = s->ours.window_ms;
    send_punch(self, *s, sync);
    if (s->job)
      report(self, *s->job, s->plan,
             "exchange done: round trip " + std::to_string(rtt.count()) + " ms, starting in "
               + std::to_string(mt.wait.count()) + " ms" + (mt.synced ? " (NTP time)" : ""));
    schedule(self, s, mt.wait);
  };
  send_sync(st.clock && st.clock_estimate ? offset_of(*st.clock_estimate) : std::nullopt);
}

// The responder: the sync came.
void on_sync(node_actor_ptr self, session_ptr s, const punch_message& m) {
  auto& st = self->state;
  if (s->at != punch_session::step::offered)
    return refuse_message(self, s->peer_id, errc::invalid_argument,
                          "a sync for punch " + std::to_string(s->id) + ", which is not waiting for one");
  auto go = [=](std::optional<int64_t> off) {
    auto& st = self->state;
    auto wait = responder_wait(m.start_time_ms, m.clock_synced, st.now_ms(), off,
                               to_millis(st.spec.punch_margin));
    if (!wait)
      return punch_done(self, s, std::nullopt,
                        make_error(errc::invalid_argument,
                                   "the meeting time is more than "
                                     + std::to_string(max_meeting_ahead.count()) + " ms ahead"));
    schedule(self, s, *wait);
  };
  go(st.clock && st.clock_estimate && m.clock_synced ? offset_of(*st.clock_estimate) : std::nullopt);
}

// A peer's offer: we answer, refuse, or ignore a duplicate.
void serve_offer(node_actor_ptr self, const signal_message& msg, punch_message& m) {
  auto& st = self->state;
  auto refuse = [&](std::string why, errc code = errc::invalid_argument) {
    refuse_message(self, msg.sender, code, why);
    punch_message no;
    no.request_id = m.request_id;
    no.phase = punch_phase::refuse;
    no.reason = std::move(why);
    punch_session tmp;
    tmp.peer_keys = msg.sender_keys;
    send_punch(self, tmp, no);
  };
  auto key = std::make_pair(msg.sender, m.request_id);
  if (st.punches.count(key) > 0)
    return refuse_message(self, msg.sender, errc::replayed,
                          "a second offer for punch " + std::to_string(m.request_id));
  if (st.serving >= st.spec.max_pending_requests)
    return refuse(std::to_string(st.spec.max_pending_requests)
                    + " requests are served already (max_pending_requests)",
                  errc::queue_full);
  // Our route of that family: the first with a NIC address.
  const peer_route* ours = nullptr;
  for (auto& r : st.address.routes)
    if (r.fam == m.fam && r.nic) {
      ours = &r;
      break;
    }
  if (ours == nullptr)
    return refuse(std::string{"no route of "} + net::to_string(m.fam));
  // A loopback target is only ours to aim at when we are on loopback too.
  for (auto& p : m.predictions)
    if (p.ip.is_loopback() && !ours->nic->is_loopback())
      return refuse("a loopback prediction (" + p.to_string() + ") for a node that is not on loopback");
  auto s = std::make_shared<punch_session>();
  s->id = m.request_id;
  s->peer_id = msg.sender;
  s->peer_keys = msg.sender_keys;
  s->proto = m.proto;
  s->fam = m.fam;
  s->route = ours->interface;
  s->bind = *ours->nic;
  s->started = self->clock().now();
  if (m.relay) {
    if (!st.spec.accept_relay_offers)
      return refuse("relay offers are not accepted here (accept_relay_offers)");
    for (auto& ep : {m.relay->server, m.relay->relayed})
      if (ep.ip.is_loopback() && !ours->nic->is_loopback())
        return refuse("a loopback relay (" + ep.to_string() + ") for a node that is not on loopback");
    s->relay = true;
    s->plan.how = strategy::relay;
    s->plan.path = path_kind::relayed;
    s->plan.fam = s->fam;
    s->theirs = std::move(m);
    st.punches[key] = s;
    ++st.serving;
    arm(self, *s, st.spec.punch_budget);
    return serve_relay(self, s);
  }
  if (m.mapped) {
    // The peer aims at our UDP port mapping: no prediction on either side.
    const auto* mr = mapped_udp_route(st, m.fam);
    if (mr == nullptr)
      return refuse("no UDP port mapping here (any more)");
    if (st.mapped_udp_busy)
      return refuse("the mapped UDP port serves another punch now");
    s->route = mr->interface;
    s->bind = *mr->nic;
    s->mapped = true;
    s->plan.how = strategy::punch;
    s->plan.path = path_kind::mapped;
    s->plan.fam = s->fam;
    // Our NAT is not judged: the mapping brings the probes in, and our
    // answers are their replies.
    s->verdict = mapped_verdict(endpoint{*mr->mapped, mr->mapped_udp}, net::nat_type::unknown);
  } else {
    net::nat_profile theirs;
    theirs.nat = m.nat;
    theirs.delta = m.delta;
    s->verdict = net::punch_feasibility(own_profile(st, s->route, s->fam), theirs, s->proto,
                                        st.spec.punch_limits);
    if (s->verdict.kind == net::punch_kind::impossible)
      return refuse("cannot punch: " + s->verdict.reason);
  }
  s->theirs = std::move(m);
  st.punches[key] = s;
  ++st.serving;
  arm(self, *s, st.spec.punch_budget);
  auto prepare = s->mapped ? &prepare_mapped : &prepare_side<std::function<void()>>;
  prepare(self, s, [=] {
    if (s->at == punch_session::step::done)
      return;
    auto& st = self->state;
    s->ours.request_id = s->id;
    s->ours.phase = punch_phase::answer;
    s->ours.proto = s->proto;
    s->ours.fam = s->fam;
    s->ours.route = s->route;
    auto prof = own_profile(st, s->route, s->fam);
    s->ours.nat = prof.nat;
    s->ours.delta = prof.delta;
    s->ours.interval_ms = s->theirs->interval_ms;
    s->ours.window_ms = s->theirs->window_ms;
    s->ours.ephemeral_key = make_punch_key(*s);
    s->ours.mapped = s->mapped;
    s->at = punch_session::step::offered;
    send_punch(self, *s, s->ours);
  });
}

} // namespace

void send_punch(node_actor_ptr self, const punch_session& s, const punch_message& m) {
  auto& st = self->state;
  if (!st.signal)
    return;
  auto payload = encode_punch(m);
  caf::anon_send(st.signal, send_atom::value, s.peer_keys,
                 static_cast<uint32_t>(wire::PAYLOAD_TYPE_HOLE_PUNCH_REQUEST),
                 bytes(payload.begin(), payload.end()));
}

void arm(node_actor_ptr self, const punch_session& s, caf::timespan after) {
  self->delayed_send(self, after, punch_tmo_atom::value, s.peer_id, s.id,
                     static_cast<uint8_t>(s.at));
}

void start_punch(node_actor_ptr self, std::shared_ptr<connect_job> job, const attempt& a) {
  auto& st = self->state;
  auto lost = [&](std::string why) {
    report(self, *job, a, std::move(why));
    attempt_lost(self, job, job->round);
  };
  if (!st.signal || !st.signal_online)
    return lost("not tried: no signalling to agree the punch over");
  const auto* theirs = route_of(job->peer, a.remote_interface, a.fam);
  if (theirs == nullptr)
    return lost("not tried: the peer's route is gone");
  net::nat_profile peer;
  peer.nat = theirs->nat;
  peer.delta = theirs->delta;
  auto s = std::make_shared<punch_session>();
  s->id = ++st.next_request;
  s->peer_id = job->peer_id;
  s->peer_keys = job->peer.keys;
  s->initiator = true;
  s->job = job;
  s->plan = a;
  s->round = job->round;
  s->proto = job->opts.kind == transport::datagram ? net::protocol::udp : net::protocol::tcp;
  s->fam = a.fam;
  s->route = a.local_interface;
  s->bind = a.bind;
  s->started = self->clock().now();
  s->mapped = a.path == path_kind::mapped;
  if (s->mapped && s->proto != net::protocol::udp)
    return lost("not tried: a stream reaches a mapping by a direct connect");
  s->verdict = s->mapped ? mapped_verdict(a.target, own_profile(st, s->route, s->fam).nat)
                         : net::punch_feasibility(own_profile(st, s->route, s->fam), peer,
                                                  s->proto, st.spec.punch_limits);
  if (s->verdict.kind == net::punch_kind::impossible)
    return lost("refused at once: " + s->verdict.reason);
  report(self, *job, a, std::string{net::to_string(s->verdict.kind)} + ": " + s->verdict.reason);
  st.punches[{s->peer_id, s->id}] = s;
  auto prepare = s->mapped ? &prepare_mapped : &prepare_side<std::function<void()>>;
  prepare(self, s, [=] {
    if (s->at == punch_session::step::done)
      return;
    auto& st = self->state;
    s->ours.request_id = s->id;
    s->ours.phase = punch_phase::offer;
    s->ours.proto = s->proto;
    s->ours.fam = s->fam;
    s->ours.route = s->route;
    auto prof = own_profile(st, s->route, s->fam);
    s->ours.nat = prof.nat;
    s->ours.delta = prof.delta;
    s->ours.interval_ms = static_cast<uint32_t>(to_millis(st.spec.punch_interval).count());
    s->ours.window_ms = static_cast<uint32_t>(to_millis(st.spec.punch_window).count());
    s->ours.ephemeral_key = make_punch_key(*s);
    s->ours.mapped = s->mapped;
    s->at = punch_session::step::offered;
    s->offer_sent = self->clock().now();
    send_punch(self, *s, s->ours);
  });
}

void on_punch_message(node_actor_ptr self, const signal_message& msg) {
  auto& st = self->state;
  auto m = decode_punch(reinterpret_cast<const uint8_t*>(msg.plaintext.data()),
                        msg.plaintext.size());
  if (!m) {
    refuse_message(self, msg.sender, m.error().code, m.error().what);
    // Our punches with that peer waiting for its answer would otherwise wait
    // out their budget, with no word of why.
    std::vector<session_ptr> waiting;
    for (auto& kvp : st.punches)
      if (kvp.first.first == msg.sender && kvp.second->initiator
          && kvp.second->at == punch_session::step::offered)
        waiting.push_back(kvp.second);
    for (auto& s : waiting)
      punch_done(self, s, std::nullopt,
                 make_error(m.error().code, "the peer's punch message was refused: " + m.error().what));
    return;
  }
  if (m->phase == punch_phase::offer)
    return serve_offer(self, msg, *m);
  auto i = st.punches.find({msg.sender, m->request_id});
  if (i == st.punches.end() || i->second->at == punch_session::step::done)
    return refuse_message(self, msg.sender, errc::not_for_us,
                          std::string{"a "} + to_string(m->phase) + " for punch "
                            + std::to_string(m->request_id) + ", which nobody asked for");
  auto s = i->second;
  switch (m->phase) {
    case punch_phase::answer:
      if (!s->initiator)
        return refuse_message(self, msg.sender, errc::invalid_argument, "an answer to an answer");
      return on_answer(self, s, *m);
    case punch_phase::sync:
      if (s->initiator)
        return refuse_message(self, msg.sender, errc::invalid_argument, "a sync to the initiator");
      return on_sync(self, s, *m);
    case punch_phase::refuse:
      return punch_done(self, s, std::nullopt,
                        make_error(errc::connect_failed, "the peer refused: " + m->reason));
    default:
      return;
  }
}

void on_punch_timeout(node_actor_ptr self, const std::string& peer, uint64_t id, uint8_t step) {
  auto& st = self->state;
  auto i = st.punches.find({peer, id});
  if (i == st.punches.end() || static_cast<uint8_t>(i->second->at) != step)
    return;
  punch_done(self, i->second, std::nullopt,
             make_error(errc::connect_timeout, "the punch did not finish within punch_budget"));
}

void on_punch_go(node_actor_ptr self, const std::string& peer, uint64_t id) {
  auto& st = self->state;
  auto i = st.punches.find({peer, id});
  if (i == st.punches.end() || i->second->at != punch_session::step::answered)
    return;
  i->second->at = punch_session::step::punching;
  run_punch(self, i->second);
}

void cancel_punches(node_actor_ptr self, connect_job& job, const std::string& why) {
  auto& st = self->state;
  std::vector<session_ptr> mine;
  for (auto& kvp : st.punches)
    if (kvp.second->job.get() == &job)
      mine.push_back(kvp.second);
  for (auto& s : mine) {
    s->job = nullptr; // the job goes on without it
    report(self, job, s->plan, why);
    punch_done(self, s, std::nullopt, make_error(errc::connect_timeout, why));
  }
}

void end_punches(node_actor_ptr self) {
  std::vector<session_ptr> all;
  for (auto& kvp : self->state.punches)
    all.push_back(kvp.second);
  for (auto& s : all) {
    s->job = nullptr;
    punch_done(self, s, std::nullopt, make_error(errc::pipe_closed, "the node is closing"));
  }
}

void punch_done(node_actor_ptr self, std::shared_ptr<punch_session> s,
                std::optional<node_connection> conn, caf::error err) {
  if (s->at == punch_session::step::done)
    return;
  s->at = punch_session::step::done;
  auto& st = self->state;
  st.punches.erase({s->peer_id, s->id});
  if (!s->initiator && st.serving > 0)
    --st.serving;
  if (s->mapped && !s->initiator)
    st.mapped_udp_busy = false; // a link that won keeps the port: a test bind tells
  for (auto& p : s->pipes)
    if (!conn || p != conn->pipe)
      caf::anon_send(p, caf::close_atom::value);
  s->pipes.clear();
  if (s->turn) // not taken over by a UDP punch: its allocation goes
    caf::anon_send(s->turn, caf::close_atom::value);
  s->turn = nullptr;
  for (auto& [pipe, from] : s->awaiting)
    if (!conn || pipe != conn->pipe || from != conn->remote)
      drop_hello(self, pipe, from);
  s->awaiting.clear();
  if (s->stream_relay) {
    // A link keeps its allocation; it goes when the link's pipe ends.
    if (conn)
      st.stream_relays[conn->pipe.address()] = s->stream_relay;
    else
      caf::anon_send(s->stream_relay, caf::close_atom::value);
    s->stream_relay = nullptr;
  }
  s->runner.reset(); // the mechanism closes what it still holds
  auto job = s->job;
  s->job = nullptr;
  if (conn) {
    ++st.stats.punches;
    if (job && !job->done) {
      report(self, *job, s->plan, "won");
      return job_won(self, *job, *conn);
    }
    if (!s->initiator)
      ++st.stats.inbound;
    return add_link(self, *conn);
  }
  ++st.stats.punches_failed;
  if (job && !job->done) {
    report(self, *job, s->plan, render(err));
    return attempt_lost(self, job, s->round);
  }
  if (!s->initiator)
    st.progress("punch " + std::to_string(s->id) + " with " + s->peer_id + " failed: " + render(err));
}

} // namespace p2pd::node
