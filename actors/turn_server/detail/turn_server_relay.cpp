// The TURN server's data path both ways (Send indications and ChannelData
// to peers, ChannelData and Data indications to clients), the limits it
// applies, and the sweep of what expired.
#include <algorithm>

#include "caf/send.hpp"

#include "p2pd/actors/turn_server/detail/turn_server_replies.hpp"
#include "p2pd/actors/turn_server/detail/turn_server_tcp_relay.hpp"
#include "p2pd/net/stun/stun_builder.hpp"
#include "p2pd/net/turn/channel_data.hpp"

namespace p2pd::actors::turn_srv {

void to_client(server_ptr self, const client_id& to, bytes data) {
  auto& st = self->state;
  auto& pipe = to.stream() ? st.control_tcp : st.control;
  if (pipe)
    self->send(pipe, send_atom::value, std::move(data), to.ep);
}

bool permitted(const allocation& a, const net::ip_address& ip, srv_time now) {
  auto p = a.perms.find(ip);
  return p != a.perms.end() && p->second > now;
}

bool take_bandwidth(server_ptr self, allocation& a, size_t size) {
  auto& st = self->state;
  auto rate = st.spec.max_bytes_per_s;
  if (rate == 0)
    return true;
  auto now = self->clock().now();
  auto secs = std::chrono::duration<double>(now - a.tokens_at).count();
  a.tokens = std::min(static_cast<double>(rate), a.tokens + secs * static_cast<double>(rate));
  a.tokens_at = now;
  if (a.tokens < static_cast<double>(size)) {
    ++st.stats.dropped_bandwidth;
    return false;
  }
  a.tokens -= static_cast<double>(size);
  return true;
}

void on_peer(server_ptr self, uint64_t id, const bytes& data, const endpoint& from) {
  auto& st = self->state;
  auto c = st.client_of.find(id);
  if (c == st.client_of.end())
    return; // deleted, and its pipe closing
  auto& a = st.allocs.find(c->second)->second;
  auto now = self->clock().now();
  if (!permitted(a, from.ip, now)) {
    ++st.stats.dropped_no_permission;
    return;
  }
  if (!take_bandwidth(self, a, data.size()))
    return;
  auto p = reinterpret_cast<const uint8_t*>(data.data());
  net::result<std::vector<uint8_t>> frame = std::vector<uint8_t>{};
  auto ch = a.channel_of.find(from);
  if (ch != a.channel_of.end() && a.channels.at(ch->second).expires > now) {
    frame = net::encode_channel_data(ch->second, p, data.size(), a.client.stream(),
                                     st.spec.max_channel());
  } else {
    net::stun_builder b{net::stun_class::indication, net::stun_method::data,
                        net::stun_txid::random()};
    b.add_xor_address(net::stun_attr::xor_peer_address, from);
    b.add_raw(net::stun_attr::data, p, data.size());
    frame = b.finish();
  }
  if (!frame) {
    ++st.stats.dropped_too_large; // a STUN message or ChannelData: 65535 bytes at most
    return;
  }
  ++st.stats.to_clients;
  st.stats.relayed_bytes += data.size();
  to_client(self, a.client, bytes(frame->begin(), frame->end()));
}

void on_send_indication(server_ptr self, const net::stun_message& m, const client_id& from) {
  auto& st = self->state;
  auto it = st.allocs.find(from);
  if (it == st.allocs.end() || !it->second.ready) {
    ++st.stats.dropped_no_allocation;
    return;
  }
  auto& a = it->second;
  auto peer = m.address(net::stun_attr::xor_peer_address);
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

void remove_allocation(server_ptr self, std::map<client_id, allocation>::iterator it,
                       end_reason why) {
  auto& st = self->state;
  auto& a = it->second;
  switch (why) {
    case end_reason::expired: ++st.stats.expired; break;
    case end_reason::deleted: ++st.stats.deleted; break;
    case end_reason::refused: break;
  }
  tcp_allocation_gone(self, a.id);
  if (a.relay) {
    self->demonitor(a.relay.address());
    caf::anon_send(a.relay, caf::close_atom::value);
  }
  if (auto u = st.per_user.find(a.username); u != st.per_user.end() && --u->second == 0)
    st.per_user.erase(u);
  st.client_of.erase(a.id);
  st.allocs.erase(it);
}

size_t slots_taken(const turn_server_state& st, const std::string* user) {
  size_t n = 0;
  for (auto& [client, a] : st.allocs)
    if (user == nullptr || a.username == *user)
      n += a.reserve && !a.ready ? 2 : 1;
  for (auto& [token, r] : st.reservations)
    if (user == nullptr || r.username == *user)
      ++n;
  return n;
}

void sweep(server_ptr self) {
  auto& st = self->state;
  auto now = self->clock().now();
  for (auto it = st.reservations.begin(); it != st.reservations.end();) {
    if (it->second.expires <= now) {
      self->demonitor(it->second.pipe.address());
      caf::anon_send(it->second.pipe, caf::close_atom::value);
      it = st.reservations.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = st.allocs.begin(); it != st.allocs.end();) {
    auto& a = it->second;
    // One still opening its relay has an answer coming; it expires after.
    if (a.ready && a.expires <= now) {
      auto dead = it++;
      remove_allocation(self, dead, end_reason::expired);
      continue;
    }
    for (auto p = a.perms.begin(); p != a.perms.end();)
      p = p->second <= now ? a.perms.erase(p) : std::next(p);
    for (auto c = a.channels.begin(); c != a.channels.end();) {
      if (c->second.expires <= now) {
        a.channel_of.erase(c->second.peer);
        c = a.channels.erase(c);
      } else {
        ++c;
      }
    }
    ++it;
  }
}

} // namespace p2pd::actors::turn_srv
