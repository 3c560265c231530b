// The TURN server actor: its control pipe, the requests' and the relays'
// datagrams through bounded inboxes, the sweep on a weak ticker
// (detail/turn_server_requests.cpp and detail/turn_server_relay.cpp do the
// work).
#include "p2pd/actors/turn_server/turn_server.hpp"

#include "caf/actor_cast.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/send.hpp"

#include "p2pd/actors/common/timeouts.hpp"
#include "p2pd/actors/common/weak_timer.hpp"
#include "p2pd/actors/turn/turn_pipe_spec.hpp"
#include "p2pd/actors/turn_server/detail/turn_server_state.hpp"
#include "p2pd/actors/turn_server/detail/turn_server_tcp_relay.hpp"
#include "p2pd/messages/errors.hpp"
#include "p2pd/net/stun/stun_auth.hpp"
#include "p2pd/net/turn/channel_data.hpp"

namespace p2pd {

caf::error turn_server_spec::check() const {
  auto bad = [](std::string what) {
    return make_error(errc::invalid_argument, "turn_server_spec: " + std::move(what));
  };
  if (users.empty())
    return bad("no users: a TURN server asks for long-term credentials");
  for (auto& [user, pw] : users)
    if (auto k = net::stun_key::long_term(user, realm, pw); !k)
      return bad("user " + user + ": " + k.error().what);
  if (realm.empty())
    return bad("an empty realm");
  if (relay_port_min > relay_port_max)
    return bad("relay_port_min " + std::to_string(relay_port_min) + " is above relay_port_max "
               + std::to_string(relay_port_max));
  if ((relay_port_min == 0) != (relay_port_max == 0))
    return bad("a relay port range from or to 0: give both 0 (free ports) or neither");
  if (relay_ip.is_any())
    return bad("relay_ip must be an address peers can send to, not the any-address");
  if (port_tries == 0 || max_queued == 0 || max_allocations == 0
      || max_allocations_per_user == 0)
    return bad("port_tries, max_queued, max_allocations and max_allocations_per_user must be "
               "at least 1");
  auto zero = caf::timespan{0};
  if (nonce_lifetime <= zero || default_lifetime <= zero || max_lifetime <= zero
      || permission_lifetime <= zero || channel_lifetime <= zero || sweep_interval <= zero
      || reservation_lifetime <= zero)
    return bad("the lifetimes and the sweep interval must be positive");
  return {};
}

uint16_t turn_server_spec::max_channel() const {
  return rfc5766_channels ? net::turn_channel_max_rfc5766 : net::turn_channel_max;
}

namespace actors::turn_srv {

namespace {

// Runs on the control pipe's thread: at most max_queued datagrams wait in
// the actor's mailbox, more are dropped (counted in dropped_flood).
msg_handler control_handler(server_ptr self, net::protocol proto) {
  return [weak = caf::weak_actor_ptr{self->ctrl()}, inbox = self->state.control_inbox,
          proto](pipe_io&, std::string_view data, const endpoint& from) {
    tell_bounded(weak, *inbox, ctrl_atom::value, proto, bytes(data.begin(), data.end()), from);
  };
}

void opened(server_ptr self, const pipe_info& udp_info) {
  auto& st = self->state;
  st.ticker = start_weak_ticker(self->home_system(), caf::weak_actor_ptr{self->ctrl()},
                                st.spec.sweep_interval, caf::make_message(sweep_atom::value));
  // The handle by value: CAF 0.17 destroys the state in on_exit, before
  // it runs attached functors.
  self->attach_functor([t = st.ticker] { caf::anon_send_exit(t, caf::exit_reason::user_shutdown); });
  st.listening = udp_info.local;
  st.opening.opened(udp_info);
}

void open_failed(server_ptr self, const caf::error& err) {
  self->state.opening.failed(err);
  self->quit(err);
}

// The TCP pipe's ends reach the server through this forwarder, which holds
// it weakly: a pipe holds its subscribers strongly, and the server holds
// its pipe, so subscribing the server itself would keep it alive for ever.
// The forwarder ends with the pipe (nothing else holds it).
caf::behavior end_forwarder(caf::event_based_actor*, caf::weak_actor_ptr server) {
  return {
    [server](pipe_end& e) {
      if (auto s = caf::actor_cast<caf::actor>(server.lock()))
        caf::anon_send(s, std::move(e));
    },
  };
}

// TCP on the UDP pipe's port (RFC 8656 §3.1: clients behind networks that
// block UDP), each message cut by the TURN stream framer; its clients'
// ends reach the actor, which deletes their allocations.
void open_control(server_ptr self);

void open_tcp(server_ptr self, const pipe_info& udp_info) {
  auto& st = self->state;
  auto spec = server_spec(tcp, udp_info.local, control_handler(self, tcp));
  spec.peer_framer = control_framer(self); // TURN messages; bound data connections raw
  spec.conf = st.spec.tcp_conf;
  // A client may say nothing between its refreshes, which come within the
  // lifetime granted (at most max_lifetime): a shorter idle timeout would
  // end its connection, and so its allocation.
  auto& idle = spec.conf.idle_timeout;
  if (idle > caf::timespan{0} && idle < st.spec.max_lifetime)
    idle = st.spec.max_lifetime;
  auto fwd = self->home_system().spawn(end_forwarder, caf::weak_actor_ptr{self->ctrl()});
  spec.subscribers.push_back(subscriber{fwd, events::end});
  st.control_tcp = st.stack->spawn_pipe(self->home_system(), std::move(spec));
  self->monitor(st.control_tcp);
  self->request(st.control_tcp, timeouts::until_answered, caf::open_atom::value)
    .then([self, udp_info](pipe_info&) { opened(self, udp_info); },
          [self](caf::error& err) {
            auto& st = self->state;
            // Port 0: the free UDP port may be taken for TCP. Another pair,
            // as the STUN server's port search does, port_tries times.
            if (st.spec.listen.port == 0 && code_of(err) == errc::bind_failed
                && ++st.listen_tries < st.spec.port_tries) {
              for (auto* p : {&st.control, &st.control_tcp}) {
                self->demonitor(p->address());
                caf::anon_send_exit(*p, caf::exit_reason::user_shutdown);
                *p = nullptr;
              }
              return open_control(self);
            }
            open_failed(self, err);
          });
}

void open_control(server_ptr self) {
  auto& st = self->state;
  st.control = st.stack->spawn_pipe(self->home_system(),
                                    server_spec(udp, st.spec.listen, control_handler(self, udp)));
  self->monitor(st.control);
  // A UDP server pipe answers open at once (bound, or the bind's error).
  self->request(st.control, timeouts::until_answered, caf::open_atom::value)
    .then(
      [self](pipe_info& i) {
        if (self->state.spec.tcp)
          open_tcp(self, i);
        else
          opened(self, i);
      },
      [self](caf::error& err) { open_failed(self, err); });
}

turn_server_stats stats_of(server_ptr self) {
  auto& st = self->state;
  auto out = st.stats;
  out.allocations = st.allocs.size();
  out.permissions = 0;
  out.channels = 0;
  for (auto& [client, a] : st.allocs) {
    out.permissions += a.perms.size();
    out.channels += a.channels.size();
  }
  out.reservations = st.reservations.size();
  out.tcp_connections = st.tcp.conns.size();
  out.dropped_flood = st.control_inbox->dropped.load() + st.relay_inbox->dropped.load();
  return out;
}

server_impl::behavior_type turn_server_fn(server_ptr self, turn_server_spec spec) {
  auto& st = self->state;
  st.spec = std::move(spec);
  st.stack = &stack_or_os(st.spec.stack);
  st.control_inbox = std::make_shared<bounded_inbox>(st.spec.max_queued);
  st.relay_inbox = std::make_shared<bounded_inbox>(st.spec.max_queued);
  st.nonces = std::make_unique<turn_nonces>();
  st.port_cursor = static_cast<uint32_t>(st.stack->rng_seed());
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    bool owner = st.opening.owned_by(dm.source);
    if (owner || dm.source == st.control.address() || dm.source == st.control_tcp.address()) {
      self->quit(owner ? caf::error{caf::exit_reason::user_shutdown} : dm.reason);
      return;
    }
    // A relay pipe that ended by itself takes its allocation with it.
    for (auto it = st.allocs.begin(); it != st.allocs.end(); ++it)
      if (it->second.relay.address() == dm.source) {
        it->second.relay = nullptr;
        remove_allocation(self, it, end_reason::expired);
        return;
      }
    for (auto it = st.reservations.begin(); it != st.reservations.end(); ++it)
      if (it->second.pipe.address() == dm.source) {
        st.reservations.erase(it);
        return;
      }
  });
  return {
    [self](caf::open_atom) {
      return self->state.opening.open(self, [self] { open_control(self); });
    },
    [self](stats_atom) { return stats_of(self); },
    [self](caf::close_atom) {
      auto& st = self->state;
      for (auto& [client, a] : st.allocs)
        if (a.relay)
          caf::anon_send(a.relay, caf::close_atom::value);
      for (auto& [client, a] : st.allocs)
        tcp_allocation_gone(self, a.id);
      for (auto& [token, r] : st.reservations)
        caf::anon_send(r.pipe, caf::close_atom::value);
      for (auto& pipe : {st.control, st.control_tcp})
        if (pipe)
          caf::anon_send(pipe, caf::close_atom::value);
      self->quit(caf::exit_reason::user_shutdown);
      return caf::ok_atom::value;
    },
    [self](ctrl_atom, net::protocol proto, const bytes& data, const endpoint& from) {
      self->state.control_inbox->leave();
      if (proto == tcp && on_tcp_client_bytes(self, data, from))
        return; // a bound client data connection's (RFC 6062)
      on_client(self, data, client_id{proto, from});
    },
    [self](pipe_end& e) {
      // RFC 8656 §3.1: a TCP client's allocation ends with its connection.
      auto& st = self->state;
      if (on_tcp_end(self, e) || e.whole || e.pipe != st.control_tcp)
        return;
      auto it = st.allocs.find(client_id{tcp, e.peer});
      if (it != st.allocs.end())
        remove_allocation(self, it, end_reason::deleted);
    },
    [self](peer_atom, uint64_t id, const bytes& data, const endpoint& from) {
      self->state.relay_inbox->leave();
      on_peer(self, id, data, from);
    },
    [self](tcp_data_atom, uint64_t id, const bytes& data, const endpoint& from) {
      self->state.relay_inbox->leave();
      on_tcp_peer_bytes(self, id, data, from);
    },
    [self](pipe_up& up) { on_tcp_peer_up(self, up); },
    [self](sweep_atom) {
      sweep(self);
      tcp_sweep(self);
    },
  };
}

} // namespace

} // namespace actors::turn_srv

caf::expected<turn_server_actor> spawn_turn_server(caf::actor_system& sys, turn_server_spec spec) {
  if (auto err = spec.check())
    return err;
  return caf::actor_cast<turn_server_actor>(
    sys.spawn(actors::turn_srv::turn_server_fn, std::move(spec)));
}

} // namespace p2pd
