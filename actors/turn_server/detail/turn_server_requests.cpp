// The TURN server's requests (RFC 8656 §7-§12, authentication of RFC 8489
// §9.2): each is authenticated, checked and answered here; the relay pipe
// of an Allocate is opened asynchronously and the answer sent when it is.
#include <algorithm>
#include <chrono>

#include "caf/actor_cast.hpp"
#include "caf/send.hpp"

#include "p2pd/actors/common/timeouts.hpp"
#include "p2pd/actors/turn_server/detail/turn_server_state.hpp"
#include "p2pd/net/stun/detail/stun_detail.hpp"
#include "p2pd/net/stun/stun_builder.hpp"
#include "p2pd/net/stun/stun_responder.hpp"
#include "p2pd/net/turn/channel_data.hpp"
#include "p2pd/net/turn/turn_requests.hpp"

namespace p2pd::actors::turn_srv {

namespace {

using net::stun_attr::channel_number;
using net::stun_attr::xor_peer_address;

int64_t ns_of(srv_time t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

bytes as_bytes(const std::vector<uint8_t>& v) {
  return bytes(v.begin(), v.end());
}

const char* reason_of(uint16_t code) {
  switch (code) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 420: return "Unknown Attribute";
    case 437: return "Allocation Mismatch";
    case 438: return "Stale Nonce";
    case 440: return "Address Family not Supported";
    case 441: return "Wrong Credentials";
    case 442: return "Unsupported Transport Protocol";
    case 443: return "Peer Address Family Mismatch";
    case 486: return "Allocation Quota Reached";
    case 508: return "Insufficient Capacity";
    default: return "Error";
  }
}

void count_error(turn_server_stats& s, uint16_t code) {
  switch (code) {
    case 401: break; // counted where the reason is known
    case 438: ++s.stale_nonce; break;
    case 486: ++s.refused_quota; break;
    case 508: ++s.refused_capacity; break;
    default: ++s.refused_other; break;
  }
}

// An error response to `req`. 401 and 438 carry REALM and a fresh NONCE
// (and no integrity: the client has no good key yet); the others are
// signed with `key` when the request was authenticated.
void reply_error(server_ptr self, const net::stun_message& req, const client_id& to,
                 uint16_t code, const net::stun_key* key = nullptr,
                 const std::vector<uint16_t>& unknown = {}) {
  auto& st = self->state;
  count_error(st.stats, code);
  net::stun_builder b{net::stun_class::error, req.method(), req.txid()};
  b.add_error_code(code, reason_of(code));
  if (!unknown.empty())
    b.add_unknown_attributes(unknown);
  if (code == 401 || code == 438) {
    b.add_text(net::stun_attr::realm, st.spec.realm);
    auto expires = self->clock().now() + st.spec.nonce_lifetime;
    b.add_text(net::stun_attr::nonce, st.nonces->mint(to.ep.ip, ns_of(expires)));
  }
  if (!st.spec.software.empty())
    b.add_software(st.spec.software);
  if (key != nullptr)
    b.add_integrity(*key);
  b.add_fingerprint();
  if (auto out = b.finish())
    to_client(self, to, as_bytes(*out));
}

// A success response of `b`'s attributes, signed and fingerprinted.
void reply_success(server_ptr self, net::stun_builder& b, const client_id& to,
                   const net::stun_key& key, bytes* keep = nullptr) {
  auto& st = self->state;
  if (!st.spec.software.empty())
    b.add_software(st.spec.software);
  b.add_integrity(key);
  b.add_fingerprint();
  auto out = b.finish();
  if (!out)
    return;
  auto data = as_bytes(*out);
  if (keep != nullptr)
    *keep = data;
  to_client(self, to, std::move(data));
}

struct credentials {
  std::string username;
  net::stun_key key;
};

// RFC 8489 §9.2.4: the request's long-term credentials, or nothing once
// the error is answered.
std::optional<credentials> authenticate(server_ptr self, const net::stun_message& m,
                                        const client_id& from) {
  auto& st = self->state;
  if (!m.has_integrity()) {
    ++st.stats.unauthenticated;
    reply_error(self, m, from, 401);
    return std::nullopt;
  }
  auto user = m.username();
  auto realm = m.realm();
  auto nonce = m.nonce();
  if (!user || !realm || !nonce) {
    reply_error(self, m, from, 400);
    return std::nullopt;
  }
  switch (st.nonces->check(*nonce, from.ep.ip, ns_of(self->clock().now()))) {
    case turn_nonces::verdict::ok: break;
    case turn_nonces::verdict::stale:
    case turn_nonces::verdict::forged:
      // A nonce of another server (or a restart of this one) is as good as
      // stale: the client signs again with the one given.
      reply_error(self, m, from, 438);
      return std::nullopt;
  }
  auto pw = st.spec.users.find(*user);
  if (pw == st.spec.users.end() || *realm != st.spec.realm) {
    ++st.stats.auth_failed;
    reply_error(self, m, from, 401);
    return std::nullopt;
  }
  auto key = net::stun_key::long_term(*user, st.spec.realm, pw->second);
  if (!key || !m.integrity_ok(*key)) {
    ++st.stats.auth_failed;
    reply_error(self, m, from, 401);
    return std::nullopt;
  }
  return credentials{*user, std::move(*key)};
}

caf::timespan granted(const turn_server_spec& spec, std::optional<uint32_t> asked_s) {
  caf::timespan want = asked_s ? caf::timespan{std::chrono::seconds(*asked_s)}
                               : spec.default_lifetime;
  auto g = std::max(std::min(want, spec.max_lifetime), spec.default_lifetime);
  return std::min(g, spec.max_lifetime);
}

uint32_t seconds_of(caf::timespan t) {
  auto s = std::chrono::duration_cast<std::chrono::seconds>(t + std::chrono::seconds(1)
                                                            - caf::timespan{1});
  return static_cast<uint32_t>(std::max<int64_t>(1, s.count()));
}

void add_lifetime(net::stun_builder& b, uint32_t s) {
  uint8_t v[4];
  net::stun_detail::put32(v, s);
  b.add_raw(net::stun_attr::lifetime, v, sizeof(v));
}

// -- Allocate ----------------------------------------------------------------

uint16_t next_port(server_ptr self, bool even) {
  auto& st = self->state;
  if (st.spec.relay_port_min == 0 && st.spec.relay_port_max == 0)
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
  if (a.tries < st.spec.port_tries && !(st.spec.relay_port_min == 0 && st.spec.relay_port_max == 0)) {
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

// -- the others ----------------------------------------------------------------

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

// The peers of a CreatePermission or ChannelBind, all of the relay's
// family; or nothing once the error is answered.
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
  size_t fresh = 0;
  for (auto& p : *peers)
    fresh += a->perms.count(p.ip) == 0 ? 1 : 0;
  if (a->perms.size() + fresh > st.spec.max_permissions) {
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

void on_send_indication(server_ptr self, const net::stun_message& m, const client_id& from) {
  auto& st = self->state;
  auto it = st.allocs.find(from);
  if (it == st.allocs.end() || !it->second.ready) {
    ++st.stats.dropped_no_allocation;
    return;
  }
  auto& a = it->second;
  auto peer = m.address(xor_peer_address);
  auto data = m.find(net::stun_attr::data);
  if (!peer || data == nullptr) {
    ++st.stats.malformed;
    return;
  }
  if (!permitted(a, peer->ip, self->clock().now())) {
    ++st.stats.dropped_no_permission;
    return;
  }
  if (!take_bandwidth(self, a, data->value.size()))
    return;
  ++st.stats.to_peers;
  st.stats.relayed_bytes += data->value.size();
  self->send(a.relay, send_atom::value, bytes(data->value.begin(), data->value.end()), *peer);
}

void on_channel_data(server_ptr self, const bytes& raw, const client_id& from) {
  auto& st = self->state;
  auto cd = net::decode_channel_data(reinterpret_cast<const uint8_t*>(raw.data()), raw.size(),
                                     st.spec.max_channel());
  if (!cd) {
    ++st.stats.malformed;
    return;
  }
  auto it = st.allocs.find(from);
  if (it == st.allocs.end() || !it->second.ready) {
    ++st.stats.dropped_no_allocation;
    return;
  }
  auto& a = it->second;
  auto now = self->clock().now();
  auto ch = a.channels.find(cd->channel);
  if (ch == a.channels.end() || ch->second.expires <= now) {
    ++st.stats.dropped_unknown_channel;
    return;
  }
  if (!permitted(a, ch->second.peer.ip, now)) {
    ++st.stats.dropped_no_permission;
    return;
  }
  if (!take_bandwidth(self, a, cd->size))
    return;
  ++st.stats.to_peers;
  st.stats.relayed_bytes += cd->size;
  auto p = reinterpret_cast<const char*>(cd->data);
  self->send(a.relay, send_atom::value, bytes(p, p + cd->size), ch->second.peer);
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
      && method != channel_bind) {
    // Connect and the others of TCP allocations (RFC 6062) included.
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
