#include "p2pd/actors/turn/turn_pipe.hpp"

#include <algorithm>

#include "caf/actor_cast.hpp"

#include "p2pd/actors/common/timeouts.hpp"
#include "p2pd/actors/pipe/detail/receive_queues.hpp"
#include "p2pd/actors/turn/detail/turn_pipe_state.hpp"
#include "p2pd/messages/errors.hpp"
#include "p2pd/net/turn/channel_data.hpp"

namespace p2pd {

caf::error check_turn_account(const char* who, const turn_server& server,
                              std::optional<net::family> local_fam, uint32_t lifetime_s,
                              caf::timespan permission_refresh) {
  auto bad = [who](std::string what) {
    return make_error(errc::invalid_argument, std::string{who} + ": " + std::move(what));
  };
  if (server.server.port == 0 || server.server.ip.is_any())
    return bad("no TURN server address (" + server.server.to_string() + ")");
  if (server.username.empty())
    return bad("no username: TURN servers ask for long-term credentials");
  if (local_fam && *local_fam != server.server.fam())
    return bad(std::string{"a local address of "} + net::to_string(*local_fam)
               + " cannot reach server " + server.server.to_string());
  if (lifetime_s == 0)
    return bad("a lifetime of 0 s deletes the allocation it asks for");
  if (permission_refresh <= caf::timespan{0} || permission_refresh >= std::chrono::seconds(300))
    return bad("permission_refresh must be positive and under the permissions' 300 s");
  return {};
}

framer_fn turn_stream_framer() {
  return [](std::string_view b) -> net::result<size_t> {
    auto n = net::turn_stream_frame_size(reinterpret_cast<const uint8_t*>(b.data()), b.size());
    if (!n)
      return n.error();
    return n->value_or(0);
  };
}

caf::error turn_pipe_spec::check() const {
  std::optional<net::family> local_fam;
  if (local)
    local_fam = local->fam();
  if (auto err = check_turn_account("turn_pipe_spec", server, local_fam, lifetime_s,
                                    permission_refresh))
    return err;
  auto bad = [](std::string what) {
    return make_error(errc::invalid_argument, "turn_pipe_spec: " + std::move(what));
  };
  if (timing.rto <= caf::timespan{0} || timing.max_sends == 0)
    return bad("timing: rto and max_sends must be positive");
  if (max_peers == 0 || conf.max_qsize == 0)
    return bad("max_peers and conf.max_qsize must be at least 1");
  return {};
}

std::vector<turn_server> turn_servers_of(const std::vector<net::server_entry>& list,
                                         std::vector<std::string>* skipped) {
  std::vector<turn_server> out;
  for (const auto& e : list) {
    if (e.kind != net::server_kind::turn)
      continue;
    auto line = "line " + std::to_string(e.line) + ": turn " + e.host + ":"
                + std::to_string(e.port) + ": ";
    auto ip = net::ip_address::parse(e.host);
    if (!ip) {
      if (skipped != nullptr)
        skipped->push_back(line + "a host name; give an IP literal");
      continue;
    }
    if (e.username.empty()) {
      if (skipped != nullptr)
        skipped->push_back(line + "no credentials (turn host:port user password)");
      continue;
    }
    out.push_back(turn_server{endpoint{*ip, e.port}, net::protocol::udp, e.username, e.password});
  }
  return out;
}

namespace actors {

namespace {

caf::result<void> answer(turn_ptr self, caf::error err) {
  if (err && self->current_message_id().is_request())
    return err;
  return caf::unit;
}

caf::result<pipe_msg> recv_from(turn_ptr self, uint64_t queue, caf::timespan t) {
  auto& st = self->state;
  auto rp = self->make_response_promise();
  auto wid = st.queues->recv(queue, rp);
  if (wid != 0) {
    auto wait = timeouts::or_default(t, st.spec.conf.recv_timeout);
    if (st.life.closing())
      st.queues->expire(queue, wid, make_error(errc::pipe_closed, "the TURN pipe is closed"));
    else
      self->delayed_send(self, wait, turn_recv_tmo_atom::value, queue, wid);
  }
  return rp;
}

turn_impl::behavior_type turn_pipe_fn(turn_ptr self, turn_pipe_spec spec) {
  auto& st = self->state;
  st.self = self;
  st.spec = std::move(spec);
  // st.hdl is set by open: a handle to itself in its own state would keep
  // a pipe that is never opened alive for ever.
  st.queues = std::make_unique<receive_queues>(st.spec.conf.max_qsize);
  for (auto& s : st.spec.subscribers) {
    self->monitor(s.hdl);
    st.subs.push_back(s);
  }
  self->set_default_handler(caf::drop); // the socket's answers to our sends
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    if (dm.source == st.owner)
      return end_turn(self, caf::none, true);
    if (st.server && dm.source == st.server.address()) {
      if (!st.closing_server)
        end_turn(self,
                 make_error(errc::io_failed, "the socket toward TURN server "
                                               + st.spec.server.server.to_string()
                                               + " ended (" + render(dm.reason) + ")"),
                 false);
      return;
    }
    auto n = st.subs.size();
    st.subs.erase(std::remove_if(st.subs.begin(), st.subs.end(),
                                 [&](const subscriber& s) { return s.hdl.address() == dm.source; }),
                  st.subs.end());
    st.stats.dead_subscribers += n - st.subs.size();
    st.links.erase(std::remove_if(st.links.begin(), st.links.end(),
                                  [&](const caf::weak_actor_ptr& x) {
                                    return caf::actor_cast<caf::actor_addr>(x) == dm.source;
                                  }),
                   st.links.end());
  });
  return {
    [self](caf::open_atom) -> caf::result<pipe_info> {
      auto& st = self->state;
      switch (st.life.phase()) {
        case life_phase::open:
          return st.info;
        case life_phase::closing:
        case life_phase::closed:
          return make_error(errc::pipe_closed, "the TURN pipe is closed");
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
      st.hdl = caf::actor_cast<pipe_actor>(self);
      auto rp = st.open_waiters.add(self);
      start_turn(self);
      return rp;
    },
    [self](send_atom, const bytes&) -> caf::result<void> {
      ++self->state.stats.dropped_send;
      return answer(self, make_error(errc::unknown_peer,
                                     "a TURN pipe has no default destination: send to a peer"));
    },
    [self](send_atom, const bytes& data, const endpoint& to) -> caf::result<void> {
      return answer(self, self->state.send_to(data.data(), data.size(), to));
    },
    [self](permit_atom, const endpoint& peer) -> caf::result<caf::ok_atom> {
      auto& st = self->state;
      if (!st.session || st.life.closing())
        return make_error(errc::pipe_closed, "the TURN pipe is not open");
      if (auto err = st.session->permit(peer, self->clock().now()))
        return make_error(err);
      st.pump();
      return caf::ok_atom::value;
    },
    [self](handler_atom, msg_handler& h) -> caf::result<pipe_info> {
      auto& st = self->state;
      if (st.life.phase() != life_phase::open)
        return make_error(errc::pipe_closed, st.life.closing()
                                               ? "the TURN pipe is closed"
                                               : "the TURN pipe has no allocation yet");
      st.spec.on_msg = std::move(h);
      return st.info;
    },
    [self](caf::subscribe_atom, caf::actor& sub, uint8_t evs) -> caf::ok_atom {
      if (add_subscriber(self->state.subs, sub, evs))
        self->monitor(sub);
      return caf::ok_atom::value;
    },
    [self](caf::unsubscribe_atom, const caf::actor& sub) -> caf::ok_atom {
      remove_subscriber(self->state.subs, sub);
      return caf::ok_atom::value;
    },
    [self](queue_atom, const msg_filter& f) -> caf::result<uint64_t> {
      auto id = self->state.queues->find_or_add(f);
      if (!id)
        return std::move(id.error());
      return *id;
    },
    [self](caf::unsubscribe_atom, uint64_t id) -> caf::result<caf::ok_atom> {
      if (!self->state.queues->remove(id, make_error(errc::unknown_subscription,
                                                     "queue " + std::to_string(id)
                                                       + " was removed")))
        return make_error(errc::unknown_subscription, "no receive queue " + std::to_string(id));
      return caf::ok_atom::value;
    },
    [self](recv_atom, uint64_t id, caf::timespan t) -> caf::result<pipe_msg> {
      if (!self->state.queues->contains(id))
        return make_error(errc::unknown_subscription,
                          "no receive queue " + std::to_string(id) + " on this pipe");
      return recv_from(self, id, t);
    },
    [self](recv_atom, const msg_filter& f, caf::timespan t) -> caf::result<pipe_msg> {
      auto id = self->state.queues->find_or_add(f);
      if (!id)
        return std::move(id.error());
      return recv_from(self, *id, t);
    },
    [](ask_atom, const bytes&, const msg_filter&) -> caf::result<pipe_msg> {
      return make_error(errc::invalid_argument,
                        "ask needs a default destination, which a TURN pipe has not: send to "
                        "the peer and recv its answer");
    },
    [self](caf::link_atom, const caf::actor& other) -> caf::result<caf::ok_atom> {
      auto& st = self->state;
      if (!other || other.address() == self->address())
        return make_error(errc::link_rejected, "a pipe cannot be linked to itself or nothing");
      auto weak = caf::actor_cast<caf::weak_actor_ptr>(other);
      if (std::find(st.links.begin(), st.links.end(), weak) == st.links.end()) {
        self->monitor(other);
        st.links.push_back(std::move(weak));
      }
      return caf::ok_atom::value;
    },
    [self](caf::unlink_atom, const caf::actor& other) -> caf::ok_atom {
      auto& links = self->state.links;
      links.erase(std::remove_if(links.begin(), links.end(),
                                 [&](const caf::weak_actor_ptr& x) {
                                   return caf::actor_cast<caf::actor_addr>(x) == other.address();
                                 }),
                  links.end());
      return caf::ok_atom::value;
    },
    [self](info_atom) -> caf::result<pipe_info> {
      auto& st = self->state;
      if (st.life.phase() != life_phase::open)
        return make_error(errc::pipe_closed, st.life.closing()
                                               ? "the TURN pipe is closed"
                                               : "the TURN pipe has no allocation yet");
      return st.info;
    },
    [self](stats_atom) -> pipe_stats { return self->state.current_stats(); },
    [self](clients_atom) -> std::vector<endpoint> {
      std::vector<endpoint> out;
      if (auto& s = self->state.session)
        out = s->peers();
      return out;
    },
    [self](caf::close_atom) -> caf::result<caf::ok_atom> {
      auto& st = self->state;
      if (st.life.phase() == life_phase::closed)
        return caf::ok_atom::value;
      auto rp = st.life.wait_close(self);
      end_turn(self, caf::none, true);
      return rp;
    },
    [self](caf::close_atom, const endpoint& peer) -> caf::result<caf::ok_atom> {
      auto& s = self->state.session;
      if (!s || !s->forget(peer))
        return make_error(errc::unknown_peer,
                          "the TURN pipe has no channel to " + peer.to_string());
      return caf::ok_atom::value;
    },
    // -- internal ----------------------------------------------------------------
    [self](turn_frame_atom, const bytes& frame, const endpoint& from) {
      on_frame(self, frame, from);
    },
    [self](turn_tick_atom, uint64_t gen) { on_tick(self, gen); },
    [self](turn_recv_tmo_atom, uint64_t q, uint64_t wid) {
      auto& st = self->state;
      st.queues->expire(q, wid, make_error(errc::recv_timeout, "no matching message in time"));
    },
    [](pipe_end&) {
      // The socket's end; its down message (monitored) says why.
    },
    [self](pipe_error& e) {
      auto& st = self->state;
      ++st.stats.dropped_oversized;
      e.pipe = st.hdl;
      st.notify(events::errors, caf::make_message(std::move(e)));
    },
  };
}

} // namespace

} // namespace actors

turn_pipe_actor spawn_turn_pipe(caf::actor_system& sys, turn_pipe_spec spec) {
  if (!spec.stack)
    spec.stack = os_stack();
  return caf::actor_cast<turn_pipe_actor>(sys.spawn(actors::turn_pipe_fn, std::move(spec)));
}

} // namespace p2pd
