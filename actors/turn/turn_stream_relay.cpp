#include "p2pd/actors/turn/turn_stream_relay.hpp"

#include <algorithm>

#include "caf/actor_cast.hpp"

#include "p2pd/actors/common/timeouts.hpp"
#include "p2pd/actors/turn/detail/turn_close.hpp"
#include "p2pd/actors/turn/detail/turn_stream_state.hpp"
#include "p2pd/messages/errors.hpp"
#include "p2pd/net/turn/turn_tcp.hpp"

namespace p2pd {

caf::error turn_stream_relay_spec::check() const {
  std::optional<net::family> local_fam;
  if (local)
    local_fam = local->fam();
  if (auto err = check_turn_account("turn_stream_relay_spec", server, local_fam, lifetime_s,
                                    permission_refresh))
    return err;
  auto bad = [](std::string what) {
    return make_error(errc::invalid_argument, "turn_stream_relay_spec: " + std::move(what));
  };
  if (timing.tcp_timeout <= caf::timespan{0})
    return bad("timing.tcp_timeout must be positive");
  if (max_pending == 0)
    return bad("max_pending must be at least 1");
  if (data.proto != net::protocol::tcp || data.adopt_fd >= 0 || data.preamble)
    return bad("data: a TCP spec without adopt_fd or preamble (the relay sets those)");
  return {};
}

namespace actors {

namespace {

using turn_detail::close_gen;
using turn_detail::close_wait;
using turn_detail::ms;

net::turn_config session_config(const turn_stream_relay_spec& spec) {
  net::turn_config c;
  c.server = spec.server.server;
  c.username = spec.server.username;
  c.password = spec.server.password;
  c.stream = true;
  c.allocate.lifetime_s = spec.lifetime_s;
  c.allocate.relay_family = spec.relay_family;
  c.allocate.relay_transport = net::protocol::tcp;
  c.stream_timeout = ms(spec.timing.tcp_timeout);
  c.permission_refresh = ms(spec.permission_refresh);
  return c;
}

// A pipe toward the server from our local address, subscribed by the relay.
pipe_spec toward_server(relay_ptr self, pipe_spec ps, uint8_t events) {
  auto& spec = self->state.spec;
  ps.proto = net::protocol::tcp;
  ps.host = spec.server.server.ip.to_string();
  ps.port = spec.server.server.port;
  ps.fam = spec.server.server.fam();
  ps.local.reset();
  ps.route.reset();
  ps.bind.reset();
  if (spec.local)
    ps.local = endpoint{*spec.local, 0};
  ps.subscribers.push_back(subscriber{caf::actor_cast<caf::actor>(self), events});
  return ps;
}

void finish_end(relay_ptr self, const caf::error& reason) {
  auto& st = self->state;
  if (st.life.phase() == life_phase::closed)
    return;
  st.life.closed();
  if (st.control) {
    st.closing_control = true;
    // After every frame queued for the server, so the deletion goes out.
    caf::anon_send(st.control, caf::close_atom::value);
  }
  for (auto& p : st.data)
    caf::anon_send(p, caf::close_atom::value);
  st.data.clear();
  self->quit(reason);
}

} // namespace

relay_state::~relay_state() = default;

turn_relay_stats relay_state::current_stats() const {
  auto out = stats;
  if (session) {
    auto& c = session->counters();
    out.malformed = c.malformed;
    out.forged = c.forged;
    out.not_for_us = c.not_for_us;
  }
  return out;
}

void relay_state::bind(uint32_t cid, const endpoint& peer,
                       std::optional<caf::response_promise> rp) {
  auto fail = [&](caf::error err) {
    ++stats.binds_failed;
    if (rp)
      rp->deliver(std::move(err));
  };
  if (!session || !session->auth())
    return fail(make_error(errc::pipe_closed, "the TCP relay has no credentials to bind with"));
  auto id = net::stun_txid::random();
  auto req = net::build_turn_connection_bind(id, cid, *session->auth());
  if (!req)
    return fail(make_error(req.error()));
  auto ps = toward_server(self, spec.data, events::end);
  ps.preamble = pipe_preamble{
    std::string(req->begin(), req->end()),
    [id, key = session->auth()->key, cid](std::string_view b) -> net::result<size_t> {
      return net::check_turn_connection_bind(reinterpret_cast<const uint8_t*>(b.data()),
                                             b.size(), id, key, cid);
    }};
  auto pipe = stack_or_os(spec.stack).spawn_pipe(self->home_system(), std::move(ps));
  ++binding;
  auto me = self;
  self->request(pipe, timeouts::until_answered, caf::open_atom::value)
    .then(
      [me, pipe, peer, rp](pipe_info& info) mutable {
        auto& st = me->state;
        --st.binding;
        if (st.life.closing()) {
          caf::anon_send(pipe, caf::close_atom::value);
          if (rp)
            rp->deliver(make_error(errc::pipe_closed, "the TCP relay closed"));
          return;
        }
        st.data.push_back(pipe);
        turn_stream s{pipe, peer, info, me->address()};
        if (rp) {
          ++st.stats.connected;
          rp->deliver(std::move(s));
        } else {
          ++st.stats.accepted;
          if (st.spec.acceptor)
            caf::anon_send(st.spec.acceptor, std::move(s));
        }
      },
      [me, peer, rp](caf::error& err) mutable {
        auto& st = me->state;
        --st.binding;
        ++st.stats.binds_failed;
        if (rp)
          rp->deliver(make_error(code_of(err) == errc::none ? errc::connect_failed : code_of(err),
                                 "the data connection for " + peer.to_string()
                                   + " through TURN server "
                                   + st.spec.server.server.to_string()
                                   + " did not bind: " + render(err)));
      });
}

void relay_state::pump() {
  if (!session)
    return;
  for (auto& out : session->take_output())
    self->send(control, send_atom::value, bytes(out.begin(), out.end()));
  using k = net::turn_event::kind;
  for (auto& ev : session->take_events()) {
    switch (ev.what) {
      case k::allocated:
        if (life.phase() == life_phase::opening) {
          life.enter(life_phase::open);
          open_waiters.deliver_all(session->allocation()->relayed);
        }
        break;
      case k::lost:
        return end_relay(self, make_error(ev.err), false);
      case k::failed:
        return end_relay(self, make_error(ev.err), false);
      case k::closed:
        return finish_end(self, caf::none);
      case k::permitted:
      case k::permission_failed: {
        auto range = permits.equal_range(ev.peer.ip);
        for (auto i = range.first; i != range.second; ++i)
          if (ev.what == k::permitted)
            i->second.deliver(caf::ok_atom::value);
          else
            i->second.deliver(make_error(ev.err));
        permits.erase(range.first, range.second);
        break;
      }
      case k::connected: {
        auto i = connects.find(ev.tag);
        if (i == connects.end())
          break;
        auto rp = std::move(i->second);
        connects.erase(i);
        bind(ev.connection_id, ev.peer, std::move(rp));
        break;
      }
      case k::connect_failed: {
        auto i = connects.find(ev.tag);
        if (i == connects.end())
          break;
        i->second.deliver(make_error(ev.err));
        connects.erase(i);
        break;
      }
      case k::connection_attempt:
        if (pending() >= spec.max_pending) {
          ++stats.attempts_dropped;
          break;
        }
        bind(ev.connection_id, ev.peer, std::nullopt);
        break;
    }
  }
  auto next = session->next_tick();
  if (next && (!tick_at || *next < *tick_at)) {
    tick_at = next;
    auto delay = std::max(*next - self->clock().now(), net::turn_time::duration{0});
    self->delayed_send(self, delay, relay_tick_atom::value, ++tick_gen);
  }
}

void start_relay(relay_ptr self) {
  auto& st = self->state;
  if (auto err = st.spec.check())
    return end_relay(self, err, false);
  st.session.emplace(session_config(st.spec));
  auto ps = toward_server(self, pipe_spec{}, uint8_t(events::msgs | events::end));
  ps.conf.con_timeout = st.spec.timing.tcp_timeout;
  ps.framer = turn_stream_framer();
  st.control = stack_or_os(st.spec.stack).spawn_pipe(self->home_system(), std::move(ps));
  self->request(st.control, timeouts::until_answered, caf::open_atom::value)
    .then(
      [self](pipe_info&) {
        auto& st = self->state;
        if (st.life.phase() != life_phase::opening)
          return;
        st.session->start(self->clock().now());
        st.pump();
      },
      [self](caf::error& err) {
        end_relay(self,
                  make_error(errc::connect_failed,
                             "cannot connect to TURN server "
                               + self->state.spec.server.server.to_string() + ": "
                               + render(err)),
                  false);
      });
}

void end_relay(relay_ptr self, caf::error reason, bool graceful) {
  auto& st = self->state;
  if (st.life.closing())
    return;
  st.life.enter(life_phase::closing);
  auto why = reason ? reason : make_error(errc::pipe_closed, "the TCP relay was closed");
  st.open_waiters.deliver_all(why);
  for (auto& [tag, rp] : st.connects)
    rp.deliver(why);
  st.connects.clear();
  for (auto& [ip, rp] : st.permits)
    rp.deliver(why);
  st.permits.clear();
  if (graceful && st.session && st.session->state() == net::turn_state::allocated) {
    st.session->close(self->clock().now());
    st.pump(); // the deletion goes out; its answer ends the relay
    self->delayed_send(self, close_wait, relay_tick_atom::value, close_gen);
    return;
  }
  finish_end(self, reason);
}

void on_relay_tick(relay_ptr self, uint64_t gen) {
  auto& st = self->state;
  if (gen == close_gen)
    return finish_end(self, caf::none);
  if (gen != st.tick_gen || !st.session)
    return;
  st.tick_at.reset();
  st.session->tick(self->clock().now());
  st.pump();
}

namespace {

relay_impl::behavior_type relay_fn(relay_ptr self, turn_stream_relay_spec spec) {
  auto& st = self->state;
  st.self = self;
  st.spec = std::move(spec);
  self->set_down_handler([self](caf::down_msg& dm) {
    if (dm.source == self->state.owner)
      end_relay(self, caf::none, true);
  });
  return {
    [self](caf::open_atom) -> caf::result<endpoint> {
      auto& st = self->state;
      switch (st.life.phase()) {
        case life_phase::open:
          return st.session->allocation()->relayed;
        case life_phase::closing:
        case life_phase::closed:
          return make_error(errc::pipe_closed, "the TCP relay is closed");
        case life_phase::opening:
          return st.open_waiters.add(self);
        case life_phase::idle:
          break;
      }
      if (auto sender = self->current_sender()) {
        st.owner = caf::actor_cast<caf::actor_addr>(sender);
        self->monitor(sender);
      }
      st.life.enter(life_phase::opening);
      auto rp = st.open_waiters.add(self);
      start_relay(self);
      return rp;
    },
    [self](permit_atom, const endpoint& peer) -> caf::result<caf::ok_atom> {
      auto& st = self->state;
      if (!st.session || st.life.closing())
        return make_error(errc::pipe_closed, "the TCP relay is not open");
      if (auto err = st.session->permit(peer, self->clock().now()))
        return make_error(err);
      if (!st.session->permit_pending(peer.ip))
        return caf::ok_atom::value; // permitted before
      // Answered once the server installed it: a peer told to connect
      // right after must find it there.
      auto rp = self->make_response_promise();
      st.permits.emplace(peer.ip, rp);
      st.pump();
      return rp;
    },
    [self](turn_connect_atom, const endpoint& peer) -> caf::result<turn_stream> {
      auto& st = self->state;
      if (st.life.phase() != life_phase::open)
        return make_error(errc::pipe_closed, "the TCP relay is not open");
      if (st.pending() >= st.spec.max_pending) {
        ++st.stats.connects_refused;
        return make_error(errc::queue_full, std::to_string(st.pending())
                                              + " connections are being made through the"
                                                " relay already (max_pending)");
      }
      auto tag = st.next_tag++;
      if (auto err = st.session->connect(peer, tag, self->clock().now()))
        return make_error(err);
      auto rp = self->make_response_promise();
      st.connects.emplace(tag, rp);
      st.pump();
      return rp;
    },
    [self](stats_atom) -> turn_relay_stats { return self->state.current_stats(); },
    [self](caf::close_atom) -> caf::result<caf::ok_atom> {
      auto& st = self->state;
      if (st.life.phase() == life_phase::closed)
        return caf::ok_atom::value;
      auto rp = st.life.wait_close(self);
      end_relay(self, caf::none, true);
      return rp;
    },
    [self](relay_tick_atom, uint64_t gen) { on_relay_tick(self, gen); },
    [self](pipe_msg& m) {
      auto& st = self->state;
      if (m.pipe != st.control || !st.session || st.life.phase() == life_phase::closed)
        return;
      auto r = st.session->receive(reinterpret_cast<const uint8_t*>(m.data.data()), m.data.size(),
                                   self->clock().now());
      (void)r; // refusals are counted by the session
      st.pump();
    },
    [self](pipe_end& e) {
      auto& st = self->state;
      if (e.pipe == st.control) {
        if (!st.closing_control)
          end_relay(self,
                    make_error(errc::io_failed, "the connection to TURN server "
                                                  + st.spec.server.server.to_string()
                                                  + " ended (" + render(e.reason) + ")"),
                    false);
        return;
      }
      if (e.whole)
        st.data.erase(std::remove(st.data.begin(), st.data.end(), e.pipe), st.data.end());
    },
  };
}

} // namespace

} // namespace actors

turn_stream_relay_actor spawn_turn_stream_relay(caf::actor_system& sys,
                                                turn_stream_relay_spec spec) {
  return caf::actor_cast<turn_stream_relay_actor>(
    sys.spawn(actors::relay_fn, std::move(spec)));
}

} // namespace p2pd
