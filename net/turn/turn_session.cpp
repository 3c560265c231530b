#include "p2pd/net/turn/turn_session.hpp"

#include <algorithm>

#include "p2pd/net/stun/stun_message.hpp"
#include "p2pd/net/turn/channel_data.hpp"
#include "p2pd/net/turn/turn_tcp.hpp"

namespace p2pd::net {

namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::vector<uint8_t> key_of(const stun_txid& id) {
  return {id.data(), id.data() + id.size()};
}

} // namespace

const char* to_string(turn_state x) {
  switch (x) {
    case turn_state::idle: return "idle";
    case turn_state::allocating: return "allocating";
    case turn_state::allocated: return "allocated";
    case turn_state::failed: return "failed";
    case turn_state::closing: return "closing";
    case turn_state::closed: return "closed";
  }
  return "?";
}

turn_session::turn_session(turn_config cfg) : cfg_(std::move(cfg)) {
}

std::string turn_session::server_text() const {
  return "TURN server " + cfg_.server.to_string();
}

void turn_session::start(turn_time now) {
  if (state_ != turn_state::idle)
    return;
  state_ = turn_state::allocating;
  if (tcp() && !cfg_.stream)
    return fail(error{errc::invalid_argument, "a TCP allocation (RFC 6062) needs a TCP or TLS"
                                              " connection to " + server_text()});
  issue(txn_kind::allocate, now);
}

result<std::vector<uint8_t>> turn_session::build(const txn& t, const stun_txid& id) const {
  auto auth = auth_ ? &*auth_ : nullptr;
  switch (t.kind) {
    case txn_kind::allocate:
      return build_turn_allocate(id, cfg_.allocate, auth, cfg_.software);
    case txn_kind::refresh:
      return build_turn_refresh(id, cfg_.allocate.lifetime_s, auth);
    case txn_kind::remove:
      return build_turn_refresh(id, 0, auth);
    case txn_kind::permission:
      return build_turn_permission(id, t.peers, auth);
    case txn_kind::channel_bind:
      return build_turn_channel_bind(id, t.channel, t.peers.front(), auth);
    case txn_kind::connect:
      return build_turn_connect(id, t.peers.front(), auth);
  }
  return error{errc::invalid_argument, "unknown TURN request"};
}

turn_session::txn* turn_session::issue(txn_kind kind, turn_time now, std::vector<endpoint> peers,
                                       uint16_t channel, uint64_t tag) {
  txn t{kind, {}, 0, 0, auth_.has_value(), now, std::move(peers), channel, tag};
  auto id = stun_txid::random();
  auto bytes = build(t, id);
  if (!bytes) {
    // Only our own values can make a request fail to build (a username too
    // long, a peer of the wrong family): the caller's mistake, said once.
    if (kind == txn_kind::allocate)
      fail(bytes.error());
    else if (kind == txn_kind::permission || kind == txn_kind::channel_bind)
      events_.push_back({turn_event::kind::permission_failed, bytes.error(), t.peers.front()});
    else if (kind == txn_kind::connect)
      events_.push_back(
        {turn_event::kind::connect_failed, bytes.error(), t.peers.front(), 0, t.tag});
    return nullptr;
  }
  t.bytes = std::move(*bytes);
  auto& slot = txns_[key_of(id)] = std::move(t);
  transmit(slot, now);
  return &slot;
}

void turn_session::reissue(const txn& t, turn_time now) {
  if (auto n = issue(t.kind, now, t.peers, t.channel, t.tag))
    n->nonce_retries = t.nonce_retries;
}

milliseconds turn_session::last_wait() const {
  return cfg_.rto * cfg_.last_wait_factor;
}

void turn_session::transmit(txn& t, turn_time now) {
  out_.push_back(t.bytes);
  ++t.sends;
  if (cfg_.stream)
    t.next_send = now + cfg_.stream_timeout;
  else if (t.sends < cfg_.max_sends)
    t.next_send = now + cfg_.rto * (1u << std::min<uint32_t>(t.sends - 1, 16));
  else
    t.next_send = now + last_wait();
}

bool turn_session::pending(txn_kind kind) const {
  for (auto& [id, t] : txns_)
    if (t.kind == kind)
      return true;
  return false;
}

void turn_session::tick(turn_time now) {
  if (state_ == turn_state::failed || state_ == turn_state::closed || state_ == turn_state::idle)
    return;
  std::vector<std::vector<uint8_t>> due;
  for (auto& [id, t] : txns_)
    if (t.next_send <= now)
      due.push_back(id);
  for (auto& id : due) {
    auto i = txns_.find(id);
    if (i == txns_.end())
      continue; // a timeout before it cleared the table
    if (cfg_.stream || i->second.sends >= cfg_.max_sends) {
      auto t = std::move(i->second);
      txns_.erase(i);
      on_timeout(t, now);
    } else {
      ++counters_.retransmits;
      transmit(i->second, now);
    }
  }
  if (realloc_at_ && *realloc_at_ <= now && state_ == turn_state::allocating) {
    realloc_at_.reset();
    issue(txn_kind::allocate, now);
  }
  if (state_ != turn_state::allocated)
    return;
  if (refresh_at_ <= now && !pending(txn_kind::refresh))
    issue(txn_kind::refresh, now);
  for (auto& [peer, p] : peers_)
    if (p.bound && !p.binding && p.refresh_at <= now) {
      p.binding = true;
      issue(txn_kind::channel_bind, now, {peer}, p.channel);
    }
  for (auto& [ip, p] : permits_)
    if (!p.pending && p.refresh_at <= now) {
      p.pending = true;
      issue(txn_kind::permission, now, {endpoint{ip, 0}});
    }
}

std::optional<turn_time> turn_session::next_tick() const {
  if (state_ == turn_state::failed || state_ == turn_state::closed || state_ == turn_state::idle)
    return std::nullopt;
  std::optional<turn_time> at;
  auto consider = [&](turn_time t) {
    if (!at || t < *at)
      at = t;
  };
  for (auto& [id, t] : txns_)
    consider(t.next_send);
  if (realloc_at_)
    consider(*realloc_at_);
  if (state_ == turn_state::allocated) {
    if (!pending(txn_kind::refresh))
      consider(refresh_at_);
    for (auto& [peer, p] : peers_)
      if (p.bound && !p.binding)
        consider(p.refresh_at);
    for (auto& [ip, p] : permits_)
      if (!p.pending)
        consider(p.refresh_at);
  }
  return at;
}

std::optional<uint16_t> turn_session::channel_of(const endpoint& peer) const {
  auto i = peers_.find(peer);
  if (i == peers_.end() || !i->second.bound)
    return std::nullopt;
  return i->second.channel;
}

error turn_session::send(const endpoint& peer, const uint8_t* data, size_t size, turn_time now) {
  if (state_ != turn_state::allocated && state_ != turn_state::allocating)
    return error{errc::pipe_closed,
                 std::string{"no TURN allocation to send through: it is "} + to_string(state_)};
  if (tcp())
    return error{errc::invalid_argument, "a TCP allocation sends nothing itself: connect to "
                                           + peer.to_string() + " and use that connection"};
  if (peer.fam() != cfg_.allocate.relay_family)
    return error{errc::family_unsupported, "peer " + peer.to_string()
                                             + " is not of the relayed address's family"};
  auto i = peers_.find(peer);
  if (i == peers_.end()) {
    if (peers_.size() >= cfg_.max_peers || next_channel_ > turn_channel_max)
      return error{errc::queue_full, "the TURN allocation has " + std::to_string(peers_.size())
                                       + " peers, its most; " + peer.to_string()
                                       + " is refused"};
    i = peers_.emplace(peer, peer_state{}).first;
    i->second.channel = next_channel_++;
    channels_[i->second.channel] = peer;
  }
  auto& p = i->second;
  if (p.bound) {
    auto framed = encode_channel_data(p.channel, data, size, cfg_.stream);
    if (!framed)
      return framed.error();
    out_.push_back(std::move(*framed));
    return {};
  }
  if (p.waiting.size() >= cfg_.max_waiting)
    ++counters_.waiting_dropped;
  else
    p.waiting.emplace_back(data, data + size);
  if (!p.binding && state_ == turn_state::allocated) {
    p.binding = true;
    issue(txn_kind::channel_bind, now, {peer}, p.channel);
  }
  return {};
}

error turn_session::permit(const endpoint& peer, turn_time now) {
  if (state_ != turn_state::allocated && state_ != turn_state::allocating)
    return error{errc::pipe_closed,
                 std::string{"no TURN allocation to permit peers on: it is "} + to_string(state_)};
  if (peer.fam() != cfg_.allocate.relay_family)
    return error{errc::family_unsupported, "peer " + peer.to_string()
                                             + " is not of the relayed address's family"};
  auto [i, fresh] = permits_.try_emplace(peer.ip);
  if (fresh && state_ == turn_state::allocated) {
    i->second.pending = true;
    issue(txn_kind::permission, now, {endpoint{peer.ip, 0}});
  }
  return {};
}

error turn_session::connect(const endpoint& peer, uint64_t tag, turn_time now) {
  if (!tcp())
    return error{errc::invalid_argument, "Connect is for TCP allocations (RFC 6062)"};
  if (state_ != turn_state::allocated)
    return error{errc::pipe_closed,
                 std::string{"no TURN allocation to connect from: it is "} + to_string(state_)};
  if (auto err = permit(peer, now))
    return err;
  // The server answers the CreatePermission before it reads the Connect
  // (one stream, in order), so the Connect finds the permission there.
  issue(txn_kind::connect, now, {peer}, 0, tag);
  return {};
}

std::vector<endpoint> turn_session::peers() const {
  std::vector<endpoint> out;
  for (auto& [peer, p] : peers_)
    out.push_back(peer);
  return out;
}

bool turn_session::forget(const endpoint& peer) {
  auto i = peers_.find(peer);
  if (i == peers_.end())
    return false;
  counters_.waiting_dropped += i->second.waiting.size();
  channels_.erase(i->second.channel);
  peers_.erase(i);
  return true;
}

void turn_session::close(turn_time now) {
  if (state_ == turn_state::closed || state_ == turn_state::closing)
    return;
  drop_connects(error{errc::pipe_closed, "the TURN allocation was closed"});
  txns_.clear();
  realloc_at_.reset();
  if (state_ != turn_state::allocated) {
    state_ = turn_state::closed;
    events_.push_back({turn_event::kind::closed, {}, {}});
    return;
  }
  state_ = turn_state::closing;
  issue(txn_kind::remove, now);
}

std::vector<std::vector<uint8_t>> turn_session::take_output() {
  return std::exchange(out_, {});
}

std::vector<turn_event> turn_session::take_events() {
  return std::exchange(events_, {});
}

void turn_session::drop_connects(const error& why) {
  for (auto& [id, t] : txns_)
    if (t.kind == txn_kind::connect)
      events_.push_back({turn_event::kind::connect_failed, why, t.peers.front(), 0, t.tag});
}

void turn_session::fail(error why) {
  state_ = turn_state::failed;
  drop_connects(why);
  txns_.clear();
  realloc_at_.reset();
  for (auto& [peer, p] : peers_) {
    counters_.waiting_dropped += p.waiting.size();
    p.waiting.clear();
  }
  events_.push_back({turn_event::kind::failed, std::move(why), {}});
}

void turn_session::lose(error why, turn_time now) {
  if (state_ != turn_state::allocated)
    return;
  events_.push_back({turn_event::kind::lost, why, {}});
  state_ = turn_state::allocating;
  alloc_.reset();
  drop_connects(why);
  txns_.clear();
  for (auto& [peer, p] : peers_)
    p.bound = p.binding = false;
  for (auto& [ip, p] : permits_)
    p.pending = false;
  backoff_ = cfg_.realloc_backoff;
  realloc_at_ = now + backoff_;
}

} // namespace p2pd::net
