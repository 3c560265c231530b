// TCP allocations (RFC 6062) in the TURN server: the listener on the
// relayed address, Connect, ConnectionAttempt, ConnectionBind, and the raw
// relay between a peer data connection and its client data connection.
#include "p2pd/actors/turn_server/detail/turn_server_tcp_relay.hpp"

#include <algorithm>

#include "caf/actor_cast.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/send.hpp"

#include "p2pd/actors/common/timeouts.hpp"
#include "p2pd/net/stun/detail/stun_detail.hpp"
#include "p2pd/net/turn/turn_tcp.hpp"

namespace p2pd::actors::turn_srv {

namespace {

// Peers' pipes report their connections to the server through this, which
// holds it weakly (a pipe holds its subscribers strongly and the server
// holds the pipe); it ends with the pipe.
caf::behavior tcp_relay_forwarder(caf::event_based_actor*, caf::weak_actor_ptr server) {
  auto fwd = [server](auto& x) {
    if (auto s = caf::actor_cast<caf::actor>(server.lock()))
      caf::anon_send(s, std::move(x));
  };
  return {
    [fwd](pipe_up& x) mutable { fwd(x); },
    [fwd](pipe_end& x) mutable { fwd(x); },
  };
}

// A peer's bytes for allocation `id`, bounded as datagrams are; a chunk
// that does not fit breaks its stream, so its connection is closed (the
// drop counted in dropped_flood).
msg_handler tcp_peer_handler(server_ptr self, uint64_t id, bool listener) {
  return [weak = caf::weak_actor_ptr{self->ctrl()}, inbox = self->state.relay_inbox, id,
          listener](pipe_io& io, std::string_view data, const endpoint& from) {
    if (!inbox->enter()) {
      if (listener)
        caf::anon_send(io.pipe(), caf::close_atom::value, from);
      else
        caf::anon_send(io.pipe(), caf::close_atom::value);
      return;
    }
    auto hdl = caf::actor_cast<caf::actor>(weak.lock());
    if (!hdl) {
      inbox->leave();
      return;
    }
    caf::anon_send(hdl, tcp_data_atom::value, id, bytes(data.begin(), data.end()), from);
  };
}

caf::actor forwarder(server_ptr self) {
  return self->home_system().spawn(tcp_relay_forwarder, caf::weak_actor_ptr{self->ctrl()});
}

void close_peer(const tcp_peer_conn& c) {
  if (!c.pipe)
    return;
  if (c.accepted)
    caf::anon_send(c.pipe, caf::close_atom::value, c.peer);
  else
    caf::anon_send(c.pipe, caf::close_atom::value);
}

// Ends connection `it`: its peer's side and its client data connection.
void drop_conn(server_ptr self, std::map<uint32_t, tcp_peer_conn>::iterator it) {
  auto& st = self->state;
  close_peer(it->second);
  if (auto d = it->second.data) {
    // Framed again if the address comes back as a new connection.
    st.tcp.raw->remove(*d);
    st.tcp.by_data.erase(*d);
    if (st.control_tcp)
      caf::anon_send(st.control_tcp, caf::close_atom::value, *d);
  }
  st.tcp.conns.erase(it);
}

allocation* tcp_alloc_by_id(server_ptr self, uint64_t id) {
  auto& st = self->state;
  auto c = st.client_of.find(id);
  return c == st.client_of.end() ? nullptr : &st.allocs.find(c->second)->second;
}

size_t conns_of(server_ptr self, uint64_t alloc) {
  size_t n = 0;
  for (auto& [id, c] : self->state.tcp.conns)
    n += c.alloc == alloc ? 1 : 0;
  return n;
}

uint32_t add_conn(server_ptr self, tcp_peer_conn c) {
  auto& st = self->state;
  auto id = st.tcp.next_id++;
  while (id == 0 || st.tcp.conns.count(id) != 0)
    id = st.tcp.next_id++;
  c.id = id;
  c.bind_by = self->clock().now() + st.spec.tcp_bind_timeout;
  st.tcp.conns.emplace(id, std::move(c));
  return id;
}

void add_connection_id(net::stun_builder& b, uint32_t id) {
  uint8_t v[4];
  net::stun_detail::put32(v, id);
  b.add_raw(net::stun_attr::connection_id, v, sizeof(v));
}

} // namespace

peer_framer_fn control_framer(server_ptr self) {
  return [raw = self->state.tcp.raw](const endpoint& peer,
                                     std::string_view b) -> net::result<size_t> {
    if (raw->has(peer))
      return b.size();
    auto n = net::turn_stream_frame_size(reinterpret_cast<const uint8_t*>(b.data()), b.size());
    if (!n)
      return n.error();
    return n->value_or(0);
  };
}

pipe_spec tcp_relay_listener(server_ptr self, const endpoint& local, uint64_t id) {
  auto spec = server_spec(net::protocol::tcp, local, tcp_peer_handler(self, id, true));
  spec.conf.max_clients = self->state.spec.max_tcp_connections;
  spec.subscribers.push_back(subscriber{forwarder(self), uint8_t(events::up | events::end)});
  return spec;
}

void on_connect(server_ptr self, const net::stun_message& m, const client_id& from,
                const credentials& cred) {
  auto& st = self->state;
  auto it = st.allocs.find(from);
  if (it == st.allocs.end() || !it->second.ready) {
    reply_error(self, m, from, 437, &cred.key);
    return;
  }
  auto& a = it->second;
  if (a.username != cred.username) {
    reply_error(self, m, from, 441, &cred.key);
    return;
  }
  auto peers = m.addresses(net::stun_attr::xor_peer_address);
  if (!a.tcp || peers.size() != 1) {
    reply_error(self, m, from, 400, &cred.key);
    return;
  }
  auto peer = peers.front();
  if (peer.fam() != st.spec.relay_ip.fam()) {
    reply_error(self, m, from, 443, &cred.key);
    return;
  }
  if (!permitted(a, peer.ip, self->clock().now())) {
    reply_error(self, m, from, 403, &cred.key); // RFC 6062 §5.2
    return;
  }
  for (auto& [id, c] : st.tcp.conns)
    if (c.alloc == a.id && c.peer == peer) {
      reply_error(self, m, from, 446, &cred.key);
      return;
    }
  if (conns_of(self, a.id) >= st.spec.max_tcp_connections) {
    reply_error(self, m, from, 508, &cred.key);
    return;
  }
  auto ps = client_spec(net::protocol::tcp, peer.ip.to_string(), peer.port);
  ps.local = endpoint{st.spec.relay_ip, 0};
  ps.conf.con_timeout = st.spec.tcp_connect_timeout;
  ps.on_msg = tcp_peer_handler(self, a.id, false);
  ps.subscribers.push_back(subscriber{forwarder(self), events::end});
  auto pipe = st.stack->spawn_pipe(self->home_system(), std::move(ps));
  auto alloc = a.id;
  auto key = cred.key;
  st.tcp.connecting.emplace_back(alloc, pipe);
  auto done = [self, pipe] {
    auto& v = self->state.tcp.connecting;
    v.erase(std::remove_if(v.begin(), v.end(), [&](auto& x) { return x.second == pipe; }),
            v.end());
  };
  self->request(pipe, timeouts::until_answered, caf::open_atom::value)
    .then(
      [self, m, from, key, alloc, peer, pipe, done](pipe_info&) {
        auto& st = self->state;
        done();
        if (tcp_alloc_by_id(self, alloc) == nullptr) {
          caf::anon_send(pipe, caf::close_atom::value); // deleted meanwhile
          return;
        }
        tcp_peer_conn c;
        c.alloc = alloc;
        c.peer = peer;
        c.pipe = pipe;
        auto id = add_conn(self, std::move(c));
        ++st.stats.tcp_connected;
        net::stun_builder b{net::stun_class::success, net::stun_method::connect, m.txid()};
        add_connection_id(b, id);
        reply_success(self, b, from, key);
      },
      [self, m, from, key, done](caf::error&) {
        done();
        ++self->state.stats.tcp_connect_failed;
        reply_error(self, m, from, 447, &key);
      });
}

void on_connection_bind(server_ptr self, const net::stun_message& m, const client_id& from,
                        const credentials& cred) {
  auto& st = self->state;
  auto id = net::turn_connection_id(m);
  // RFC 6062 §5.4: a connection with an allocation is a control one, and
  // an id that is unknown, bound or not of this user is refused.
  auto c = id ? st.tcp.conns.find(*id) : st.tcp.conns.end();
  if (!from.stream() || st.allocs.count(from) != 0 || st.tcp.by_data.count(from.ep) != 0
      || c == st.tcp.conns.end() || c->second.data) {
    reply_error(self, m, from, 400, &cred.key);
    return;
  }
  auto* a = tcp_alloc_by_id(self, c->second.alloc);
  if (a == nullptr || a->username != cred.username) {
    reply_error(self, m, from, 400, &cred.key);
    return;
  }
  // Raw before the answer goes out: the client sends nothing before it.
  st.tcp.raw->add(from.ep);
  st.tcp.by_data[from.ep] = c->first;
  c->second.data = from.ep;
  ++st.stats.tcp_bound;
  net::stun_builder b{net::stun_class::success, net::stun_method::connection_bind, m.txid()};
  reply_success(self, b, from, cred.key);
  if (!c->second.buffered.empty())
    to_client(self, from, std::move(c->second.buffered));
  c->second.buffered = bytes{};
}

bool on_tcp_client_bytes(server_ptr self, const bytes& data, const endpoint& from) {
  auto& st = self->state;
  auto d = st.tcp.by_data.find(from);
  if (d == st.tcp.by_data.end())
    return false;
  auto c = st.tcp.conns.find(d->second);
  if (c == st.tcp.conns.end())
    return true;
  st.stats.relayed_bytes += data.size();
  if (c->second.accepted)
    self->send(c->second.pipe, send_atom::value, data, c->second.peer);
  else
    self->send(c->second.pipe, send_atom::value, data);
  return true;
}

void on_tcp_peer_bytes(server_ptr self, uint64_t alloc, const bytes& data, const endpoint& from) {
  auto& st = self->state;
  for (auto it = st.tcp.conns.begin(); it != st.tcp.conns.end(); ++it) {
    auto& c = it->second;
    if (c.alloc != alloc || c.peer != from)
      continue;
    if (c.data) {
      st.stats.relayed_bytes += data.size();
      to_client(self, client_id{net::protocol::tcp, *c.data}, data);
    } else if (c.buffered.size() + data.size() > st.spec.max_tcp_buffered) {
      ++st.stats.tcp_dropped_buffer;
      drop_conn(self, it);
    } else {
      c.buffered.insert(c.buffered.end(), data.begin(), data.end());
    }
    return;
  }
  // Its pipe_up is still on the way: kept for it, within the same bounds.
  auto* a = tcp_alloc_by_id(self, alloc);
  if (a == nullptr || !a->tcp)
    return;
  auto& early = st.tcp.early[{alloc, from}];
  if (st.tcp.early.size() > st.spec.max_queued
      || early.size() + data.size() > st.spec.max_tcp_buffered) {
    ++st.stats.tcp_dropped_buffer;
    st.tcp.early.erase({alloc, from});
    caf::anon_send(a->relay, caf::close_atom::value, from);
    return;
  }
  early.insert(early.end(), data.begin(), data.end());
}

void on_tcp_peer_up(server_ptr self, const pipe_up& up) {
  auto& st = self->state;
  allocation* a = nullptr;
  for (auto& [client, x] : st.allocs)
    if (x.tcp && x.relay == up.pipe)
      a = &x;
  bytes early;
  if (a != nullptr) {
    if (auto e = st.tcp.early.find({a->id, up.peer}); e != st.tcp.early.end()) {
      early = std::move(e->second);
      st.tcp.early.erase(e);
    }
  }
  if (a == nullptr) {
    caf::anon_send(up.pipe, caf::close_atom::value, up.peer);
    return;
  }
  if (!permitted(*a, up.peer.ip, self->clock().now())
      || conns_of(self, a->id) >= st.spec.max_tcp_connections) {
    ++st.stats.tcp_refused;
    caf::anon_send(up.pipe, caf::close_atom::value, up.peer);
    return;
  }
  tcp_peer_conn c;
  c.alloc = a->id;
  c.peer = up.peer;
  c.pipe = up.pipe;
  c.accepted = true;
  c.buffered = std::move(early);
  auto id = add_conn(self, std::move(c));
  ++st.stats.tcp_attempts;
  net::stun_builder b{net::stun_class::indication, net::stun_method::connection_attempt,
                      net::stun_txid::random()};
  b.add_xor_address(net::stun_attr::xor_peer_address, up.peer);
  add_connection_id(b, id);
  if (!st.spec.software.empty())
    b.add_software(st.spec.software);
  b.add_fingerprint();
  if (auto out = b.finish())
    to_client(self, a->client, as_bytes(*out));
}

bool on_tcp_end(server_ptr self, const pipe_end& e) {
  auto& st = self->state;
  if (e.pipe == st.control_tcp) {
    auto d = st.tcp.by_data.find(e.peer);
    if (d == st.tcp.by_data.end())
      return false;
    st.tcp.raw->remove(e.peer);
    auto id = d->second;
    st.tcp.by_data.erase(d);
    if (auto c = st.tcp.conns.find(id); c != st.tcp.conns.end()) {
      c->second.data.reset();
      drop_conn(self, c);
    }
    return true;
  }
  // A peer's connection, or a pipe of peers' connections, ended.
  for (auto it = st.tcp.early.begin(); it != st.tcp.early.end();) {
    auto* a = tcp_alloc_by_id(self, it->first.first);
    bool gone = a == nullptr
                || (a->relay == e.pipe && (e.whole || it->first.second == e.peer));
    it = gone ? st.tcp.early.erase(it) : std::next(it);
  }
  bool found = false;
  for (auto it = st.tcp.conns.begin(); it != st.tcp.conns.end();) {
    auto next = std::next(it);
    auto& c = it->second;
    if (c.pipe == e.pipe && (!c.accepted || e.whole || c.peer == e.peer)) {
      c.pipe = pipe_actor{}; // its connection is gone already
      drop_conn(self, it);
      found = true;
    }
    it = next;
  }
  return found;
}

void tcp_allocation_gone(server_ptr self, uint64_t alloc) {
  auto& st = self->state;
  auto& v = st.tcp.connecting;
  for (auto& [id, pipe] : v)
    if (id == alloc)
      caf::anon_send(pipe, caf::close_atom::value);
  v.erase(std::remove_if(v.begin(), v.end(), [&](auto& x) { return x.first == alloc; }),
          v.end());
  for (auto it = st.tcp.early.begin(); it != st.tcp.early.end();)
    it = it->first.first == alloc ? st.tcp.early.erase(it) : std::next(it);
  for (auto it = st.tcp.conns.begin(); it != st.tcp.conns.end();) {
    auto next = std::next(it);
    if (it->second.alloc == alloc)
      drop_conn(self, it);
    it = next;
  }
}

void tcp_sweep(server_ptr self) {
  auto& st = self->state;
  auto now = self->clock().now();
  for (auto it = st.tcp.conns.begin(); it != st.tcp.conns.end();) {
    auto next = std::next(it);
    if (!it->second.data && it->second.bind_by <= now) {
      ++st.stats.tcp_unbound_expired;
      drop_conn(self, it);
    }
    it = next;
  }
}

} // namespace p2pd::actors::turn_srv
