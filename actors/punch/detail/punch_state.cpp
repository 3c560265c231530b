#include "p2pd/actors/punch/detail/punch_state.hpp"

#include <algorithm>
#include <chrono>
#include <numeric>
#include <random>
#include <string>
#include <utility>

#include "caf/send.hpp"

#include "p2pd/actors/common/timeouts.hpp"
#include "p2pd/actors/pipe/pipe_spec.hpp"
#include "p2pd/messages/errors.hpp"

namespace p2pd::actors {

namespace {

// Sources of the peer remembered for send (bytes, endpoint): the path's
// first remote and the ones it rebound to, the oldest forgotten first.
constexpr size_t max_peer_sources = 8;

net::byte_view view_of(const bytes& b) {
  return {reinterpret_cast<const uint8_t*>(b.data()), b.size()};
}

std::string summary(punch_ptr self) {
  auto& st = self->state;
  return st.session ? st.session->summary() : std::string{"nothing sent"};
}

void transmit(punch_ptr self, const net::punch_send& s) {
  auto& st = self->state;
  if (s.socket >= st.sockets.size() || !st.sockets[s.socket].open)
    return;
  // anon_send: a pipe answers a send only when it was requested.
  caf::anon_send(st.sockets[s.socket].pipe, send_atom::value, bytes(s.bytes.begin(), s.bytes.end()),
                 s.to);
  st.last_tx = self->clock().now();
}

void transmit_all(punch_ptr self, const std::vector<net::punch_send>& xs) {
  for (const auto& x : xs)
    transmit(self, x);
}

// Datagrams reach the punch through this handler, which runs on the I/O
// thread as each arrives; at most conf.max_qsize wait in its mailbox.
msg_handler inbox_handler(punch_ptr self, uint32_t index) {
  return [weak = caf::weak_actor_ptr{self->ctrl()}, inbox = self->state.inbox,
          limit = size_t{self->state.spec.conf.max_qsize},
          index](pipe_io&, std::string_view data, const endpoint& from) {
    if (inbox->queued.fetch_add(1) >= limit) {
      inbox->queued.fetch_sub(1);
      inbox->dropped.fetch_add(1);
      return;
    }
    auto hdl = weak.lock();
    if (!hdl) {
      inbox->queued.fetch_sub(1);
      return;
    }
    caf::anon_send(caf::actor_cast<caf::actor>(std::move(hdl)), punch_dgram_atom::value, index,
                   bytes(data.begin(), data.end()), from);
  };
}

// The ports of a spray: distinct, drawn from the seed, none a target's.
std::vector<endpoint> spray_endpoints(const udp_punch_spec& spec) {
  std::vector<endpoint> out;
  if (spec.spray_probes == 0)
    return out;
  auto ip = spec.spray_ip ? *spec.spray_ip : spec.targets.front().ip;
  std::vector<uint16_t> ports;
  for (uint32_t p = spec.spray_port_min; p <= spec.spray_port_max; ++p)
    if (std::none_of(spec.targets.begin(), spec.targets.end(),
                     [&](const endpoint& t) { return t.ip == ip && t.port == p; }))
      ports.push_back(static_cast<uint16_t>(p));
  // A partial Fisher-Yates shuffle: the first spray_probes are the draw.
  std::mt19937_64 rng{spec.spray_seed};
  auto n = std::min(spec.spray_probes, ports.size());
  for (size_t i = 0; i < n; ++i) {
    std::uniform_int_distribution<size_t> pick{i, ports.size() - 1};
    std::swap(ports[i], ports[pick(rng)]);
    out.push_back(endpoint{ip, ports[i]});
  }
  return out;
}

caf::timespan tick_period(const udp_punch_spec& spec) {
  return std::max(caf::timespan{std::chrono::milliseconds{1}},
                  std::min(spec.keepalive, spec.idle_timeout) / 4);
}

void path_selected(punch_ptr self) {
  auto& st = self->state;
  const auto& p = *st.session->path();
  for (size_t j = 0; j < st.sockets.size(); ++j) {
    auto& s = st.sockets[j];
    if (j == p.socket || !s.open)
      continue;
    s.open = false;
    s.closing = true;
    caf::anon_send(s.pipe, caf::close_atom::value);
  }
  st.info = pipe_info{st.hdl, udp, false, st.sockets[p.socket].local, p.remote, {}};
  st.peer_sources = {p.remote};
  st.life.enter(life_phase::open);
  st.last_rx = self->clock().now();
  st.open_waiters.deliver_all(st.info);
  notify(self, events::up, caf::make_message(pipe_up{st.hdl, p.remote, {}}));
  self->delayed_send(self, tick_period(st.spec), punch_tick_atom::value);
}

void deliver(punch_ptr self, std::vector<uint8_t>& data) {
  auto& st = self->state;
  ++st.stats.rx_msgs;
  st.stats.rx_bytes += data.size();
  auto msg = caf::make_message(pipe_msg{bytes(data.begin(), data.end()), st.info.remote, st.hdl});
  bool any = false;
  for (auto& s : st.subs)
    if ((s.events & events::msgs) != 0) {
      caf::anon_send(s.hdl, msg); // typed actors send to untyped ones anonymously
      any = true;
    }
  if (!any)
    ++st.stats.dropped_unclaimed;
}

void finish_end(punch_ptr self) {
  auto& st = self->state;
  auto reason = st.end_reason;
  notify(self, events::end, caf::make_message(pipe_end{st.hdl, st.info.remote, true, reason}));
  st.life.closed(); // answers the close requests
  // No reference to itself may outlive the actor.
  st.hdl = nullptr;
  st.info.pipe = nullptr;
  self->quit(reason);
}

void socket_opened(punch_ptr self, size_t i, const pipe_info* info, const caf::error& err) {
  auto& st = self->state;
  if (st.life.phase() != life_phase::opening)
    return; // ending: end_punch closes it
  if (err) {
    auto what = std::string{i < st.spec.local.size() ? "cannot open the punch's UDP socket on "
                                                     : "cannot take over the punch's relay "}
                + st.sockets[i].local.to_string() + ": " + render(err);
    return end_punch(self, make_error(code_of(err) == errc::none ? errc::bind_failed : code_of(err),
                                      std::move(what)),
                     false);
  }
  auto& s = st.sockets[i];
  s.open = true;
  s.local = info->local;
  self->monitor(s.pipe);
  if (--st.sockets_opening > 0)
    return;
  auto now = self->clock().now();
  auto begin = std::max(st.spec.start, now);
  // Bounded waits, due anyway (the window at the latest).
  self->delayed_send(self, begin + st.spec.window - now, punch_window_atom::value);
  if (st.spec.start <= now)
    probe_round(self);
  else
    self->delayed_send(self, st.spec.start - now, punch_start_atom::value);
}

} // namespace

void notify(punch_ptr self, uint8_t ev, const caf::message& msg) {
  for (auto& s : self->state.subs)
    if ((s.events & ev) != 0)
      caf::anon_send(s.hdl, msg); // typed actors send to untyped ones anonymously
}

void start_punch(punch_ptr self) {
  auto& st = self->state;
  if (auto err = st.spec.check())
    return end_punch(self, err, false);
  net::punch_config cfg;
  cfg.sockets = st.spec.local.size() + st.spec.relays.size();
  cfg.targets = st.spec.targets;
  cfg.spray = spray_endpoints(st.spec);
  cfg.spray_rounds = st.spec.spray_rounds;
  cfg.controlling = st.spec.controlling;
  cfg.answer_only = st.spec.answer_only;
  cfg.max_probes = st.spec.max_probes;
  cfg.nominate_tries = st.spec.nominate_tries;
  auto session = net::punch_session::make(st.spec.keys, std::move(cfg));
  st.spec.keys = net::session_keys{}; // the session holds them; no other copy stays
  if (!session)
    return end_punch(self, make_error(session.error()), false);
  st.session.emplace(std::move(*session));
  st.sockets_opening = st.spec.local.size() + st.spec.relays.size();
  for (size_t i = 0; i < st.spec.local.size(); ++i) {
    auto ps = server_spec(udp, st.spec.local[i], inbox_handler(self, static_cast<uint32_t>(i)));
    ps.conf = st.spec.conf;
    ps.conf.reader_limit = static_cast<uint32_t>(st.spec.max_datagram + net::frame_overhead);
    ps.subscribers.push_back(subscriber{caf::actor_cast<caf::actor>(self), events::errors});
    auto pipe = st.spec.stack->spawn_pipe(self->home_system(), std::move(ps));
    st.sockets.push_back(punch_socket{pipe, st.spec.local[i]});
    // A UDP pipe answers its open at once (a bind), and bounces it if it
    // dies first.
    self->request(pipe, timeouts::until_answered, caf::open_atom::value)
      .then([self, i](pipe_info& info) { socket_opened(self, i, &info, caf::none); },
            [self, i](caf::error& err) { socket_opened(self, i, nullptr, err); });
  }
  // The relays are open: their datagrams come to us from now on.
  for (size_t k = 0; k < st.spec.relays.size(); ++k) {
    auto i = st.spec.local.size() + k;
    auto& r = st.spec.relays[k];
    st.sockets.push_back(punch_socket{r.pipe, r.relayed});
    self->request(r.pipe, timeouts::until_answered, handler_atom::value,
                  inbox_handler(self, static_cast<uint32_t>(i)))
      .then([self, i](pipe_info& info) { socket_opened(self, i, &info, caf::none); },
            [self, i](caf::error& err) { socket_opened(self, i, nullptr, err); });
  }
}

void probe_round(punch_ptr self) {
  auto& st = self->state;
  if (st.life.phase() != life_phase::opening || !st.session
      || st.session->phase() != net::punch_phase::probing)
    return;
  auto sends = st.session->round();
  transmit_all(self, sends);
  if (!sends.empty())
    self->delayed_send(self, st.spec.interval, punch_round_atom::value);
}

void window_over(punch_ptr self) {
  auto& st = self->state;
  if (st.life.phase() != life_phase::opening)
    return;
  end_punch(self,
            make_error(errc::punch_failed, "no path agreed within the window of "
                                             + timeouts::ms_text(st.spec.window) + ": " + summary(self)),
            true);
}

void renominate(punch_ptr self) {
  auto& st = self->state;
  if (st.life.phase() != life_phase::opening || !st.session
      || st.session->phase() != net::punch_phase::nominating)
    return;
  if (auto n = st.session->renominate()) {
    transmit(self, *n);
    self->delayed_send(self, st.spec.interval, punch_nominate_atom::value);
    return;
  }
  end_punch(self,
            make_error(errc::punch_failed,
                       "the peer never confirmed the nominated path: " + summary(self)),
            true);
}

void on_datagram(punch_ptr self, uint32_t i, const bytes& data, const endpoint& from) {
  auto& st = self->state;
  st.inbox->queued.fetch_sub(1);
  if (!st.session || st.life.closing() || i >= st.sockets.size() || !st.sockets[i].open)
    return;
  std::vector<net::punch_send> out;
  auto before = st.session->phase();
  auto r = st.session->on_datagram(i, from, view_of(data), out);
  transmit_all(self, out);
  if (r.dropped || r.stray)
    return; // counted by the session
  st.last_rx = self->clock().now();
  if (before == net::punch_phase::probing
      && st.session->phase() == net::punch_phase::nominating)
    self->delayed_send(self, st.spec.interval, punch_nominate_atom::value);
  if (r.conflict)
    return end_punch(self,
                     make_error(errc::punch_failed,
                                "the peer nominates a path too: both sides think they are "
                                "controlling; "
                                  + summary(self)),
                     true);
  if (r.peer_closed) {
    if (st.life.phase() == life_phase::opening)
      return end_punch(self,
                       make_error(errc::punch_failed,
                                  "the peer gave up the punch (a sealed close came from "
                                    + from.to_string() + "): " + summary(self)),
                       false);
    return end_punch(self, make_error(errc::pipe_closed, "closed by the peer"), false);
  }
  if (r.selected)
    path_selected(self);
  if (r.rebound) {
    st.info.remote = st.session->path()->remote;
    auto& xs = st.peer_sources;
    if (std::find(xs.begin(), xs.end(), st.info.remote) == xs.end()) {
      if (xs.size() >= max_peer_sources)
        xs.erase(xs.begin());
      xs.push_back(st.info.remote);
    }
  }
  if (r.data && st.life.phase() == life_phase::open)
    deliver(self, *r.data);
}

void tick(punch_ptr self) {
  auto& st = self->state;
  if (st.life.phase() != life_phase::open)
    return;
  auto now = self->clock().now();
  if (now - st.last_rx >= st.spec.idle_timeout)
    return end_punch(self,
                     make_error(errc::idle_timeout, "no authentic datagram from the peer for "
                                                      + timeouts::ms_text(now - st.last_rx)),
                     true);
  if (now - st.last_tx >= st.spec.keepalive)
    if (auto k = st.session->keepalive())
      transmit(self, *k);
  self->delayed_send(self, tick_period(st.spec), punch_tick_atom::value);
}

caf::error send_data(punch_ptr self, const bytes& payload, const endpoint* to) {
  auto& st = self->state;
  auto refuse = [&](errc code, std::string what) {
    ++st.stats.dropped_send;
    return make_error(code, std::move(what));
  };
  if (st.life.phase() != life_phase::open)
    return refuse(errc::pipe_closed, st.life.phase() == life_phase::closing
                                         || st.life.phase() == life_phase::closed
                                       ? "the punched pipe is closed"
                                       : "the punch has not found a path yet");
  if (to != nullptr
      && std::find(st.peer_sources.begin(), st.peer_sources.end(), *to)
           == st.peer_sources.end())
    return refuse(errc::unknown_peer, to->to_string() + " is not the peer of the punched pipe to "
                                        + st.info.remote.to_string());
  if (payload.size() > st.spec.max_datagram)
    return refuse(errc::message_too_large,
                  "cannot send " + std::to_string(payload.size())
                    + " bytes in one punched datagram: max_datagram is "
                    + std::to_string(st.spec.max_datagram));
  auto s = st.session->data(view_of(payload));
  if (!s)
    return refuse(s.error().code, s.error().what);
  transmit(self, *s);
  ++st.stats.tx_msgs;
  st.stats.tx_bytes += payload.size();
  return caf::none;
}

void end_punch(punch_ptr self, caf::error reason, bool tell_peer) {
  auto& st = self->state;
  if (st.life.closing())
    return; // an end is under way
  st.life.enter(life_phase::closing);
  st.end_reason = reason;
  if (st.session) {
    if (tell_peer) {
      if (auto c = st.session->close())
        transmit(self, *c);
    } else {
      st.session->fail();
    }
  }
  st.open_waiters.deliver_all(
    reason ? reason : make_error(errc::pipe_closed, "the punch was closed before it found a path"));
  // The close goes after the last send in each socket's mailbox.
  for (auto& s : st.sockets) {
    if (s.closing && !s.open)
      continue; // closed when the path was chosen
    s.open = false;
    s.closing = true;
    ++st.closes_pending;
    self->request(s.pipe, timeouts::until_answered, caf::close_atom::value)
      .then(
        [self](caf::ok_atom) {
          if (--self->state.closes_pending == 0)
            finish_end(self);
        },
        [self](caf::error&) {
          if (--self->state.closes_pending == 0)
            finish_end(self);
        });
  }
  if (st.closes_pending == 0)
    finish_end(self);
}

pipe_stats current_stats(punch_ptr self) {
  auto& st = self->state;
  auto out = st.stats;
  out.dropped_queue_full += st.inbox->dropped.load();
  if (st.session) {
    const auto& c = st.session->counters();
    out.dropped_forged = c.forged;
    out.dropped_replayed = c.replayed;
    out.dropped_foreign = c.foreign;
    out.dropped_malformed = c.malformed;
    out.dropped_unclaimed += st.session->stray();
  }
  return out;
}

} // namespace p2pd::actors
