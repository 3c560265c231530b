// The TURN server's Allocate (RFC 8656 §7): checks and quotas, then a relay
// pipe on a port of the range, opened asynchronously (the next port on
// failure), and the answer once it is open.
#include <algorithm>

#include "caf/actor_cast.hpp"
#include "caf/send.hpp"

#include "p2pd/actors/common/timeouts.hpp"
#include "p2pd/actors/turn_server/detail/turn_server_replies.hpp"
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

void relay_opened(server_ptr self, uint64_t id, const pipe_info& info) {
  auto& st = self->state;
  auto c = st.client_of.find(id);
  if (c == st.client_of.end()) {
    caf::anon_send(info.pipe, caf::close_atom::value); // deleted meanwhile
    return;
  }
  auto& a = st.allocs.find(c->second)->second;
  a.ready = true;
  a.relayed = info.local;
  ++st.stats.allocated;
  auto life = a.expires - self->clock().now();
  net::stun_builder b{net::stun_class::success, net::stun_method::allocate, a.allocate_txid};
  b.add_xor_address(net::stun_attr::xor_relayed_address, a.relayed);
  add_lifetime(b, seconds_of(std::max(life, caf::timespan{0})));
  b.add_xor_address(net::stun_attr::xor_mapped_address, a.client.ep);
  reply_success(self, b, a.client, a.key, &a.allocate_answer);
}

void open_relay(server_ptr self, uint64_t id) {
  auto& st = self->state;
  auto& a = st.allocs.find(st.client_of.at(id))->second;
  ++a.tries;
  endpoint local{st.spec.relay_ip, next_port(self, a.even_port)};
  auto handler = [weak = caf::weak_actor_ptr{self->ctrl()}, inbox = st.relay_inbox,
                  id](pipe_io&, std::string_view data, const endpoint& from) {
    tell_bounded(weak, *inbox, peer_atom::value, id, bytes(data.begin(), data.end()), from);
  };
  a.relay = st.stack->spawn_pipe(self->home_system(), server_spec(udp, local, handler));
  self->monitor(a.relay);
  // A UDP server pipe answers open at once (bound, or the bind's error).
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
  if (transport->value[0] != 17) {
    reply_error(self, m, from, 442, &cred.key);
    return;
  }
  if (m.find(net::stun_attr::dont_fragment) != nullptr) {
    reply_error(self, m, from, 420, &cred.key, {net::stun_attr::dont_fragment});
    return;
  }
  if (m.find(net::stun_attr::reservation_token) != nullptr) {
    reply_error(self, m, from, 508, &cred.key); // no reservations are kept
    return;
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
  if (st.allocs.size() >= st.spec.max_allocations) {
    reply_error(self, m, from, 508, &cred.key);
    return;
  }
  auto& used = st.per_user[cred.username];
  if (used >= st.spec.max_allocations_per_user) {
    reply_error(self, m, from, 486, &cred.key);
    return;
  }
  ++used;
  auto id = st.next_id++;
  auto now = self->clock().now();
  allocation a;
  a.id = id;
  a.client = from;
  a.username = cred.username;
  a.key = cred.key;
  a.allocate_txid = m.txid();
  a.even_port = m.find(net::stun_attr::even_port) != nullptr;
  a.expires = now + granted(st.spec, net::turn_lifetime(m));
  a.tokens = static_cast<double>(st.spec.max_bytes_per_s);
  a.tokens_at = now;
  st.allocs.emplace(from, std::move(a));
  st.client_of.emplace(id, from);
  open_relay(self, id);
}

} // namespace p2pd::actors::turn_srv
