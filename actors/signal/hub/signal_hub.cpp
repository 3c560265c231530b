#include "p2pd/actors/signal/hub/signal_hub.hpp"

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "caf/actor_cast.hpp"
#include "caf/send.hpp"
#include "caf/stateful_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "p2pd/actors/signal/detail/signal_checks.hpp"
#include "p2pd/actors/signal/detail/subscriber_table.hpp"
#include "p2pd/actors/signal/topic_filter.hpp"
#include "p2pd/messages/errors.hpp"

namespace p2pd::actors {

namespace {

using hub_time = caf::actor_clock::time_point;

/// A delivery waiting for its time (signal_hub_spec::latency).
struct in_flight {
  caf::actor_addr to; ///< weak, as the subscription
  std::string topic;
  bytes data;
};

struct hub_state {
  static inline const char* name = "p2pd.signal_hub";
  signal_hub_spec spec;
  subscriber_table channels; ///< weak: a channel is not kept alive by the hub
  signal_stats stats;
  std::mt19937_64 rng;
  /// Due time -> delivery; equal times keep their insertion order.
  std::multimap<hub_time, in_flight> waiting;
  /// Bytes (topic and payload) of the deliveries waiting.
  size_t waiting_bytes = 0;
  /// The latest due time given to each channel's deliveries: a later
  /// delivery is due no earlier, so one channel's order holds under jitter.
  std::map<caf::actor_addr, hub_time> last_due;
  /// Times of the ticks sent and not yet handled.
  std::multiset<hub_time> ticks;

  bool delays() const { return spec.latency.count() > 0 || spec.jitter.count() > 0; }
};

using hub_ptr = signal_hub_actor::stateful_pointer<hub_state>;

// A draw in [0, 1) from the hub's generator: 53 bits, the same on every
// platform (std's distributions are not).
double draw_unit(hub_state& st) {
  return static_cast<double>(st.rng() >> 11) * 0x1.0p-53;
}

caf::timespan draw_delay(hub_state& st) {
  auto d = st.spec.latency;
  if (st.spec.jitter.count() > 0)
    d += caf::timespan{static_cast<caf::timespan::rep>(
      st.rng() % (static_cast<uint64_t>(st.spec.jitter.count()) + 1))};
  return d;
}

// One tick per earliest due time: a tick is sent when nothing already sent
// comes at or before the first delivery due.
void arm(hub_ptr self) {
  auto& st = self->state;
  if (st.waiting.empty())
    return;
  auto due = st.waiting.begin()->first;
  if (!st.ticks.empty() && *st.ticks.begin() <= due)
    return;
  st.ticks.insert(due);
  // The clock holds the hub until the tick: a bounded wait (latency plus
  // jitter), after which the deliveries are due anyway.
  self->delayed_send(self, std::max(caf::timespan{0}, due - self->clock().now()),
                     hub_tick_atom::value);
}

void send_now(hub_state& st, const caf::actor& ch, const std::string& topic, const bytes& data) {
  ++st.stats.received;
  caf::anon_send(caf::actor_cast<hub_channel_actor>(ch), hub_deliver_atom::value, topic, data);
}

// One delivery of a publish to `ch`: lost, sent now, or held until due.
void deliver(hub_ptr self, const caf::actor& ch, const std::string& topic, const bytes& data) {
  auto& st = self->state;
  if (st.spec.loss > 0 && draw_unit(st) < st.spec.loss) {
    ++st.stats.lost;
    return;
  }
  if (!st.delays())
    return send_now(st, ch, topic, data);
  auto delay = draw_delay(st);
  auto size = topic.size() + data.size();
  if (st.waiting.size() >= st.spec.max_in_flight
      || st.waiting_bytes + size > st.spec.max_in_flight_bytes) {
    ++st.stats.dropped_full;
    return;
  }
  st.waiting_bytes += size;
  auto now = self->clock().now();
  auto due = now + delay;
  auto addr = ch.address();
  auto i = st.last_due.find(addr);
  if (i != st.last_due.end() && i->second > due)
    due = i->second;
  st.last_due[addr] = due;
  st.waiting.emplace(due, in_flight{std::move(addr), topic, data});
  arm(self);
}

// Sends what is due, forgets the ticks that came, and arms the next.
void on_tick(hub_ptr self) {
  auto& st = self->state;
  auto now = self->clock().now();
  st.ticks.erase(st.ticks.begin(), st.ticks.upper_bound(now));
  while (!st.waiting.empty() && st.waiting.begin()->first <= now) {
    auto node = st.waiting.extract(st.waiting.begin());
    auto& d = node.mapped();
    st.waiting_bytes -= d.topic.size() + d.data.size();
    auto i = st.last_due.find(d.to);
    if (i != st.last_due.end() && i->second <= now)
      st.last_due.erase(i);
    // A channel gone meanwhile gets nothing (the down handler dropped what
    // it knew of; this is what came before the down message).
    if (auto ch = caf::actor_cast<caf::actor>(d.to))
      send_now(st, ch, d.topic, d.data);
  }
  arm(self);
}

caf::result<uint64_t> hub_publish(hub_ptr self, std::string& topic, bytes& data) {
  auto& st = self->state;
  if (auto err = check_publish_topic(topic))
    return err;
  if (auto err = check_publish_size(topic, data.size(), st.spec.max_message_size,
                                    "signal_hub_spec::max_message_size")) {
    ++st.stats.dropped_oversized;
    return err;
  }
  ++st.stats.published;
  auto to = st.channels.match(topic);
  if (to.empty()) {
    ++st.stats.dropped_unclaimed;
    return uint64_t{0};
  }
  ++st.stats.acked;
  for (auto& ch : to)
    deliver(self, ch, topic, data);
  return static_cast<uint64_t>(to.size());
}

signal_hub_actor::behavior_type hub(hub_ptr self, signal_hub_spec spec) {
  // Out of range: the nearest sensible value.
  spec.loss = std::clamp(spec.loss, 0.0, 1.0);
  spec.latency = std::max(spec.latency, caf::timespan{0});
  spec.jitter = std::max(spec.jitter, caf::timespan{0});
  self->state.spec = spec;
  self->state.rng.seed(spec.seed);
  self->state.stats.name = "hub";
  self->state.stats.connected = true;
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    st.channels.remove_all(dm.source);
    st.last_due.erase(dm.source);
    // Its deliveries in flight have nobody to go to (a handle someone still
    // holds would take them, and drop them unread).
    for (auto i = st.waiting.begin(); i != st.waiting.end();) {
      if (i->second.to == dm.source) {
        ++st.stats.dropped_unclaimed;
        st.waiting_bytes -= i->second.topic.size() + i->second.data.size();
        i = st.waiting.erase(i);
      } else {
        ++i;
      }
    }
  });
  return {
    [self](caf::publish_atom, std::string& topic, bytes& data) {
      return hub_publish(self, topic, data);
    },
    [self](caf::subscribe_atom, std::string& filter,
           hub_channel_actor& ch) -> caf::result<caf::ok_atom> {
      if (!valid_topic_filter(filter))
        return make_error(errc::invalid_argument,
                          "subscribe to \"" + filter + "\": not a valid MQTT topic filter");
      if (!ch)
        return make_error(errc::invalid_argument, "subscribe to " + filter + ": no channel");
      self->state.channels.add(filter, ch.address());
      self->monitor(ch);
      return caf::ok_atom::value;
    },
    [self](caf::unsubscribe_atom, std::string& filter, hub_channel_actor& ch) {
      self->state.channels.remove(filter, ch.address());
      return caf::ok_atom::value;
    },
    [self](hub_tick_atom) { on_tick(self); },
    [self](stats_atom) {
      auto out = self->state.stats;
      out.outbox = self->state.waiting.size();
      return out;
    },
  };
}

} // namespace

} // namespace p2pd::actors

namespace p2pd {

signal_hub_actor spawn_signal_hub(caf::actor_system& sys, signal_hub_spec spec) {
  return sys.spawn(actors::hub, spec);
}

} // namespace p2pd
