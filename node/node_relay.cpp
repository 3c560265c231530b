// Relays (strategy::relay): a UDP punch between two TURN allocations, or
// for a stream two TCP allocations joined by the server (node_relay_stream.cpp).
//
//   initiator: allocate on our TURN server -> offer (server, credentials,
//              our relayed address, ephemeral key)
//   responder: allocate on that server with those credentials -> answer
//              (its relayed address, ephemeral key)
//   then as any punch: sync, meeting, and the UDP punch (node_punch_run.cpp)
//              with the TURN pipe as its socket, aimed at the other relayed
//              address.
//
// Both allocations are on one server, so each side's sends to the other's
// relayed address give it the permission the other's sends need, whatever
// NATs are in between: a relay connects every pair that reaches the server.
// The datagrams are sealed with keys from the ephemeral keys (which travel
// in sealed, signed signalling), so the relay carries ciphertext only.
#include "p2pd/node/node_state.hpp"

#include "caf/send.hpp"

#include "p2pd/actors/common/timeouts.hpp"
#include "p2pd/actors/turn/turn_pipe.hpp"
#include "p2pd/messages/errors.hpp"

namespace p2pd::node {

namespace {

using session_ptr = std::shared_ptr<punch_session>;

const turn_server* turn_of(const node_state& st, net::family fam) {
  for (auto& t : st.spec.turn)
    if (t.server.fam() == fam && t.server.port != 0)
      return &t;
  return nullptr;
}

// How we reach the server: over TCP when our route's UDP is blocked (the
// interface's probes got no UDP answer), which TURN allows for exactly
// that (RFC 8656 §3.1); the relayed address is UDP either way.
turn_server reachable(const node_state& st, const punch_session& s, turn_server server) {
  if (s.route < st.snaps.size() && st.snaps[s.route].nat(s.fam).nat == net::nat_type::blocked)
    server.transport = net::protocol::tcp;
  return server;
}

// A relay session that cannot go on ends; a responder's tells the initiator
// why at once (it would otherwise wait out its budget).
void relay_failed(node_actor_ptr self, session_ptr s, errc code, std::string why) {
  if (!s->initiator && s->at != punch_session::step::done) {
    punch_message no;
    no.request_id = s->id;
    no.phase = punch_phase::refuse;
    no.reason = why.substr(0, max_punch_reason);
    send_punch(self, *s, no);
  }
  punch_done(self, s, std::nullopt, make_error(code == errc::none ? errc::connect_failed : code, why));
}

// Allocates on `server` from our NIC address of the session's route: a
// TURN pipe (UDP allocation) for datagrams, a TCP allocation for streams.
// `then` runs once s->relayed is set. A responder whose allocation fails
// says so to the initiator, which then ends its attempt at once.
template <class F>
void allocate(node_actor_ptr self, session_ptr s, const turn_server& server, F then) {
  auto& st = self->state;
  auto failed = [=](caf::error& err) {
    bool tcp = server.transport == net::protocol::tcp || s->proto == net::protocol::tcp;
    relay_failed(self, s, code_of(err),
                   "no " + std::string{s->proto == net::protocol::tcp ? "TCP " : ""}
                     + "allocation on TURN server " + server.server.to_string() + " over "
                     + (tcp ? "TCP" : "UDP") + ": " + render(err));
  };
  // The allocation bounds its open (its retransmissions); the punch budget
  // bounds the session anyway.
  if (s->proto == net::protocol::tcp) {
    s->stream_relay = spawn_stream_relay(self, *s, server);
    self->request(s->stream_relay, timeouts::until_answered, caf::open_atom::value)
      .then(
        [=](endpoint& relayed) {
          if (s->at == punch_session::step::done)
            return;
          s->relayed = relayed;
          then();
        },
        failed);
    return;
  }
  turn_pipe_spec t;
  t.server = server;
  t.relay_family = s->fam;
  t.local = endpoint{s->bind, 0};
  t.timing = st.spec.turn_timing;
  t.stack = st.spec.stack;
  s->turn = spawn_turn_pipe(self->home_system(), std::move(t));
  self->request(s->turn, timeouts::until_answered, caf::open_atom::value)
    .then(
      [=](pipe_info& info) {
        if (s->at == punch_session::step::done)
          return;
        s->relayed = info.local;
        then();
      },
      failed);
}

// Our offer or answer: no predictions (the relayed address is the target),
// the exchange's timing, a fresh key.
void fill_ours(node_actor_ptr self, punch_session& s, punch_phase phase) {
  auto& st = self->state;
  s.ours.request_id = s.id;
  s.ours.phase = phase;
  s.ours.proto = s.proto;
  s.ours.fam = s.fam;
  s.ours.route = s.route;
  if (phase == punch_phase::offer) {
    s.ours.interval_ms = static_cast<uint32_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(st.spec.punch_interval).count());
    s.ours.window_ms = static_cast<uint32_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(st.spec.punch_window).count());
  } else {
    s.ours.interval_ms = s.theirs->interval_ms;
    s.ours.window_ms = s.theirs->window_ms;
  }
  s.ours.ephemeral_key = make_punch_key(s);
}

} // namespace

void start_relay(node_actor_ptr self, std::shared_ptr<connect_job> job, const attempt& a) {
  auto& st = self->state;
  auto lost = [&](std::string why) {
    report(self, *job, a, std::move(why));
    attempt_lost(self, job, job->round);
  };
  if (!st.signal || !st.signal_online)
    return lost("not tried: no signalling to offer the relay over");
  const auto* server = turn_of(st, a.fam);
  if (server == nullptr)
    return lost(std::string{"not tried: no TURN server of "} + net::to_string(a.fam));
  auto s = std::make_shared<punch_session>();
  s->id = ++st.next_request;
  s->peer_id = job->peer_id;
  s->peer_keys = job->peer.keys;
  s->initiator = true;
  s->relay = true;
  s->job = job;
  s->plan = a;
  s->round = job->round;
  s->proto = job->opts.kind == transport::stream ? net::protocol::tcp : net::protocol::udp;
  s->fam = a.fam;
  s->route = a.local_interface;
  s->bind = a.bind;
  s->started = self->clock().now();
  auto srv = reachable(st, *s, *server);
  report(self, *job, a,
         "allocating on TURN server " + srv.server.to_string()
           + (s->proto == net::protocol::tcp               ? " (TCP allocation)"
              : srv.transport == net::protocol::tcp ? " over TCP (our UDP is blocked)"
                                                    : ""));
  st.punches[{s->peer_id, s->id}] = s;
  allocate(self, s, srv, [=] {
    fill_ours(self, *s, punch_phase::offer);
    // A TCP allocation is made over TCP whatever the server entry says.
    auto how = s->proto == net::protocol::tcp ? net::protocol::tcp : srv.transport;
    s->ours.relay = punch_relay_info{srv.server, how, srv.username, srv.password, s->relayed};
    s->at = punch_session::step::offered;
    s->offer_sent = self->clock().now();
    if (s->job)
      report(self, *s->job, s->plan, "relayed address " + s->relayed.to_string() + " offered");
    send_punch(self, *s, s->ours);
  });
}

void serve_relay(node_actor_ptr self, std::shared_ptr<punch_session> s) {
  const auto& offer = *s->theirs->relay;
  auto& st = self->state;
  auto server = reachable(st, *s,
                          turn_server{offer.server, net::protocol::udp, offer.username,
                                      offer.password});
  auto answer = [=] {
    fill_ours(self, *s, punch_phase::answer);
    // The answer names no credentials: they were the offerer's.
    s->ours.relay = punch_relay_info{s->theirs->relay->server, s->theirs->relay->transport, {},
                                     {}, s->relayed};
    s->at = punch_session::step::offered;
    send_punch(self, *s, s->ours);
  };
  allocate(self, s, server, [=] {
    if (s->proto != net::protocol::tcp)
      return answer();
    // A stream comes in as a connection from the initiator's relayed
    // address, which the server lets through once we permit it; the
    // answer waits for that, so the initiator's Connect finds it in place.
    auto from = s->theirs->relay->relayed;
    self->request(s->stream_relay, timeouts::until_answered, permit_atom::value, from)
      .then(
        [=](caf::ok_atom) {
          if (s->at != punch_session::step::done)
            answer();
        },
        [=](caf::error& err) {
          relay_failed(self, s, code_of(err),
                         "TURN server " + server.server.to_string() + " did not permit "
                           + from.to_string() + ": " + render(err));
        });
  });
}

} // namespace p2pd::node
