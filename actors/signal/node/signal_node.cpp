#include "p2pd/actors/signal/node/signal_node.hpp"

#include <algorithm>
#include <chrono>
#include <utility>

#include "caf/actor_cast.hpp"
#include "caf/send.hpp"

#include "p2pd/actors/common/timeouts.hpp"
#include "p2pd/actors/signal/node/detail/signal_node_state.hpp"
#include "p2pd/actors/signal/topic_filter.hpp"
#include "p2pd/net/crypto/key_file.hpp"
#include "p2pd/messages/errors.hpp"
#include "p2pd/net/util/data_dir.hpp"

namespace p2pd {

void add_brokers(signal_node_spec& spec, const std::vector<net::server_entry>& list) {
  for (auto& e : list)
    if (e.kind == net::server_kind::mqtt)
      spec.brokers.push_back(e.host);
}

namespace actors {

signal_node_state::~signal_node_state() {
  auto err = make_error(errc::channel_closed, "the signalling node ended");
  for (auto& kvp : pending)
    if (!kvp.second.answered)
      kvp.second.rp.deliver(err);
  for (auto& w : online_waiters)
    w.first.deliver(err);
  life.closed(); // answers close requests still waiting
}

namespace {

caf::actor as_target(node_ptr self) {
  return caf::actor_cast<caf::actor>(self);
}

size_t listening(const signal_node_state& st) {
  return static_cast<size_t>(std::count_if(st.channels.begin(), st.channels.end(),
                                           [](const node_channel& ch) { return ch.listening; }));
}

// Whether an `online` request for `need` channels can be answered now: ok
// once that many listen, an error once every channel answered and fewer do.
bool online_answer(const signal_node_state& st, size_t need, caf::error& err) {
  if (listening(st) >= need)
    return true;
  if (st.subscribe_answers < st.channels.size())
    return false;
  auto code = code_of(st.first_subscribe_error);
  err = make_error(code == errc::none ? errc::channel_closed : code,
                   std::to_string(listening(st)) + " of " + std::to_string(st.channels.size())
                     + " channels confirmed the subscription to " + st.topic + ", "
                     + std::to_string(need) + " needed: " + st.subscribe_errors);
  return true;
}

void subscribe_answered(node_ptr self) {
  auto& st = self->state;
  ++st.subscribe_answers;
  auto& ws = st.online_waiters;
  for (auto i = ws.begin(); i != ws.end();) {
    caf::error err;
    if (!online_answer(st, i->second, err)) {
      ++i;
      continue;
    }
    if (err)
      i->first.deliver(err);
    else
      i->first.deliver(caf::ok_atom::value);
    i = ws.erase(i);
  }
}

// Subscribes to the node's topic on every channel and learns the channels'
// names (for error messages) from their stats.
void join_channels(node_ptr self) {
  auto& st = self->state;
  for (size_t i = 0; i < st.channels.size(); ++i) {
    auto& ch = st.channels[i];
    self->monitor(ch.hdl);
    self->request(ch.hdl, timeouts::until_answered, stats_atom::value)
      .then([self, i](signal_stats& s) { self->state.channels[i].name = std::move(s.name); },
            [](caf::error&) {
              // The subscription below reports what is wrong with the channel.
            });
    self->request(ch.hdl, timeouts::until_answered, caf::subscribe_atom::value, st.topic, as_target(self))
      .then(
        [self, i](caf::ok_atom) {
          self->state.channels[i].listening = true;
          subscribe_answered(self);
        },
        [self, i](caf::error& err) {
          auto& st = self->state;
          if (!st.subscribe_errors.empty())
            st.subscribe_errors += "; ";
          st.subscribe_errors += st.channels[i].name + ": " + render(err);
          if (!st.first_subscribe_error)
            st.first_subscribe_error = std::move(err);
          subscribe_answered(self);
        });
  }
}

caf::result<caf::ok_atom> subscribe(node_ptr self, caf::actor& sub) {
  auto& st = self->state;
  if (!sub)
    return make_error(errc::invalid_argument, "subscribe: no actor");
  if (std::find(st.subscribers.begin(), st.subscribers.end(), sub) != st.subscribers.end())
    return caf::ok_atom::value;
  if (st.subscribers.size() >= st.spec.max_subscribers)
    return make_error(errc::queue_full, "subscribe: the node has "
                                          + std::to_string(st.subscribers.size())
                                          + " subscribers already (max_subscribers)");
  self->monitor(sub);
  st.subscribers.push_back(std::move(sub));
  return caf::ok_atom::value;
}

void on_down(node_ptr self, const caf::down_msg& dm) {
  auto& st = self->state;
  auto& subs = st.subscribers;
  subs.erase(std::remove_if(subs.begin(), subs.end(),
                            [&](const caf::actor& s) { return s.address() == dm.source; }),
             subs.end());
  for (auto& ch : st.channels)
    if (ch.hdl.address() == dm.source)
      ch.alive = false;
}

void close_answered(node_ptr self) {
  auto& st = self->state;
  if (st.closes_left > 0 && --st.closes_left > 0)
    return;
  st.life.closed();
  self->quit();
}

caf::result<caf::ok_atom> close(node_ptr self) {
  auto& st = self->state;
  auto rp = st.life.wait_close(self); // answered by close_answered
  if (!st.life.begin_close())
    return rp; // a close is under way
  for (auto& ch : st.channels) {
    if (!ch.owned || !ch.alive)
      continue;
    ++st.closes_left;
    // Any answer will do: a channel that is gone is closed too.
    self->request(ch.hdl, timeouts::until_answered, caf::close_atom::value)
      .then([self](caf::ok_atom) { close_answered(self); },
            [self](caf::error&) { close_answered(self); });
  }
  if (st.closes_left == 0)
    close_answered(self);
  return rp;
}

signal_node_impl::behavior_type signal_node_fn(node_ptr self, signal_node_spec spec,
                                               std::shared_ptr<const net::identity> me,
                                               std::vector<node_channel> channels) {
  auto& st = self->state;
  st.spec = std::move(spec);
  st.me = std::move(me);
  // The replay guard is not kept across runs: what was stamped before this
  // start may have been accepted by the last run, so it is refused.
  auto replay = st.spec.replay;
  if (replay.not_before_ms == INT64_MIN)
    replay.not_before_ms = st.spec.clock();
  st.inbox = std::make_unique<wire::inbox>(*st.me, replay, st.spec.max_message_size);
  st.delivered = std::make_unique<delivered_ids>(st.spec.duplicate_memory,
                                                 st.spec.duplicate_window_ms);
  st.topic = signal_topic(st.me->id().to_string(), st.spec.topic_prefix);
  st.channels = std::move(channels);
  std::vector<signal_channel_actor> owned;
  for (auto& ch : st.channels)
    if (ch.owned)
      owned.push_back(ch.hdl);
  // However the node ends, the channels it opened say goodbye to their
  // brokers (close() has done so already when it ran).
  self->attach_functor([owned] {
    for (auto& ch : owned)
      caf::anon_send(ch, caf::close_atom::value);
  });
  self->set_down_handler([self](caf::down_msg& dm) { on_down(self, dm); });
  join_channels(self);
  return {
    [self](send_atom, const net::public_keys& peer, uint32_t type, const bytes& plaintext) {
      return send_message(self, peer, type, plaintext);
    },
    [self](caf::subscribe_atom, caf::actor& sub) { return subscribe(self, sub); },
    [self](caf::unsubscribe_atom, const caf::actor& sub) {
      auto& subs = self->state.subscribers;
      auto i = std::find(subs.begin(), subs.end(), sub);
      if (i != subs.end()) {
        self->demonitor(sub);
        subs.erase(i);
      }
      return caf::ok_atom::value;
    },
    [self](info_atom) {
      auto& st = self->state;
      return signal_node_info{st.me->id().to_string(), st.me->pub(), st.topic};
    },
    [self](stats_atom) { return current_stats(self->state); },
    [self](online_atom, uint32_t n) -> caf::result<caf::ok_atom> {
      auto& st = self->state;
      size_t need = n == 0 ? st.channels.size() : std::min<size_t>(n, st.channels.size());
      caf::error err;
      if (online_answer(st, need, err)) {
        if (err)
          return err;
        return caf::ok_atom::value;
      }
      auto rp = self->make_response_promise<caf::ok_atom>();
      st.online_waiters.emplace_back(rp, need);
      return rp;
    },
    [self](caf::close_atom) { return close(self); },
    [self](signal_in& in) { on_signal_in(self, in); },
  };
}

caf::error check_spec(const signal_node_spec& spec) {
  auto bad = [](const std::string& what) { return make_error(errc::invalid_argument, what); };
  if (!spec.clock)
    return bad("signal node: no clock (signal_node_spec::clock)");
  if (spec.ttl_ms == 0)
    return bad("signal node: ttl_ms must be positive");
  if (spec.max_message_size == 0)
    return bad("signal node: max_message_size must be positive");
  if (spec.max_pending_sends == 0 || spec.max_subscribers == 0)
    return bad("signal node: max_pending_sends and max_subscribers must be positive");
  // Any node id is one topic level of base32; the prefix must keep it a
  // topic one can publish to.
  if (!valid_topic_name(signal_topic("a", spec.topic_prefix)))
    return bad("signal node: topic prefix \"" + spec.topic_prefix
               + "\" does not make valid MQTT topics (wildcards, empty)");
  return {};
}

caf::expected<std::shared_ptr<const net::identity>> identity_of(const signal_node_spec& spec) {
  if (spec.identity)
    return spec.identity;
  auto id = net::load_or_create_identity_in(spec.data_dir);
  if (!id)
    return make_error(id.error());
  return std::make_shared<const net::identity>(std::move(*id));
}

} // namespace

} // namespace actors

caf::expected<signal_node_actor> spawn_signal_node(caf::actor_system& sys,
                                                   signal_node_spec spec) {
  if (auto err = actors::check_spec(spec))
    return err;
  auto me = actors::identity_of(spec);
  if (!me)
    return std::move(me.error());
  std::vector<actors::node_channel> channels;
  for (auto& ch : spec.channels)
    if (ch)
      channels.push_back({ch, "channel " + std::to_string(channels.size()), false});
  for (auto& uri : spec.brokers) {
    auto s = spec.mqtt;
    s.broker_uri = uri;
    s.name = uri;
    s.client_id.clear();
    // The node subscribes itself: a topic in the spec would be subscribed at
    // the broker before the node is a target, and what came meanwhile lost.
    s.topics.clear();
    s.subscribers.clear();
    auto ch = spawn_mqtt_channel(sys, std::move(s));
    if (!ch) {
      for (auto& c : channels)
        if (c.owned)
          caf::anon_send(c.hdl, caf::close_atom::value);
      return std::move(ch.error());
    }
    channels.push_back({*ch, uri, true});
  }
  if (spec.hub || channels.empty()) {
    auto hub = spec.hub ? spec.hub : spawn_signal_hub(sys);
    channels.push_back({hub_channel(sys, hub, "hub"), "hub", true});
  }
  auto node = sys.spawn(actors::signal_node_fn, std::move(spec), std::move(*me),
                        std::move(channels));
  return caf::actor_cast<signal_node_actor>(node);
}


} // namespace p2pd
