// What reaches a node through its channels: every envelope goes through the
// inbox's checks, and only what passes them all is delivered, once.
#include "caf/send.hpp"

#include "p2pd/actors/signal/node/detail/signal_node_state.hpp"

namespace p2pd::actors {

namespace {

// Whether a message the inbox refused as replayed is a copy of one this node
// delivered lately. The inbox checked its signature and decrypted it before
// saying so (the replay check comes last), so its header is the sender's.
bool recent_copy(const signal_node_state& st, const bytes& data, int64_t now_ms) {
  auto env = wire::decode_envelope(reinterpret_cast<const uint8_t*>(data.data()), data.size(),
                                   st.spec.max_message_size);
  if (!env)
    return false;
  auto body = wire::decode_body(env->body_bytes, st.spec.max_message_size);
  if (!body)
    return false;
  net::node_id sender;
  sender.bytes = body->sender_id;
  return st.delivered->recent(sender, body->message_id, now_ms);
}

} // namespace

void on_signal_in(node_ptr self, signal_in& in) {
  auto& st = self->state;
  if (st.life.closing())
    return;
  if (in.oversized > 0) {
    // The channel dropped it unread; it still counts as refused here.
    ++st.channel_too_large;
    return;
  }
  auto now = st.spec.clock();
  net::byte_view view{reinterpret_cast<const uint8_t*>(in.data.data()), in.data.size()};
  auto opened = st.inbox->open(view, now);
  if (!opened) {
    // The inbox counted the refusal; a redundant copy is moved from its
    // replay count to duplicates in current_stats().
    if (opened.error().code == net::errc::replayed && recent_copy(st, in.data, now))
      ++st.counts.duplicates;
    return;
  }
  auto& m = *opened;
  st.delivered->add(m.sender, m.id, now);
  if (st.subscribers.empty()) {
    ++st.counts.unclaimed;
    return;
  }
  ++st.counts.delivered;
  signal_message out;
  out.sender = m.sender.to_string();
  out.sender_keys = m.sender_keys;
  out.id = m.id;
  out.type = static_cast<uint32_t>(m.type);
  out.known_type = m.known_type;
  out.timestamp_ms = m.timestamp_ms;
  out.plaintext.assign(m.plaintext.begin(), m.plaintext.end());
  out.channel = std::move(in.channel);
  for (auto& sub : st.subscribers)
    caf::anon_send(sub, out);
}

signal_node_stats current_stats(const signal_node_state& st) {
  auto out = st.counts;
  auto& c = st.inbox->counters();
  out.malformed = c.malformed;
  out.too_large = c.too_large + st.channel_too_large;
  out.unsupported_version = c.unsupported_version;
  out.not_for_us = c.not_for_us;
  out.wrong_sender_key = c.wrong_sender_key;
  out.bad_signature = c.bad_signature;
  out.undecryptable = c.undecryptable;
  out.replayed = c.replayed - st.counts.duplicates;
  out.expired = c.expired;
  out.too_old = c.too_old;
  out.from_future = c.from_future;
  out.replay_evicted = st.inbox->replay().counters().evicted;
  out.replay_senders_evicted = st.inbox->replay().counters().senders_evicted;
  out.channels = static_cast<uint32_t>(st.channels.size());
  out.channels_listening = 0;
  for (auto& ch : st.channels)
    if (ch.alive && ch.listening)
      ++out.channels_listening;
  out.subscribers = static_cast<uint32_t>(st.subscribers.size());
  out.pending_sends = st.pending.size();
  return out;
}

} // namespace p2pd::actors
