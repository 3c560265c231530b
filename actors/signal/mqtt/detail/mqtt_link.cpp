// The connection of an MQTT channel: connect, subscribe, reconnect, close.
//
// Reconnecting is the channel's own, with delayed messages, not paho's
// automatic reconnect: paho counts its retry interval in whole seconds and
// looks at it only every 3 s (MQTTAsync_checkTimeouts), it never tells which
// connection came back, and it would go on retrying on its own threads while
// the channel closes. Here every reconnect is seen, so the channel
// resubscribes (clean sessions: the broker forgot the subscriptions) and then
// resends what the broker has not acknowledged.
#include <algorithm>

#include "caf/send.hpp"

#include "p2pd/actors/signal/mqtt/detail/mqtt_channel_state.hpp"
#include "p2pd/actors/common/weak_timer.hpp"
#include "p2pd/messages/errors.hpp"

namespace p2pd::actors {

namespace {

// MQTT_BAD_SUBSCRIBE: the broker's SUBACK refused the filter.
constexpr int32_t suback_failure = 0x80;

// Messages come to the channel at QoS 0 (publishes still go out at QoS 1).
// With clean sessions QoS 1 towards the client adds nothing: MQTT 5 sends a
// PUBLISH again only on a reconnect into the same session (section 4.4), and
// the session ends with the connection. It did cost a stall: mosquitto
// 2.0.11 keeps a QoS 1 packet it dropped for exceeding our Maximum Packet
// Size in flight, waiting for a PUBACK that cannot come, and after
// max_inflight_messages (20) of them sends this client nothing more on that
// connection. Anyone could do that with 20 large publishes.
constexpr int receive_qos = 0;

caf::weak_actor_ptr weak_self(mqtt_channel_ptr self) {
  return caf::weak_actor_ptr{self->ctrl()};
}

void cancel_reconnect_timer(mqtt_channel_ptr self) {
  auto& st = self->state;
  ++st.reconnect_attempt; // a timer that fires anyway is stale
  if (st.reconnect_timer) {
    caf::anon_send_exit(st.reconnect_timer, caf::exit_reason::user_shutdown);
    st.reconnect_timer = nullptr;
  }
}

// The next try after the backoff, with jitter: nodes that lost the same
// broker do not all come back in the same millisecond.
void schedule_reconnect(mqtt_channel_ptr self) {
  auto& st = self->state;
  if (st.life.closing())
    return;
  cancel_reconnect_timer(self);
  auto full = st.backoff.count();
  std::uniform_int_distribution<int64_t> pick{full / 2, full};
  auto delay = caf::timespan{pick(st.rng)};
  st.backoff = std::min(st.backoff * 2, st.spec.backoff_max);
  // Weak: retries go on without end, and must not keep a channel nobody
  // holds alive.
  st.reconnect_timer = start_weak_timer(*st.sys, weak_self(self), delay,
                                        caf::make_message(reconnect_atom::value,
                                                          st.reconnect_attempt));
}

// The connection is gone: what was in flight goes out again on the next one.
void go_idle(mqtt_channel_ptr self, std::string why) {
  auto& st = self->state;
  st.phase = link_phase::idle;
  st.last_failure = std::move(why);
  st.live.clear();
  st.subscribe_ops.clear();
  st.in_flight.clear();
  for (auto& kvp : st.outbox)
    kvp.second.token = 0;
  schedule_reconnect(self);
}

void subscribe_op(mqtt_channel_ptr self, const std::string& filter) {
  auto& st = self->state;
  auto token = st.next_token++;
  try {
    st.client->cli.subscribe(filter, receive_qos, as_context(token), st.client->relay);
    st.subscribe_ops.emplace(token, filter);
  } catch (const mqtt::exception& e) {
    // Paho refuses new operations once the connection broke; its loss is
    // reported next, and the filter is subscribed again after the reconnect.
    st.last_failure = "subscribe to " + filter + ": " + e.what();
  }
}

void become_ready_if_subscribed(mqtt_channel_ptr self) {
  auto& st = self->state;
  if (st.phase != link_phase::subscribing || !st.subscribe_ops.empty())
    return;
  st.phase = link_phase::ready;
  flush(self);
}

void answer_subscribe_waiters(mqtt_channel_ptr self, const std::string& filter,
                              const caf::error& err) {
  auto& ws = self->state.subscribe_waiters;
  auto i = std::stable_partition(ws.begin(), ws.end(),
                                 [&](const subscribe_waiter& w) { return w.filter != filter; });
  for (auto j = i; j != ws.end(); ++j) {
    if (err)
      j->rp.deliver(err);
    else
      j->rp.deliver(caf::ok_atom::value);
  }
  ws.erase(i, ws.end());
}

} // namespace

void start_connect(mqtt_channel_ptr self) {
  auto& st = self->state;
  if (st.life.closing() || st.phase != link_phase::idle)
    return;
  auto token = st.next_token++;
  st.connect_token = token;
  st.client->relay.connection = token;
  st.phase = link_phase::connecting;
  try {
    // The MQTT 5 Maximum Packet Size: the broker learns how large a packet
    // this client reads and drops larger ones unsent (MQTT 5.0 section
    // 3.1.2.11.4), so a 256 MB PUBLISH is never read whole to be refused
    // after. Set on a copy made here, while the client lives, and passed as
    // an lvalue: paho.mqtt.cpp 1.2.0 moves connect_options without
    // repointing the C struct at the moved properties (a crash in
    // MQTTProperties_copy), and paho.mqtt.c 1.3.12 leaks the bookkeeping of
    // properties freed while no client exists.
    mqtt::connect_options opts{st.opts};
    mqtt::properties props;
    props.add(mqtt::property(mqtt::property::MAXIMUM_PACKET_SIZE,
                             static_cast<int32_t>(max_packet_size(st.spec))));
    opts.set_properties(props);
    st.client->cli.connect(opts, as_context(token), st.client->relay);
  } catch (const mqtt::exception& e) {
    go_idle(self, std::string{"connect to "} + st.spec.broker_uri + ": " + e.what());
  }
}

void on_connect_done(mqtt_channel_ptr self, int32_t rc, const std::string& why) {
  auto& st = self->state;
  if (st.phase != link_phase::connecting)
    return;
  if (rc != 0) {
    go_idle(self, "connect to " + st.spec.broker_uri + " failed: " + why);
    return;
  }
  if (st.ever_connected)
    ++st.stats.reconnects;
  st.ever_connected = true;
  st.backoff = st.spec.backoff_min;
  st.phase = link_phase::subscribing;
  for (auto& f : st.broker_filters())
    subscribe_op(self, f);
  become_ready_if_subscribed(self);
}

void on_subscribe_done(mqtt_channel_ptr self, uint64_t token, int32_t rc,
                       const std::string& why) {
  auto& st = self->state;
  auto i = st.subscribe_ops.find(token);
  if (i == st.subscribe_ops.end())
    return; // from a connection that is gone
  auto filter = std::move(i->second);
  st.subscribe_ops.erase(i);
  if (rc == 0) {
    st.live.insert(filter);
    answer_subscribe_waiters(self, filter, caf::error{});
  } else if (rc == suback_failure) {
    answer_subscribe_waiters(self, filter,
                             make_error(errc::subscribe_refused,
                                        "broker " + st.spec.broker_uri
                                          + " refused the subscription to " + filter
                                          + " (" + why + ")"));
  }
  // Other failures mean the connection broke: the loss follows, and the
  // filter is subscribed again on the next connection.
  become_ready_if_subscribed(self);
}

void on_lost(mqtt_channel_ptr self, uint64_t connection, const std::string& cause) {
  auto& st = self->state;
  if (connection != st.connect_token
      || (st.phase != link_phase::subscribing && st.phase != link_phase::ready))
    return;
  go_idle(self, "connection to " + st.spec.broker_uri + " lost: " + cause);
}

void ensure_subscribed(mqtt_channel_ptr self, const std::string& filter) {
  auto& st = self->state;
  if (st.phase != link_phase::subscribing && st.phase != link_phase::ready)
    return; // subscribed on connect
  if (st.live.count(filter) > 0)
    return;
  for (auto& kvp : st.subscribe_ops)
    if (kvp.second == filter)
      return;
  subscribe_op(self, filter);
}

void drop_broker_filter(mqtt_channel_ptr self, const std::string& filter) {
  auto& st = self->state;
  if (st.is_spec_topic(filter) || st.targets.has(filter))
    return;
  st.live.erase(filter);
  if (st.phase != link_phase::subscribing && st.phase != link_phase::ready)
    return;
  try {
    st.client->cli.unsubscribe(filter);
  } catch (const mqtt::exception&) {
    // The connection broke; the next one does not subscribe the filter.
  }
}

void connect_now(mqtt_channel_ptr self) {
  auto& st = self->state;
  if (st.life.closing() || st.phase != link_phase::idle)
    return;
  cancel_reconnect_timer(self);
  start_connect(self);
}

void on_reconnect_timer(mqtt_channel_ptr self, uint64_t attempt) {
  auto& st = self->state;
  if (attempt != st.reconnect_attempt)
    return;
  st.reconnect_timer = nullptr;
  start_connect(self);
}

caf::result<caf::ok_atom> start_close(mqtt_channel_ptr self) {
  auto& st = self->state;
  auto rp = st.life.wait_close(self); // answered by finish_close
  if (!st.life.begin_close())
    return rp; // a close is under way
  cancel_reconnect_timer(self);
  st.fail_all(make_error(errc::channel_closed, "the channel to " + st.spec.broker_uri
                                                  + " was closed"));
  if (st.phase == link_phase::subscribing || st.phase == link_phase::ready) {
    auto token = st.next_token++;
    try {
      // Timeout 0: close at once; what is in flight was answered above.
      st.client->cli.disconnect(0, as_context(token), st.client->relay);
      st.disconnect_token = token;
      st.phase = link_phase::closing;
      // Holds the channel for at most close_timeout: it is closing anyway.
      self->delayed_send(self, st.spec.close_timeout, close_timeout_atom::value);
      return rp;
    } catch (const mqtt::exception&) {
      // Not connected after all: nothing to say goodbye to.
    }
  }
  finish_close(self);
  return rp;
}

void finish_close(mqtt_channel_ptr self) {
  auto& st = self->state;
  st.life.closed();
  // The client goes to reap() with the state; a connect still under way
  // ends there too.
  self->quit();
}

} // namespace p2pd::actors
