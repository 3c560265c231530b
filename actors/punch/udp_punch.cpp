#include "p2pd/actors/punch/udp_punch.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include "caf/actor_cast.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "p2pd/actors/punch/detail/punch_state.hpp"
#include "p2pd/messages/errors.hpp"
#include "p2pd/net/punch/datagram_seal.hpp"

namespace p2pd {

caf::error udp_punch_spec::check() const {
  auto bad = [](std::string what) {
    return make_error(errc::invalid_argument, "udp_punch_spec: " + std::move(what));
  };
  // Every socket's address: the local ones, then the relays'.
  std::vector<endpoint> all = local;
  for (const auto& r : relays) {
    if (!r.pipe)
      return bad("a relay without a pipe");
    all.push_back(r.relayed);
  }
  if (all.empty())
    return bad("no local endpoint to bind, and no relay");
  if (all.size() > udp_punch_defaults::max_sockets)
    return bad(std::to_string(all.size()) + " sockets (at most "
               + std::to_string(udp_punch_defaults::max_sockets) + ")");
  if (answer_only && (!targets.empty() || spray_probes > 0))
    return bad("an answering side probes nobody: no targets, no spray");
  if (!answer_only && targets.empty() && (spray_probes == 0 || !spray_ip))
    return bad("nothing to probe: no target, and no spray with an IP");
  auto fam = all.front().fam();
  for (const auto& l : all)
    if (l.fam() != fam)
      return bad("sockets of two families (" + all.front().to_string() + ", "
                 + l.to_string() + ")");
  for (const auto& t : targets)
    if (t.fam() != fam || t.port == 0 || t.ip.is_any())
      return bad("target " + t.to_string() + " cannot be reached from "
                 + all.front().to_string());
  if (spray_probes > 0) {
    auto ip = spray_ip ? *spray_ip : targets.front().ip;
    if (ip.fam() != fam)
      return bad("spray address " + ip.to_string() + " of another family");
    if (spray_port_min == 0 || spray_port_min > spray_port_max)
      return bad("spray ports " + std::to_string(spray_port_min) + "-"
                 + std::to_string(spray_port_max) + " are no range");
    if (spray_probes > size_t{spray_port_max} - spray_port_min + 1)
      return bad(std::to_string(spray_probes) + " spray probes in a range of "
                 + std::to_string(size_t{spray_port_max} - spray_port_min + 1) + " ports");
  }
  if (interval <= caf::timespan{0} || window <= caf::timespan{0})
    return bad("interval and window must be positive");
  if (keepalive <= caf::timespan{0} || idle_timeout <= keepalive)
    return bad("keepalive must be positive and idle_timeout longer than it (the peer's "
               "keepalives are what keeps the path from idling)");
  if (max_datagram == 0 || max_datagram > net::max_frame_payload)
    return bad("max_datagram " + std::to_string(max_datagram) + " is not in 1-"
               + std::to_string(net::max_frame_payload));
  if (max_probes == 0 || nominate_tries == 0)
    return bad("max_probes and nominate_tries must be at least 1");
  if (conf.max_qsize == 0)
    return bad("conf.max_qsize must be at least 1 (it bounds the datagrams waiting)");
  return {};
}

namespace actors {

namespace {

caf::result<void> answer(punch_ptr self, caf::error err) {
  if (err && self->current_message_id().is_request())
    return err;
  return caf::unit;
}

caf::error no_queues() {
  return make_error(errc::invalid_argument,
                    "a punched pipe keeps no receive queues: subscribe to it for events::msgs");
}

punch_impl::behavior_type udp_punch_fn(punch_ptr self, udp_punch_spec spec) {
  auto& st = self->state;
  st.spec = std::move(spec);
  st.hdl = caf::actor_cast<pipe_actor>(self);
  for (auto& s : st.spec.subscribers) {
    self->monitor(s.hdl);
    st.subs.push_back(s);
  }
  self->set_default_handler(caf::drop); // stray answers of the sockets
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    if (dm.source == st.owner)
      return end_punch(self, caf::none, true);
    for (size_t j = 0; j < st.sockets.size(); ++j) {
      auto& s = st.sockets[j];
      if (s.pipe.address() != dm.source)
        continue;
      if (s.closing)
        return; // we closed it
      s.open = false;
      auto why = "the punch's socket on " + s.local.to_string() + " ended ("
                 + render(dm.reason) + ")";
      bool path = st.session && st.session->path() && st.session->path()->socket == j;
      bool none_left = std::none_of(st.sockets.begin(), st.sockets.end(),
                                    [](const punch_socket& x) { return x.open; });
      if ((st.life.phase() == life_phase::open && path)
          || (st.life.phase() == life_phase::opening && none_left && st.sockets_opening == 0))
        end_punch(self, make_error(errc::io_failed, why), false);
      return;
    }
    auto n = st.subs.size();
    st.subs.erase(std::remove_if(st.subs.begin(), st.subs.end(),
                                 [&](const subscriber& s) { return s.hdl.address() == dm.source; }),
                  st.subs.end());
    st.stats.dead_subscribers += n - st.subs.size();
  });
  return {
    // -- the pipe_actor interface ----------------------------------------------
    [self](caf::open_atom) -> caf::result<pipe_info> {
      auto& st = self->state;
      switch (st.life.phase()) {
        case life_phase::open:
          return st.info;
        case life_phase::closing:
        case life_phase::closed:
          return make_error(errc::pipe_closed, "the punched pipe is closed");
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
      start_punch(self);
      return rp;
    },
    [self](send_atom, const bytes& data) -> caf::result<void> {
      return answer(self, send_data(self, data, nullptr));
    },
    [self](send_atom, const bytes& data, const endpoint& to) -> caf::result<void> {
      return answer(self, send_data(self, data, &to));
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
    [](queue_atom, const msg_filter&) -> caf::result<uint64_t> { return no_queues(); },
    [](caf::unsubscribe_atom, uint64_t id) -> caf::result<caf::ok_atom> {
      return make_error(errc::unknown_subscription,
                        "no receive queue " + std::to_string(id)
                          + ": a punched pipe keeps none");
    },
    [](recv_atom, uint64_t, caf::timespan) -> caf::result<pipe_msg> { return no_queues(); },
    [](recv_atom, const msg_filter&, caf::timespan) -> caf::result<pipe_msg> {
      return no_queues();
    },
    [](ask_atom, const bytes&, const msg_filter&) -> caf::result<pipe_msg> {
      return make_error(errc::invalid_argument,
                        "a punched pipe does not ask: send, and get the answer as a subscriber");
    },
    [](caf::link_atom, const caf::actor&) -> caf::result<caf::ok_atom> {
      return make_error(errc::link_rejected,
                        "a punched pipe cannot be linked: its datagrams are sealed for one "
                        "peer; subscribe and forward instead");
    },
    [](caf::unlink_atom, const caf::actor&) -> caf::ok_atom {
      return caf::ok_atom::value; // nothing is linked
    },
    [self](info_atom) -> caf::result<pipe_info> {
      auto& st = self->state;
      if (st.life.phase() != life_phase::open)
        return make_error(errc::pipe_closed, st.life.closing() ? "the punched pipe is closed"
                                                               : "the punch has no path yet");
      return st.info;
    },
    [self](stats_atom) -> pipe_stats { return current_stats(self); },
    [](clients_atom) -> caf::result<std::vector<endpoint>> {
      return make_error(errc::invalid_argument,
                        "a punched pipe has no clients: its one peer is pipe_info::remote");
    },
    [self](caf::close_atom) -> caf::result<caf::ok_atom> {
      auto& st = self->state;
      if (st.life.phase() == life_phase::closed)
        return caf::ok_atom::value;
      auto rp = st.life.wait_close(self); // answered once closed
      end_punch(self, caf::none, true);
      return rp;
    },
    [](caf::close_atom, const endpoint& peer) -> caf::result<caf::ok_atom> {
      return make_error(errc::unknown_peer, "a punched pipe has no client " + peer.to_string()
                                              + " to close: close the pipe");
    },
    // -- internal ----------------------------------------------------------------
    [self](punch_dgram_atom, uint32_t i, const bytes& data, const endpoint& from) {
      on_datagram(self, i, data, from);
    },
    [self](punch_start_atom) { probe_round(self); },
    [self](punch_round_atom) { probe_round(self); },
    [self](punch_window_atom) { window_over(self); },
    [self](punch_nominate_atom) { renominate(self); },
    [self](punch_tick_atom) { tick(self); },
    [self](pipe_error& e) {
      // A socket dropped an oversized datagram (it counts it, we do too).
      auto& st = self->state;
      ++st.stats.dropped_oversized;
      e.pipe = st.hdl;
      notify(self, events::errors, caf::make_message(std::move(e)));
    },
  };
}

} // namespace

} // namespace actors

pipe_actor spawn_udp_punch(caf::actor_system& sys, udp_punch_spec spec) {
  if (!spec.stack)
    spec.stack = os_stack();
  return caf::actor_cast<pipe_actor>(sys.spawn(actors::udp_punch_fn, std::move(spec)));
}

} // namespace p2pd
