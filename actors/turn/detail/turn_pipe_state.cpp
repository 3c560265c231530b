#include "p2pd/actors/turn/detail/turn_pipe_state.hpp"

#include <algorithm>

#include "caf/actor_cast.hpp"

#include "p2pd/actors/common/timeouts.hpp"
#include "p2pd/actors/pipe/detail/receive_queues.hpp"
#include "p2pd/actors/turn/detail/turn_close.hpp"
#include "p2pd/messages/errors.hpp"
#include "p2pd/net/turn/channel_data.hpp"

namespace p2pd::actors {

namespace {

using turn_detail::close_gen;
using turn_detail::close_wait;
using turn_detail::ms;

// The largest datagram a UDP relay can send on (65535 less the IP and UDP
// headers of IPv4).
constexpr size_t max_relayed = 65507;

net::turn_time now_of(turn_ptr self) {
  return self->clock().now();
}

msg_handler inbox_handler(turn_ptr self) {
  return [weak = caf::weak_actor_ptr{self->ctrl()}, inbox = self->state.inbox,
          limit = size_t{self->state.spec.conf.max_qsize}](pipe_io&, std::string_view data,
                                                           const endpoint& from) {
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
    caf::anon_send(caf::actor_cast<caf::actor>(std::move(hdl)), turn_frame_atom::value,
                   bytes(data.begin(), data.end()), from);
  };
}

net::turn_config session_config(const turn_pipe_spec& spec) {
  net::turn_config c;
  c.server = spec.server.server;
  c.username = spec.server.username;
  c.password = spec.server.password;
  c.stream = spec.server.transport == net::protocol::tcp;
  c.allocate.lifetime_s = spec.lifetime_s;
  c.allocate.relay_family = spec.relay_family;
  c.rto = ms(spec.timing.rto);
  c.max_sends = spec.timing.max_sends;
  c.last_wait_factor = spec.timing.last_wait_factor;
  c.stream_timeout = ms(spec.timing.tcp_timeout);
  c.permission_refresh = ms(spec.permission_refresh);
  c.realloc_backoff = ms(spec.realloc_backoff);
  c.realloc_max = ms(spec.realloc_max);
  c.max_peers = spec.max_peers;
  c.max_waiting = spec.max_waiting;
  return c;
}

void finish_end(turn_ptr self) {
  auto& st = self->state;
  if (st.life.phase() == life_phase::closed)
    return;
  st.life.closed();
  if (st.server) {
    st.closing_server = true;
    // Sent after every frame queued for the server, so the deletion goes out.
    caf::anon_send(st.server, caf::close_atom::value);
  }
  self->quit();
}

} // namespace

turn_pipe_state::turn_pipe_state() = default;

turn_pipe_state::turn_pipe_state(turn_ptr selfptr) : self(selfptr) {
}

turn_pipe_state::~turn_pipe_state() = default;

caf::error turn_pipe_state::reply(std::string_view data) {
  return send(data, current_from);
}

caf::error turn_pipe_state::send(std::string_view data, const endpoint& to) {
  return send_to(data.data(), data.size(), to);
}

caf::error turn_pipe_state::send_to(const char* data, size_t size, const endpoint& peer) {
  auto refuse = [this](errc code, std::string what) {
    ++stats.dropped_send;
    return make_error(code, std::move(what));
  };
  if (life.phase() != life_phase::open || !session)
    return refuse(errc::pipe_closed, life.closing() ? "the TURN pipe is closed"
                                                    : "the TURN pipe has no allocation yet");
  if (size > max_relayed)
    return refuse(errc::message_too_large, "a datagram of " + std::to_string(size)
                                             + " bytes is more than a relay sends ("
                                             + std::to_string(max_relayed) + ")");
  auto p = reinterpret_cast<const uint8_t*>(data);
  if (auto ch = session->channel_of(peer)) {
    // The fast path: framed straight into the bytes the socket sends.
    bool stream = spec.server.transport == net::protocol::tcp;
    size_t padded = stream ? (size + 3) & ~size_t{3} : size;
    bytes frame(net::turn_channel_header + padded, 0);
    frame[0] = static_cast<char>(*ch >> 8);
    frame[1] = static_cast<char>(*ch & 0xFF);
    frame[2] = static_cast<char>(size >> 8);
    frame[3] = static_cast<char>(size & 0xFF);
    std::copy(data, data + size, frame.begin() + net::turn_channel_header);
    self->send(server, send_atom::value, std::move(frame));
  } else {
    if (auto err = session->send(peer, p, size, now_of(self)))
      return refuse(err.code, err.what);
    pump();
  }
  ++stats.tx_msgs;
  stats.tx_bytes += size;
  return caf::none;
}

void turn_pipe_state::deliver(const char* data, size_t size, const endpoint& from) {
  ++stats.rx_msgs;
  stats.rx_bytes += size;
  current_from = from;
  bool claimed = false;
  if (spec.on_msg) {
    spec.on_msg(*this, std::string_view{data, size}, from);
    claimed = true;
  }
  caf::message msg;
  for (auto& s : subs) {
    if ((s.events & events::msgs) == 0)
      continue;
    if (msg.empty())
      msg = caf::make_message(pipe_msg{bytes(data, data + size), from, hdl});
    caf::anon_send(s.hdl, msg);
    claimed = true;
  }
  if (queues->push(data, size, from, hdl, stats.dropped_queue_full))
    claimed = true;
  for (auto& l : links) {
    if (auto other = caf::actor_cast<caf::actor>(l.lock())) {
      caf::anon_send(other, send_atom::value, bytes(data, data + size));
      claimed = true;
    }
  }
  if (!claimed)
    ++stats.dropped_unclaimed;
}

void turn_pipe_state::notify(uint8_t ev, const caf::message& msg) {
  for (auto& s : subs)
    if ((s.events & ev) != 0)
      caf::anon_send(s.hdl, msg);
}

void turn_pipe_state::pump() {
  if (!session)
    return;
  for (auto& out : session->take_output())
    self->send(server, send_atom::value, bytes(out.begin(), out.end()));
  for (auto& ev : session->take_events()) {
    using k = net::turn_event::kind;
    switch (ev.what) {
      case k::allocated: {
        info.local = session->allocation()->relayed;
        if (life.phase() == life_phase::opening) {
          life.enter(life_phase::open);
          open_waiters.deliver_all(info);
        }
        notify(events::up, caf::make_message(turn_status{
                             hdl, turn_status::kind::allocated, info.local, {}, caf::none}));
        break;
      }
      case k::lost:
        notify(events::errors,
               caf::make_message(turn_status{hdl, turn_status::kind::lost, info.local, {},
                                             make_error(ev.err)}));
        break;
      case k::permission_failed:
        notify(events::errors,
               caf::make_message(turn_status{hdl, turn_status::kind::permission_failed,
                                             info.local, ev.peer, make_error(ev.err)}));
        break;
      case k::failed:
        return end_turn(self, make_error(ev.err), false);
      case k::closed:
        return finish_end(self);
      case k::permitted:
      case k::connected:
      case k::connect_failed:
      case k::connection_attempt:
        break; // TCP allocations only (turn_stream_relay), and what permit does not wait for
    }
  }
  auto next = session->next_tick();
  if (next && (!tick_at || *next < *tick_at)) {
    tick_at = next;
    auto delay = std::max(*next - now_of(self), net::turn_time::duration{0});
    self->delayed_send(self, delay, turn_tick_atom::value, ++tick_gen);
  }
}

pipe_stats turn_pipe_state::current_stats() const {
  auto out = stats;
  out.dropped_queue_full += inbox->dropped.load();
  if (session) {
    auto& c = session->counters();
    out.dropped_malformed += c.malformed;
    out.dropped_forged += c.forged;
    out.dropped_foreign += c.not_for_us + c.unknown_channel;
    out.dropped_send += c.waiting_dropped;
  }
  return out;
}

void start_turn(turn_ptr self) {
  auto& st = self->state;
  if (auto err = st.spec.check())
    return end_turn(self, err, false);
  st.session.emplace(session_config(st.spec));
  st.info = pipe_info{st.hdl, net::protocol::udp, true, {}, st.spec.server.server, {}};
  auto& srv = st.spec.server;
  auto ps = client_spec(srv.transport, srv.server.ip.to_string(), srv.server.port);
  ps.fam = srv.server.fam();
  ps.local = st.spec.local;
  ps.conf = st.spec.conf;
  ps.on_msg = inbox_handler(self);
  if (srv.transport == net::protocol::tcp)
    ps.framer = turn_stream_framer();
  ps.subscribers.push_back(
    subscriber{caf::actor_cast<caf::actor>(self), uint8_t(events::end | events::errors)});
  st.server = stack_or_os(st.spec.stack).spawn_pipe(self->home_system(), std::move(ps));
  self->monitor(st.server);
  self->request(st.server, timeouts::until_answered, caf::open_atom::value)
    .then(
      [self](pipe_info&) {
        auto& st = self->state;
        if (st.life.phase() != life_phase::opening)
          return;
        st.session->start(now_of(self));
        st.pump();
      },
      [self](caf::error& err) {
        end_turn(self,
                 make_error(errc::connect_failed,
                            "cannot open the socket toward TURN server "
                              + self->state.spec.server.server.to_string() + ": " + render(err)),
                 false);
      });
}

void on_frame(turn_ptr self, const bytes& frame, const endpoint& from) {
  auto& st = self->state;
  st.inbox->queued.fetch_sub(1);
  if (!st.session || st.life.phase() == life_phase::closed)
    return;
  if (from != st.spec.server.server) {
    ++st.stats.dropped_foreign; // the socket is the server's only
    return;
  }
  auto got = st.session->receive(reinterpret_cast<const uint8_t*>(frame.data()), frame.size(),
                                 now_of(self));
  if (got.peer && st.life.phase() == life_phase::open)
    st.deliver(reinterpret_cast<const char*>(got.data()), got.size, *got.peer);
  // ChannelData changes nothing the session sends or times: the hot path
  // skips the pump (its timer scan runs over every peer).
  if (got.view == nullptr)
    st.pump();
}

void end_turn(turn_ptr self, caf::error reason, bool graceful) {
  auto& st = self->state;
  if (st.life.closing())
    return;
  st.life.enter(life_phase::closing);
  st.open_waiters.deliver_all(
    reason ? reason : make_error(errc::pipe_closed, "the TURN pipe was closed before it allocated"));
  st.queues->fail_all(reason ? reason : make_error(errc::pipe_closed, "the TURN pipe closed"));
  st.notify(events::end, caf::make_message(pipe_end{st.hdl, {}, true, reason}));
  if (graceful && st.session && st.session->state() == net::turn_state::allocated) {
    st.session->close(now_of(self));
    st.pump(); // the deletion goes out; its answer ends the pipe
    self->delayed_send(self, close_wait, turn_tick_atom::value, close_gen);
    return;
  }
  finish_end(self);
}

void on_tick(turn_ptr self, uint64_t gen) {
  auto& st = self->state;
  if (gen == close_gen)
    return finish_end(self);
  if (gen != st.tick_gen || !st.session)
    return;
  st.tick_at.reset();
  st.session->tick(now_of(self));
  st.pump();
}

} // namespace p2pd::actors
