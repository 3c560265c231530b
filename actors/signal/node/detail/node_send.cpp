// A node's sends: seal once, publish on several channels at once, answer on
// the first acknowledgement.
#include <algorithm>
#include <climits>

#include "p2pd/actors/common/timeouts.hpp"
#include "p2pd/actors/signal/node/detail/signal_node_state.hpp"
#include "p2pd/messages/errors.hpp"

namespace p2pd::actors {

namespace {

// The channels a send goes out on: the live ones, healthiest first (fewest
// failures since their last success), starting at a rotating point among
// equals so that a redundancy below the channel count spreads the load.
std::vector<size_t> pick_channels(signal_node_state& st) {
  std::vector<size_t> live;
  for (size_t i = 0; i < st.channels.size(); ++i)
    if (st.channels[i].alive)
      live.push_back(i);
  auto n = live.size();
  if (n == 0)
    return live;
  size_t k = st.spec.redundancy == 0 ? n : std::min<size_t>(st.spec.redundancy, n);
  if (n >= 2)
    k = std::max<size_t>(k, 2);
  std::rotate(live.begin(), live.begin() + static_cast<ptrdiff_t>(st.rotation++ % n),
              live.end());
  std::stable_sort(live.begin(), live.end(), [&](size_t x, size_t y) {
    return st.channels[x].failures_in_a_row < st.channels[y].failures_in_a_row;
  });
  live.resize(k);
  return live;
}

// A channel that terminated answers through CAF, not with a p2pd error.
caf::error as_channel_error(const node_channel& ch, caf::error err) {
  if (err == caf::sec::request_receiver_down)
    return make_error(errc::channel_closed, "channel " + ch.name + " has terminated");
  return err;
}

void finish_if_done(node_ptr self, std::map<uint64_t, pending_send>::iterator i) {
  auto& p = i->second;
  if (p.outstanding > 0)
    return;
  if (!p.answered) {
    ++self->state.counts.send_failed;
    auto code = code_of(p.first_error);
    p.rp.deliver(make_error(code == errc::none ? errc::channel_closed : code,
                            "send to " + p.peer + " failed on every channel: " + p.errors));
  }
  self->state.pending.erase(i);
}

void on_published(node_ptr self, uint64_t seq, size_t idx) {
  auto& st = self->state;
  st.channels[idx].failures_in_a_row = 0;
  auto i = st.pending.find(seq);
  if (i == st.pending.end())
    return;
  auto& p = i->second;
  --p.outstanding;
  if (!p.answered) {
    p.answered = true;
    ++st.counts.sent;
    p.rp.deliver(p.id);
  }
  finish_if_done(self, i);
}

void on_publish_failed(node_ptr self, uint64_t seq, size_t idx, caf::error err) {
  auto& st = self->state;
  auto& ch = st.channels[idx];
  ++ch.failures_in_a_row;
  ++st.counts.channel_failures;
  auto i = st.pending.find(seq);
  if (i == st.pending.end())
    return;
  auto& p = i->second;
  --p.outstanding;
  err = as_channel_error(ch, std::move(err));
  if (!p.errors.empty())
    p.errors += "; ";
  p.errors += ch.name + ": " + render(err);
  if (!p.first_error)
    p.first_error = std::move(err);
  finish_if_done(self, i);
}

caf::error refuse(node_ptr self, errc code, std::string what) {
  ++self->state.counts.send_failed;
  return make_error(code, std::move(what));
}

} // namespace

caf::result<net::message_id> send_message(node_ptr self, const net::public_keys& peer,
                                          uint32_t type, const bytes& plaintext) {
  auto& st = self->state;
  auto peer_node = net::node_id::of(peer);
  auto peer_id = peer_node.to_string();
  if (st.life.closing())
    return refuse(self, errc::channel_closed, "send to " + peer_id + ": the node is closing");
  // Protobuf keeps enum values as int32; 0 means "no type" on the wire.
  if (type == 0 || type > static_cast<uint32_t>(INT32_MAX))
    return refuse(self, errc::invalid_argument,
                  "send to " + peer_id + ": payload type " + std::to_string(type)
                    + " is not one (1 to 2147483647)");
  if (st.pending.size() >= st.spec.max_pending_sends)
    return refuse(self, errc::queue_full,
                  "send to " + peer_id + ": " + std::to_string(st.pending.size())
                    + " sends wait for their channels already (max_pending_sends)");
  auto chosen = pick_channels(st);
  if (chosen.empty())
    return refuse(self, errc::channel_closed,
                  "send to " + peer_id + ": every channel of this node has terminated");
  net::byte_view text{reinterpret_cast<const uint8_t*>(plaintext.data()), plaintext.size()};
  auto sealed = wire::seal_envelope(*st.me, peer, static_cast<wire::payload_type>(type), text,
                                    st.spec.clock(), st.spec.ttl_ms, st.spec.max_message_size);
  if (!sealed)
    return refuse(self, sealed.error().code, "send to " + peer_id + ": " + sealed.error().what);
  // A peer this node writes to is no stranger: a flood of new identities
  // must not make the replay guard forget it.
  st.inbox->mark_known(peer_node);
  auto seq = st.next_send++;
  auto& p = st.pending[seq];
  p.rp = self->make_response_promise<net::message_id>();
  p.id = sealed->id;
  p.peer = peer_id;
  p.outstanding = chosen.size();
  auto topic = signal_topic(peer_id, st.spec.topic_prefix);
  bytes data(sealed->envelope.begin(), sealed->envelope.end());
  for (auto idx : chosen) {
    // No request timeout: a channel answers within its own ack timeout, or
    // CAF bounces the request when it terminates; a timeout here would keep
    // the node alive until it fired. max_pending_sends bounds what waits.
    self->request(st.channels[idx].hdl, timeouts::until_answered, caf::publish_atom::value, topic, data)
      .then([self, seq, idx](caf::ok_atom) { on_published(self, seq, idx); },
            [self, seq, idx](caf::error& err) {
              on_publish_failed(self, seq, idx, std::move(err));
            });
  }
  return p.rp;
}

} // namespace p2pd::actors
