// The TURN server's Allocate (RFC 8656 §7): checks and quotas, then a relay
// pipe on a port of the range, opened asynchronously (the next port on
// failure), and the answer once it is open.
#include <algorithm>
#include <optional>

#include "caf/actor_cast.hpp"
#include "caf/send.hpp"

#include "p2pd/actors/common/timeouts.hpp"
#include "p2pd/actors/turn_server/detail/turn_server_replies.hpp"
#include "p2pd/actors/turn_server/detail/turn_server_tcp_relay.hpp"
#include "p2pd/net/turn/turn_requests.hpp"

namespace p2pd::actors::turn_srv {

namespace {

uint16_t next_port(server_ptr self, bool even) {
  auto& st = self->state;
  if (st.spec.free_relay_ports())
    return 0;
  uint32_t span = uint32_t{st.spec.relay_port_max} - st.spec.relay_port_min + 1;
  for (uint32_t i = 0; i < span; ++i) {
    auto port = static_cast<uint16_t>(st.spec.relay_port_min + st.port_cursor++ % span);
    if (!even || port % 2 == 0)
      return port;
  }
  return st.spec.relay_port_min;
}

void open_relay(server_ptr self, uint64_t id);

// Whether the range has an even port (and, to reserve, the port above it
// too). Free ports ({0, 0}) are the stack's pick: no even one promised.
bool even_port_possible(const turn_server_spec& spec, bool reserve) {
  if (spec.free_relay_ports())
    return false;
  uint32_t first_even = spec.relay_port_min + spec.relay_port_min % 2u;
  return first_even + (reserve ? 1u : 0u) <= spec.relay_port_max;
}

void relay_failed(server_ptr self, uint64_t id) {
  auto& st = self->state;
  auto c = st.client_of.find(id);
  if (c == st.client_of.end())
    return;
  auto it = st.allocs.find(c->second);
  auto& a = it->second;
  if (a.tries < st.spec.port_tries && !st.spec.free_relay_ports()) {
    open_relay(self, id);
    return;
  }
  // No port: the Allocate is refused; its retransmissions find no
  // allocation and are tried afresh.
  net::stun_message req{net::stun_class::request, net::stun_method::allocate, a.allocate_txid};
  auto key = a.key;
  auto client = a.client;
  remove_allocation(self, it, end_reason::refused);
  reply_error(self, req, client, 508, &key);
}

// The allocation behind `id` while it is being made; null once it is gone.
allocation* making(server_ptr self, uint64_t id) {
  auto& st = self->state;
  auto c = st.client_of.find(id);
  return c == st.client_of.end() ? nullptr : &st.allocs.find(c->second)->second;
}

// The relay is open (and the port above reserved, with `token`): the
// Allocate's answer.
void allocated(server_ptr self, allocation& a, std::optional<uint64_t> token) {
  auto& st = self->state;
  a.ready = true;
  ++st.stats.allocated;
  auto life = a.expires - self->clock().now();
  net::stun_builder b{net::stun_class::success, net::stun_method::allocate, a.allocate_txid};
  b.add_xor_address(net::stun_attr::xor_relayed_address, a.relayed);
  add_lifetime(b, seconds_of(std::max(life, caf::timespan{0})));
  b.add_xor_address(net::stun_attr::xor_mapped_address, a.client.ep);
  if (token) {
    uint8_t v[8];
    for (int i = 0; i < 8; ++i)
      v[i] = static_cast<uint8_t>(*token >> (56 - 8 * i));
    b.add_raw(net::stun_attr::reservation_token, v, sizeof(v));
  }
  reply_success(self, b, a.client, a.key, &a.allocate_answer);
}

msg_handler relay_handler(server_ptr self, uint64_t id) {
  return [weak = caf::weak_actor_ptr{self->ctrl()}, inbox = self->state.relay_inbox,
          id](pipe_io&, std::string_view data, const endpoint& from) {
    tell_bounded(weak, *inbox, peer_atom::value, id, bytes(data.begin(), data.end()), from);
  };
}

// Closes the relay pipe of an allocation still being made (its port, or the
// one above, did not do) and tries the next port.
void retry_relay(server_ptr self, uint64_t id) {
  if (auto* a = making(self, id); a != nullptr && a->relay) {
    self->demonitor(a->relay.address());
    caf::anon_send(a->relay, caf::close_atom::value);
    a->relay = nullptr;
  }
  relay_failed(self, id);
}

// EVEN-PORT with R: the port above the relayed one, opened for a later
// Allocate whose pipe handler already reports it under its own id.
void reserve_above(server_ptr self, uint64_t id) {
  auto& st = self->state;
  auto* a = making(self, id);
  if (a->relayed.port >= st.spec.relay_port_max) {
    retry_relay(self, id);
    return;
  }
  auto rid = st.next_id++;
  endpoint local{st.spec.relay_ip, static_cast<uint16_t>(a->relayed.port + 1)};
  auto pipe = st.stack->spawn_pipe(self->home_system(),
                                   server_spec(udp, local, relay_handler(self, rid)));
  self->request(pipe, timeouts::until_answered, caf::open_atom::value)
    .then(
      [self, id, rid, pipe](pipe_info& info) {
        auto& st = self->state;
        auto* a = making(self, id);
        if (a == nullptr) {
          caf::anon_send(pipe, caf::close_atom::value);
          return;
        }
        auto token = net::stun_txid::random();
        uint64_t t = 0;
        for (int i = 0; i < 8; ++i)
          t = t << 8 | token.data()[i];
        self->monitor(pipe);
        st.reservations[t] = reservation{rid, a->username, pipe, info.local,
                                         self->clock().now() + st.spec.reservation_lifetime};
        allocated(self, *a, t);
      },
      [self, id](caf::error&) { retry_relay(self, id); });
}

void relay_opened(server_ptr self, uint64_t id, const pipe_info& info) {
  auto* a = making(self, id);
  if (a == nullptr) {
    caf::anon_send(info.pipe, caf::close_atom::value); // deleted meanwhile
    return;
  }
  a->relayed = info.local;
  if (a->reserve && !self->state.spec.free_relay_ports())
    reserve_above(self, id);
  else
    allocated(self, *a, std::nullopt);
}

void open_relay(server_ptr self, uint64_t id) {
  auto& st = self->state;
  auto& a = st.allocs.find(st.client_of.at(id))->second;
  ++a.tries;
  endpoint local{st.spec.relay_ip, next_port(self, a.even_port)};
  a.relay = st.stack->spawn_pipe(self->home_system(),
                                 a.tcp ? tcp_relay_listener(self, local, id)
                                       : server_spec(udp, local, relay_handler(self, id)));
  self->monitor(a.relay);
  // A server pipe answers open at once (bound, or the bind's error).
  self->request(a.relay, timeouts::until_answered, caf::open_atom::value)
    .then([self, id](pipe_info& info) { relay_opened(self, id, info); },
          [self, id](caf::error&) { relay_failed(self, id); });
}

} // namespace

void on_allocate(server_ptr self, const net::stun_message& m, const client_id& from,
                 const credentials& cred) {
  auto& st = self->state;
  if (auto it = st.allocs.find(from); it != st.allocs.end()) {
    auto& a = it->second;
    if (a.allocate_txid == m.txid()) {
      if (a.ready)
        to_client(self, from, a.allocate_answer); // a retransmission
      return; // or its relay is still opening: the answer is coming
    }
    reply_error(self, m, from, 437, &cred.key);
    return;
  }
  auto transport = m.find(net::stun_attr::requested_transport);
  if (transport == nullptr || transport->value.size() != 4) {
    reply_error(self, m, from, 400, &cred.key);
    return;
  }
  // TCP (6) only over a stream to us (RFC 6062 §5.1).
  bool tcp_relay = transport->value[0] == 6 && from.stream();
  if (transport->value[0] != 17 && !tcp_relay) {
    reply_error(self, m, from, 442, &cred.key);
    return;
  }
  if (m.find(net::stun_attr::dont_fragment) != nullptr) {
    reply_error(self, m, from, 420, &cred.key, {net::stun_attr::dont_fragment});
    return;
  }
  auto token_attr = m.find(net::stun_attr::reservation_token);
  auto even = m.find(net::stun_attr::even_port);
  if ((token_attr != nullptr && (even != nullptr || token_attr->value.size() != 8))
      || (tcp_relay && (token_attr != nullptr || even != nullptr))) {
    reply_error(self, m, from, 400, &cred.key); // RFC 8656 §7.2: not both
    return;
  }
  auto claimed = st.reservations.end();
  if (token_attr != nullptr) {
    uint64_t t = 0;
    for (auto x : token_attr->value)
      t = t << 8 | x;
    claimed = st.reservations.find(t);
    if (claimed == st.reservations.end()) {
      reply_error(self, m, from, 508, &cred.key); // unknown, or expired
      return;
    }
  }
  auto fam = net::family::v4;
  if (auto raf = m.find(net::stun_attr::requested_address_family)) {
    if (raf->value.size() != 4 || (raf->value[0] != 1 && raf->value[0] != 2)) {
      reply_error(self, m, from, 400, &cred.key);
      return;
    }
    fam = raf->value[0] == 2 ? net::family::v6 : net::family::v4;
  }
  if (fam != st.spec.relay_ip.fam()) {
    reply_error(self, m, from, 440, &cred.key);
    return;
  }
  // A reserved port counts as an allocation (else Allocate with EVEN-PORT
  // R and Refresh 0, again and again, would hold ports without limit): an
  // Allocate that reserves needs two slots, one that claims frees its
  // reservation's.
  bool reserve = even != nullptr && !even->value.empty() && (even->value[0] & 0x80) != 0;
  if (even != nullptr && !even_port_possible(st.spec, reserve)) {
    reply_error(self, m, from, 508, &cred.key); // RFC 8656 §7.2: no such port
    return;
  }
  size_t need = reserve ? 2 : 1;
  bool claiming = claimed != st.reservations.end();
  size_t own = claiming && claimed->second.username == cred.username ? 1 : 0;
  if (slots_taken(st, nullptr) - (claiming ? 1 : 0) + need > st.spec.max_allocations) {
    reply_error(self, m, from, 508, &cred.key);
    return;
  }
  if (slots_taken(st, &cred.username) - own + need > st.spec.max_allocations_per_user) {
    reply_error(self, m, from, 486, &cred.key);
    return;
  }
  ++st.per_user[cred.username];
  auto id = claimed != st.reservations.end() ? claimed->second.id : st.next_id++;
  auto now = self->clock().now();
  allocation a;
  a.id = id;
  a.client = from;
  a.username = cred.username;
  a.key = cred.key;
  a.allocate_txid = m.txid();
  a.tcp = tcp_relay;
  a.even_port = even != nullptr;
  a.reserve = reserve;
  a.expires = now + granted(st.spec, net::turn_lifetime(m));
  a.tokens = static_cast<double>(st.spec.max_bytes_per_s);
  a.tokens_at = now;
  st.allocs.emplace(from, std::move(a));
  st.client_of.emplace(id, from);
  if (claimed == st.reservations.end()) {
    open_relay(self, id);
    return;
  }
  // The reserved port is open already, its datagrams reported under `id`.
  auto& made = st.allocs.find(from)->second;
  made.relay = claimed->second.pipe;
  made.relayed = claimed->second.local;
  st.reservations.erase(claimed);
  allocated(self, made, std::nullopt);
}

} // namespace p2pd::actors::turn_srv
