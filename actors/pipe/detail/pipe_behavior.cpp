// The pipe_actor interface over a pipe's core, for whichever actor hosts it.
#include "p2pd/actors/pipe/detail/pipe_behavior.hpp"

#include <algorithm>

#include "caf/actor_cast.hpp"

#include "p2pd/actors/common/timeouts.hpp"
#include "p2pd/actors/pipe/detail/pipe_open.hpp"
#include "p2pd/messages/errors.hpp"

namespace p2pd::actors {

namespace {

bool is_request(caf::scheduled_actor* self) {
  return self->current_message_id().is_request();
}

// A fire-and-forget send counts its failure; a requested one answers it.
caf::result<void> answer(caf::scheduled_actor* self, caf::error err) {
  if (err && is_request(self))
    return err;
  return caf::unit;
}

caf::result<pipe_msg> recv_from(pipe_state* ps, uint64_t queue, caf::timespan t) {
  auto& st = *ps;
  auto* self = st.self;
  auto rp = self->make_response_promise();
  auto wid = st.queues->recv(queue, rp);
  if (wid != 0) {
    if (st.life.phase() == pipe_state::phase::closed)
      st.queues->expire(queue, wid, st.closed_error());
    else
      ps->later(timeouts::or_default(t, st.spec.conf.recv_timeout),
                         recv_tmo_atom::value, queue, wid);
  }
  return rp;
}

caf::error recv_timeout_error(caf::timespan t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t);
  return make_error(errc::recv_timeout,
                    "no matching message within " + std::to_string(ms.count()) + " ms");
}

void remove_link(std::vector<caf::weak_actor_ptr>& xs, const caf::actor_addr& a) {
  xs.erase(std::remove_if(xs.begin(), xs.end(),
                          [&](const caf::weak_actor_ptr& x) {
                            return caf::actor_cast<caf::actor_addr>(x) == a;
                          }),
           xs.end());
}

} // namespace

caf::message_handler pipe_core_behavior(pipe_state* ps, pipe_spec spec) {
  auto& st = *ps;
  auto* self = st.self;
  st.spec = std::move(spec);
  st.queues = std::make_unique<receive_queues>(st.spec.conf.max_qsize);
  if (st.spec.conf.enable_msg_ids)
    st.dedupe = std::make_unique<dedupe_cache>(st.spec.conf.max_msg_ids);
  for (auto& s : st.spec.subscribers) {
    self->monitor(s.hdl);
    st.subs.push_back(s);
  }
  // Without a handler or message subscriber, keep what arrives for recv (the
  // seed's auto-subscription of pipes without msg_cb).
  bool consumed = st.spec.on_msg != nullptr
                  || std::any_of(st.subs.begin(), st.subs.end(), [](const subscriber& s) {
                       return (s.events & events::msgs) != 0;
                     });
  if (!consumed)
    st.queues->find_or_add(msg_filter::any());
  self->set_down_handler([ps](caf::down_msg& dm) {
    auto& st = *ps;
    if (dm.source == st.owner) {
      st.begin_close(caf::none);
      if (st.life.phase() == pipe_state::phase::closing)
        ps->later(st.spec.conf.con_timeout, close_tmo_atom::value);
      return;
    }
    auto n = st.subs.size();
    st.subs.erase(std::remove_if(st.subs.begin(), st.subs.end(),
                                 [&](const subscriber& s) { return s.hdl.address() == dm.source; }),
                  st.subs.end());
    st.stats.dead_subscribers += n - st.subs.size();
    remove_link(st.links, dm.source);
  });
  self->set_exit_handler([ps](caf::exit_msg& em) {
    ps->finish_close(em.reason, true);
  });
  return {
    // -- the pipe_actor interface ----------------------------------------------
    [self, ps](caf::open_atom) -> caf::result<pipe_info> {
      auto& st = *ps;
      switch (st.life.phase()) {
        case pipe_state::phase::open:
          return st.info;
        case pipe_state::phase::closing:
        case pipe_state::phase::closed:
          return st.closed_error();
        case pipe_state::phase::opening:
          return st.open_waiters.add(self);
        case pipe_state::phase::idle:
          break;
      }
      if (auto sender = self->current_sender()) {
        st.owner = caf::actor_cast<caf::actor_addr>(sender);
        self->monitor(sender);
      }
      auto rp = st.open_waiters.add(self);
      start_open(st);
      return rp;
    },
    [self, ps](send_atom, const bytes& data) -> caf::result<void> {
      return answer(self, ps->send_to(data.data(), data.size(), nullptr));
    },
    [self, ps](send_atom, const bytes& data, const endpoint& to) -> caf::result<void> {
      return answer(self, ps->send_to(data.data(), data.size(), &to));
    },
    [self, ps](caf::subscribe_atom, caf::actor& sub, uint8_t evs) -> caf::ok_atom {
      if (add_subscriber(ps->subs, sub, evs))
        self->monitor(sub);
      return caf::ok_atom::value;
    },
    [ps](caf::unsubscribe_atom, const caf::actor& sub) -> caf::ok_atom {
      remove_subscriber(ps->subs, sub);
      return caf::ok_atom::value;
    },
    [ps](queue_atom, const msg_filter& f) -> caf::result<uint64_t> {
      auto id = ps->queues->find_or_add(f);
      if (!id)
        return std::move(id.error());
      return *id;
    },
    [ps](caf::unsubscribe_atom, uint64_t id) -> caf::result<caf::ok_atom> {
      auto& st = *ps;
      if (!st.queues->remove(id, make_error(errc::unknown_subscription,
                                            "queue " + std::to_string(id) + " was removed")))
        return make_error(errc::unknown_subscription,
                          "no receive queue " + std::to_string(id));
      return caf::ok_atom::value;
    },
    [ps](recv_atom, uint64_t id, caf::timespan t) -> caf::result<pipe_msg> {
      if (!ps->queues->contains(id))
        return make_error(errc::unknown_subscription,
                          "no receive queue " + std::to_string(id) + " on this pipe");
      return recv_from(ps, id, t);
    },
    [ps](recv_atom, const msg_filter& f, caf::timespan t) -> caf::result<pipe_msg> {
      auto id = ps->queues->find_or_add(f);
      if (!id)
        return std::move(id.error());
      return recv_from(ps, *id, t);
    },
    [self, ps](ask_atom, bytes& data, const msg_filter& f) -> caf::result<pipe_msg> {
      auto& st = *ps;
      if (!st.spec.is_client())
        return make_error(errc::invalid_argument,
                          "ask needs a client pipe: a server has no default destination");
      auto q = st.queues->add_private(f); // before the send: a bad filter sends nothing
      if (!q)
        return std::move(q.error());
      if (auto err = st.send_to(data.data(), data.size(), nullptr)) {
        st.queues->remove(*q, err);
        return err;
      }
      auto rp = self->make_response_promise();
      auto wid = st.queues->recv(*q, rp);
      ps->later(st.spec.conf.recv_timeout, ask_tmo_atom::value, *q, wid,
                         std::move(data), st.spec.conf.send_retry);
      return rp;
    },
    [self, ps](caf::link_atom, const caf::actor& other) -> caf::result<caf::ok_atom> {
      auto& st = *ps;
      if (other.address() == self->address())
        return make_error(errc::link_rejected, "a pipe cannot be linked to itself");
      if (!other)
        return make_error(errc::link_rejected, "cannot link to an invalid actor");
      auto weak = caf::actor_cast<caf::weak_actor_ptr>(other);
      if (std::find(st.links.begin(), st.links.end(), weak) == st.links.end()) {
        self->monitor(other); // to forget the link when the other pipe ends
        st.links.push_back(std::move(weak));
      }
      return caf::ok_atom::value;
    },
    [ps](caf::unlink_atom, const caf::actor& other) -> caf::ok_atom {
      remove_link(ps->links, other.address());
      return caf::ok_atom::value;
    },
    [ps](info_atom) -> caf::result<pipe_info> {
      auto& st = *ps;
      if (st.life.phase() == pipe_state::phase::idle
          || st.life.phase() == pipe_state::phase::opening)
        return make_error(errc::pipe_closed, "the pipe is not open yet");
      return st.info;
    },
    [ps](stats_atom) -> pipe_stats {
      pipe_stats out;
      ps->fill_stats(out);
      return out;
    },
    [ps](clients_atom) -> std::vector<endpoint> {
      return ps->clients();
    },
    [self, ps](caf::close_atom) -> caf::result<caf::ok_atom> {
      auto& st = *ps;
      auto rp = st.life.wait_close(self); // answered once closed
      st.begin_close(caf::none);
      if (st.life.phase() == pipe_state::phase::closing)
        ps->later(st.spec.conf.con_timeout, close_tmo_atom::value);
      return rp;
    },
    [self, ps](caf::close_atom, const endpoint& peer) -> caf::result<caf::ok_atom> {
      auto& st = *ps;
      auto i = st.by_peer.find(peer);
      if (st.spec.is_client() && i != st.by_peer.end()) {
        // Its one connection: as close without a peer (the pipe ends), so
        // that a connection handed on as accepted closes the same way.
        auto rp = st.life.wait_close(self);
        st.begin_close(caf::none);
        if (st.life.phase() == pipe_state::phase::closing)
          ps->later(st.spec.conf.con_timeout, close_tmo_atom::value);
        return rp;
      }
      if (i == st.by_peer.end() || st.spec.is_client())
        return make_error(errc::unknown_peer, "no client " + peer.to_string()
                                                + " on the pipe on "
                                                + st.info.local.to_string());
      auto h = i->second;
      st.conns.at(h).stream->close();
      st.drop_conn(h, 0);
      return caf::ok_atom::value;
    },
    // -- internal ----------------------------------------------------------------
    [ps](recv_tmo_atom, uint64_t q, uint64_t wid) {
      auto& st = *ps;
      st.queues->expire(q, wid, recv_timeout_error(st.spec.conf.recv_timeout));
    },
    [ps](ask_tmo_atom, uint64_t q, uint64_t wid, bytes& data, uint32_t tries_left) {
      auto& st = *ps;
      if (!st.queues->waiting(q, wid))
        return; // answered
      if (tries_left == 0 || st.life.phase() != pipe_state::phase::open) {
        auto tries = st.spec.conf.send_retry - tries_left + 1;
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
          st.spec.conf.recv_timeout);
        st.queues->expire(q, wid,
                          make_error(errc::recv_timeout,
                                     "no reply after " + std::to_string(tries) + " tries, "
                                       + std::to_string(ms.count()) + " ms each"));
        return;
      }
      st.send_to(data.data(), data.size(), nullptr);
      ps->later(st.spec.conf.recv_timeout, ask_tmo_atom::value, q, wid,
                         std::move(data), tries_left - 1);
    },
    [ps](conn_tmo_atom, uint64_t id) { ps->transport->connect_timeout(id); },
    [ps](close_tmo_atom) {
      if (ps->life.phase() == pipe_state::phase::closing)
        ps->finish_close(caf::none, true);
    },
    [ps](tls_tmo_atom, stream_id h) { ps->tls_timeout(h); },
    [ps](preamble_tmo_atom, stream_id h) { ps->preamble_timeout(h); },
    [ps](sweep_atom) { ps->sweep(); },
  };
}

} // namespace p2pd::actors
