// turn_session: what the server sends, and what its answers change.

#include "p2pd/net/stun/stun_message.hpp"
#include "p2pd/net/turn/channel_data.hpp"
#include "p2pd/net/turn/turn_session.hpp"
#include "p2pd/net/turn/turn_tcp.hpp"

namespace p2pd::net {

namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

milliseconds refresh_in(seconds lifetime) {
  if (lifetime > seconds{120})
    return lifetime - seconds{60};
  return std::max(milliseconds{lifetime} / 2, milliseconds{500});
}

const char* kind_name(int k) {
  static const char* names[] = {"Allocate",         "Refresh", "CreatePermission",
                                "ChannelBind",      "Refresh (delete)", "Connect"};
  return names[k];
}

// Retries of a request with a fresh nonce (438) at most: a server that
// keeps calling every nonce stale would otherwise be asked forever.
constexpr uint32_t max_nonce_retries = 3;

} // namespace

turn_received turn_session::receive(const uint8_t* data, size_t size, turn_time now) {
  turn_received out;
  switch (turn_frame_of(data, size)) {
    case turn_frame_kind::channel_data: {
      auto cd = decode_channel_data(data, size);
      if (!cd) {
        ++counters_.malformed;
        out.refused = cd.error();
        return out;
      }
      auto i = channels_.find(cd->channel);
      if (i == channels_.end()) {
        ++counters_.unknown_channel;
        out.refused = error{errc::not_for_us, "ChannelData on channel "
                                                + std::to_string(cd->channel)
                                                + ", which we did not bind"};
        return out;
      }
      out.peer = i->second;
      out.view = cd->data;
      out.size = cd->size;
      return out;
    }
    case turn_frame_kind::stun: {
      auto m = decode_stun(data, size);
      if (!m) {
        ++counters_.malformed;
        out.refused = m.error();
        return out;
      }
      if (m->cls() == stun_class::indication && m->method() == stun_method::data) {
        on_data_indication(*m, out);
      } else if (m->cls() == stun_class::indication
                 && m->method() == stun_method::connection_attempt && tcp()) {
        on_connection_attempt(*m, out);
      } else if (m->cls() == stun_class::success || m->cls() == stun_class::error) {
        on_response(*m, now, out);
      } else {
        ++counters_.not_for_us;
        out.refused = error{errc::not_for_us, std::string{"a STUN "} + to_string(m->cls())
                                                + " from the TURN server, which sends none"};
      }
      return out;
    }
    default:
      ++counters_.malformed;
      out.refused = error{errc::malformed, "a frame of " + std::to_string(size)
                                             + " bytes that is neither STUN nor ChannelData"};
      return out;
  }
}

void turn_session::on_data_indication(const stun_message& m, turn_received& out) {
  auto peer = m.address(stun_attr::xor_peer_address);
  auto d = m.find(stun_attr::data);
  if (!peer || d == nullptr) {
    ++counters_.malformed;
    out.refused = error{errc::malformed, "a Data indication without "
                                           + std::string{peer ? "DATA" : "XOR-PEER-ADDRESS"}};
    return;
  }
  out.peer = *peer;
  out.owned = d->value;
  out.size = d->value.size();
}

void turn_session::on_connection_attempt(const stun_message& m, turn_received& out) {
  auto peer = m.address(stun_attr::xor_peer_address);
  auto id = turn_connection_id(m);
  if (!peer || !id) {
    ++counters_.malformed;
    out.refused = error{errc::malformed, "a ConnectionAttempt without "
                                           + std::string{peer ? "CONNECTION-ID"
                                                              : "XOR-PEER-ADDRESS"}};
    return;
  }
  if (state_ != turn_state::allocated)
    return; // nothing to bind it to: the server drops it after 30 s
  ++counters_.attempts;
  events_.push_back({turn_event::kind::connection_attempt, {}, *peer, *id, 0});
}

void turn_session::on_response(const stun_message& m, turn_time now, turn_received& out) {
  auto i = txns_.find(std::vector<uint8_t>(m.txid().data(), m.txid().data() + m.txid().size()));
  if (i == txns_.end()) {
    ++counters_.not_for_us;
    out.refused = error{errc::not_for_us, "a response to no request of ours (transaction "
                                            + m.txid().to_string() + ")"};
    return;
  }
  // A signed request's success must be signed with our key: anyone who saw
  // the request could answer it otherwise. Error responses (401, 438) come
  // unsigned by design; one that is signed must check.
  if (i->second.signed_ && auth_
      && ((m.cls() == stun_class::success && !m.has_integrity())
          || (m.has_integrity() && !m.integrity_ok(auth_->key)))) {
    ++counters_.forged;
    out.refused = error{errc::forged, std::string{"a "} + kind_name(int(i->second.kind))
                                        + " response whose MESSAGE-INTEGRITY "
                                        + (m.has_integrity() ? "does not check" : "is missing")};
    return;
  }
  auto t = std::move(i->second);
  txns_.erase(i);
  if (m.cls() == stun_class::success)
    on_success(t, m, now);
  else
    on_error(t, m, now);
}

void turn_session::on_success(const txn& t, const stun_message& m, turn_time now) {
  switch (t.kind) {
    case txn_kind::allocate:
      if (state_ == turn_state::allocating)
        allocated(m, now);
      return;
    case txn_kind::refresh:
      if (alloc_) {
        alloc_->lifetime = seconds{turn_lifetime(m).value_or(cfg_.allocate.lifetime_s)};
        refresh_at_ = now + refresh_in(alloc_->lifetime);
      }
      return;
    case txn_kind::remove:
      state_ = turn_state::closed;
      alloc_.reset();
      events_.push_back({turn_event::kind::closed, {}, {}});
      return;
    case txn_kind::permission:
      for (auto& p : t.peers)
        if (auto j = permits_.find(p.ip); j != permits_.end()) {
          j->second.pending = false;
          j->second.refresh_at = now + cfg_.permission_refresh;
          events_.push_back({turn_event::kind::permitted, {}, p});
        }
      return;
    case txn_kind::channel_bind:
      if (auto j = peers_.find(t.peers.front()); j != peers_.end()) {
        j->second.bound = true;
        j->second.binding = false;
        j->second.refresh_at = now + cfg_.permission_refresh;
        flush(j->second);
      }
      return;
    case txn_kind::connect:
      if (auto id = turn_connection_id(m))
        events_.push_back({turn_event::kind::connected, {}, t.peers.front(), *id, t.tag});
      else
        events_.push_back({turn_event::kind::connect_failed,
                           error{errc::malformed, "a Connect success from " + server_text()
                                                    + " without CONNECTION-ID"},
                           t.peers.front(), 0, t.tag});
      return;
  }
}

void turn_session::on_error(txn& t, const stun_message& m, turn_time now) {
  auto ec = m.error_code();
  uint16_t code = ec ? ec->code : 0;
  auto what = std::string{kind_name(int(t.kind))} + " refused by " + server_text() + ": "
              + turn_error_text(m);
  if (code == 401 && !t.signed_ && m.realm() && m.nonce()) {
    auto key = stun_key::long_term(cfg_.username, *m.realm(), cfg_.password);
    if (!key)
      return fail(key.error());
    auth_ = turn_auth{cfg_.username, *m.realm(), *m.nonce(), std::move(*key)};
    return reissue(t, now);
  }
  if (code == 438 && m.nonce() && auth_ && t.nonce_retries < max_nonce_retries) {
    auth_->nonce = *m.nonce();
    ++t.nonce_retries;
    return reissue(t, now);
  }
  errc kind = turn_errc(code);
  error why{kind, what};
  switch (t.kind) {
    case txn_kind::allocate:
      // A new Allocate after a loss keeps trying unless our credentials
      // are refused: a restarting server may refuse for a while.
      if (alloc_never_ || kind == errc::auth_refused)
        return fail(std::move(why));
      backoff_ = std::min(backoff_ * 2, cfg_.realloc_max);
      realloc_at_ = now + backoff_;
      return;
    case txn_kind::refresh:
      return lose(std::move(why), now);
    case txn_kind::remove:
      state_ = turn_state::closed;
      alloc_.reset();
      events_.push_back({turn_event::kind::closed, std::move(why), {}});
      return;
    case txn_kind::connect:
      if (code == 437)
        return lose(std::move(why), now);
      events_.push_back({turn_event::kind::connect_failed,
                         error{kind, what + " (peer " + t.peers.front().to_string() + ")"},
                         t.peers.front(), 0, t.tag});
      return;
    case txn_kind::permission:
    case txn_kind::channel_bind:
      if (code == 437)
        return lose(std::move(why), now);
      for (auto& p : t.peers) {
        if (t.kind == txn_kind::permission) {
          permits_.erase(p.ip);
        } else if (auto j = peers_.find(p); j != peers_.end()) {
          counters_.waiting_dropped += j->second.waiting.size();
          channels_.erase(j->second.channel);
          peers_.erase(j);
        }
        events_.push_back({turn_event::kind::permission_failed, why, p});
      }
      return;
  }
}

void turn_session::on_timeout(const txn& t, turn_time now) {
  auto why = error{t.kind == txn_kind::allocate && alloc_never_ ? errc::recv_timeout
                                                                : errc::allocation_lost,
                   server_text() + " did not answer " + kind_name(int(t.kind)) + " after "
                     + std::to_string(t.sends) + " sends"};
  switch (t.kind) {
    case txn_kind::allocate:
      if (alloc_never_)
        return fail(std::move(why));
      backoff_ = std::min(backoff_ * 2, cfg_.realloc_max);
      realloc_at_ = now + backoff_;
      return;
    case txn_kind::remove:
      state_ = turn_state::closed;
      alloc_.reset();
      events_.push_back({turn_event::kind::closed, std::move(why), {}});
      return;
    case txn_kind::connect:
      // A stream to the server that answers nothing is gone: the
      // allocation with it.
      events_.push_back({turn_event::kind::connect_failed, why, t.peers.front(), 0, t.tag});
      return lose(std::move(why), now);
    default:
      return lose(std::move(why), now);
  }
}

void turn_session::allocated(const stun_message& m, turn_time now) {
  auto relayed = turn_relayed(m, cfg_.allocate.relay_family);
  if (!relayed) {
    auto any = m.address(stun_attr::xor_relayed_address);
    // Give it back at once (best effort, unanswered): it is of no use.
    stun_txid id = stun_txid::random();
    if (auto bytes = build_turn_refresh(id, 0, auth_ ? &*auth_ : nullptr))
      out_.push_back(std::move(*bytes));
    return fail(error{errc::family_unsupported,
                      server_text() + " relayed "
                        + (any ? any->to_string() : std::string{"no address"}) + ", not an IPv"
                        + std::to_string(int(cfg_.allocate.relay_family)) + " one as asked"});
  }
  turn_allocation a;
  a.relayed = *relayed;
  a.mapped = m.xor_mapped_address().value_or(endpoint{});
  a.lifetime = seconds{turn_lifetime(m).value_or(cfg_.allocate.lifetime_s)};
  alloc_ = a;
  alloc_never_ = false;
  state_ = turn_state::allocated;
  ++counters_.allocations;
  backoff_ = cfg_.realloc_backoff;
  refresh_at_ = now + refresh_in(a.lifetime);
  events_.push_back({turn_event::kind::allocated, {}, {}});
  rebind_all(now);
}

void turn_session::rebind_all(turn_time now) {
  for (auto& [peer, p] : peers_) {
    p.binding = true;
    issue(txn_kind::channel_bind, now, {peer}, p.channel);
  }
  for (auto& [ip, p] : permits_) {
    p.pending = true;
    issue(txn_kind::permission, now, {endpoint{ip, 0}});
  }
}

void turn_session::flush(peer_state& p) {
  for (auto& d : p.waiting)
    if (auto framed = encode_channel_data(p.channel, d.data(), d.size(), cfg_.stream))
      out_.push_back(std::move(*framed));
  p.waiting.clear();
}

} // namespace p2pd::net
