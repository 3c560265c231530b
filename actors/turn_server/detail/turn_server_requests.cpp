// The TURN server's requests other than Allocate (RFC 8656 §8-§12) and
// the dispatch of what a client sends: requests, indications, ChannelData.
#include <algorithm>
#include <set>

#include "p2pd/actors/turn_server/detail/turn_server_replies.hpp"
#include "p2pd/actors/turn_server/detail/turn_server_tcp_relay.hpp"
#include "p2pd/net/stun/detail/stun_detail.hpp"
#include "p2pd/net/stun/stun_responder.hpp"
#include "p2pd/net/turn/channel_data.hpp"
#include "p2pd/net/turn/turn_requests.hpp"

namespace p2pd::actors::turn_srv {

namespace {

using net::stun_attr::channel_number;
using net::stun_attr::xor_peer_address;

// The client's ready allocation, checked against the request's user; or
// nothing once the error is answered.
allocation* allocation_for(server_ptr self, const net::stun_message& m, const client_id& from,
                           const credentials& cred) {
  auto& st = self->state;
  auto it = st.allocs.find(from);
  if (it == st.allocs.end() || !it->second.ready) {
    reply_error(self, m, from, 437, &cred.key);
    return nullptr;
  }
  if (it->second.username != cred.username) {
    reply_error(self, m, from, 441, &cred.key);
    return nullptr;
  }
  return &it->second;
}

void on_refresh(server_ptr self, const net::stun_message& m, const client_id& from,
                const credentials& cred) {
  auto& st = self->state;
  auto* a = allocation_for(self, m, from, cred);
  if (a == nullptr)
    return;
  auto asked = net::turn_lifetime(m);
  net::stun_builder b{net::stun_class::success, net::stun_method::refresh, m.txid()};
  if (asked && *asked == 0) {
    remove_allocation(self, st.allocs.find(from), end_reason::deleted);
    add_lifetime(b, 0);
    reply_success(self, b, from, cred.key);
    return;
  }
  auto g = granted(st.spec, asked);
  a->expires = self->clock().now() + g;
  add_lifetime(b, seconds_of(g));
  reply_success(self, b, from, cred.key);
}

// Whether the server relays to `peer`: never to addresses no peer has
// (unspecified, multicast, broadcast), to this link's (link-local), nor to
// the server itself; to loopback only when the spec allows it (tests).
bool peer_allowed(const turn_server_state& st, const endpoint& peer) {
  auto ip = peer.ip.unmapped();
  auto& b = ip.bytes();
  if (ip.is_any())
    return false;
  if (ip.is_loopback())
    return st.spec.allow_loopback_peers;
  if (ip.is_v4()) {
    auto v = ip.v4_value();
    if ((v >> 28) == 0xE || v == 0xFFFFFFFFu || (v >> 16) == 0xA9FE || (v >> 24) == 0)
      return false; // multicast, broadcast, 169.254/16, 0/8
  } else if (b[0] == 0xFF || (b[0] == 0xFE && (b[1] & 0xC0) == 0x80)) {
    return false; // multicast, fe80::/10
  }
  auto& own = st.listening;
  return !(peer.port == own.port && (own.ip.is_any() || own.ip.unmapped() == ip));
}

// The peers of a CreatePermission or ChannelBind, all of the relay's
// family and allowed (peer_allowed, else 403); or nothing once the error is
// answered.
std::optional<std::vector<endpoint>> peers_of(server_ptr self, const net::stun_message& m,
                                              const client_id& from, const credentials& cred) {
  auto peers = m.addresses(xor_peer_address);
  size_t n = 0;
  for (auto& a : m.attributes())
    n += a.type == xor_peer_address ? 1 : 0;
  if (peers.empty() || peers.size() != n) {
    reply_error(self, m, from, 400, &cred.key);
    return std::nullopt;
  }
  for (auto& p : peers)
    if (p.fam() != self->state.spec.relay_ip.fam()) {
      reply_error(self, m, from, 443, &cred.key);
      return std::nullopt;
    }
  for (auto& p : peers)
    if (!peer_allowed(self->state, p)) {
      reply_error(self, m, from, 403, &cred.key);
      return std::nullopt;
    }
  return peers;
}

void on_permission(server_ptr self, const net::stun_message& m, const client_id& from,
                   const credentials& cred) {
  auto& st = self->state;
  auto* a = allocation_for(self, m, from, cred);
  if (a == nullptr)
    return;
  auto peers = peers_of(self, m, from, cred);
  if (!peers)
    return;
  auto now = self->clock().now();
  // A permission is per IP: one peer IP given twice (other ports) is one.
  std::set<net::ip_address> fresh;
  for (auto& p : *peers)
    if (a->perms.count(p.ip) == 0)
      fresh.insert(p.ip);
  if (a->perms.size() + fresh.size() > st.spec.max_permissions) {
    reply_error(self, m, from, 508, &cred.key);
    return;
  }
  for (auto& p : *peers)
    a->perms[p.ip] = now + st.spec.permission_lifetime;
  net::stun_builder b{net::stun_class::success, net::stun_method::create_permission, m.txid()};
  reply_success(self, b, from, cred.key);
}

void on_channel_bind(server_ptr self, const net::stun_message& m, const client_id& from,
                     const credentials& cred) {
  auto& st = self->state;
  auto* a = allocation_for(self, m, from, cred);
  if (a == nullptr)
    return;
  auto num = m.find(channel_number);
  auto peers = m.addresses(xor_peer_address);
  if (num == nullptr || num->value.size() != 4 || peers.size() != 1) {
    reply_error(self, m, from, 400, &cred.key);
    return;
  }
  auto ch = net::stun_detail::get16(num->value.data());
  auto& peer = peers.front();
  if (!net::turn_valid_channel(ch, st.spec.max_channel())) {
    reply_error(self, m, from, 400, &cred.key);
    return;
  }
  if (peer.fam() != st.spec.relay_ip.fam()) {
    reply_error(self, m, from, 443, &cred.key);
    return;
  }
  if (!peer_allowed(st, peer)) {
    reply_error(self, m, from, 403, &cred.key);
    return;
  }
  auto bound = a->channels.find(ch);
  auto of = a->channel_of.find(peer);
  // RFC 8656 §12.2: a number stays with its peer, a peer with its number.
  if ((bound != a->channels.end() && bound->second.peer != peer)
      || (of != a->channel_of.end() && of->second != ch)) {
    reply_error(self, m, from, 400, &cred.key);
    return;
  }
  bool fresh_perm = a->perms.count(peer.ip) == 0;
  if ((bound == a->channels.end() && a->channels.size() >= st.spec.max_channels)
      || (fresh_perm && a->perms.size() >= st.spec.max_permissions)) {
    reply_error(self, m, from, 508, &cred.key);
    return;
  }
  auto now = self->clock().now();
  a->channels[ch] = relay_channel{peer, now + st.spec.channel_lifetime};
  a->channel_of[peer] = ch;
  auto& perm = a->perms[peer.ip];
  perm = std::max(perm, now + st.spec.permission_lifetime);
  net::stun_builder b{net::stun_class::success, net::stun_method::channel_bind, m.txid()};
  reply_success(self, b, from, cred.key);
}

void on_request(server_ptr self, const net::stun_message& m, const client_id& from,
                const bytes& raw) {
  auto& st = self->state;
  ++st.stats.requests;
  if (m.method() == net::stun_method::binding) {
    // What a client's keep-alive or a STUN check asks: answered unsigned.
    net::stun_server_addrs addrs;
    auto& info = st.opening.info();
    addrs.primary_ip = info ? info->local.ip : st.spec.listen.ip;
    addrs.primary_port = info ? info->local.port : st.spec.listen.port;
    auto r = net::stun_respond(reinterpret_cast<const uint8_t*>(raw.data()), raw.size(),
                               from.ep, {}, addrs, st.spec.software, from.stream());
    if (r && *r)
      to_client(self, from, as_bytes((*r)->bytes));
    return;
  }
  using namespace net::stun_method;
  auto method = m.method();
  if (method != allocate && method != refresh && method != create_permission
      && method != channel_bind && method != connect && method != connection_bind) {
    reply_error(self, m, from, 400);
    return;
  }
  auto cred = authenticate(self, m, from);
  if (!cred)
    return;
  if (!m.unknown_comprehension_required().empty()) {
    reply_error(self, m, from, 420, &cred->key, m.unknown_comprehension_required());
    return;
  }
  switch (method) {
    case allocate: on_allocate(self, m, from, *cred); break;
    case refresh: on_refresh(self, m, from, *cred); break;
    case create_permission: on_permission(self, m, from, *cred); break;
    case connect: on_connect(self, m, from, *cred); break;
    case connection_bind: on_connection_bind(self, m, from, *cred); break;
    default: on_channel_bind(self, m, from, *cred); break;
  }
}

} // namespace

void on_client(server_ptr self, const bytes& data, const client_id& from) {
  auto& st = self->state;
  auto p = reinterpret_cast<const uint8_t*>(data.data());
  switch (net::turn_frame_of(p, data.size())) {
    case net::turn_frame_kind::channel_data:
      on_channel_data(self, data, from);
      return;
    case net::turn_frame_kind::unknown:
      ++st.stats.malformed;
      return;
    case net::turn_frame_kind::stun:
      break;
  }
  auto m = net::decode_stun(p, data.size());
  if (!m) {
    ++st.stats.malformed;
    return;
  }
  switch (m->cls()) {
    case net::stun_class::request:
      on_request(self, *m, from, data);
      return;
    case net::stun_class::indication:
      if (m->method() == net::stun_method::send)
        on_send_indication(self, *m, from);
      else
        ++st.stats.malformed;
      return;
    default:
      ++st.stats.malformed; // responses: we ask clients nothing
      return;
  }
}

} // namespace p2pd::actors::turn_srv
