#include "p2pd/actors/signal/mqtt/mqtt_channel.hpp"

#include <algorithm>
#include <cctype>
#include <random>

#include "caf/actor_cast.hpp"
#include "caf/send.hpp"

#include "p2pd/actors/signal/mqtt/detail/mqtt_channel_state.hpp"
#include "p2pd/actors/signal/detail/signal_checks.hpp"
#include "p2pd/actors/signal/topic_filter.hpp"
#include "p2pd/messages/errors.hpp"

namespace p2pd::actors {

mqtt_channel_state::~mqtt_channel_state() {
  fail_all(make_error(errc::channel_closed, "the channel to " + spec.broker_uri + " ended"));
  life.closed(); // answers close requests still waiting
  if (reconnect_timer)
    caf::anon_send_exit(reconnect_timer, caf::exit_reason::user_shutdown);
  if (sys != nullptr)
    reap(*sys, std::move(client));
}

bool mqtt_channel_state::is_spec_topic(const std::string& filter) const {
  return std::find(spec.topics.begin(), spec.topics.end(), filter) != spec.topics.end();
}

std::vector<std::string> mqtt_channel_state::broker_filters() const {
  auto out = targets.filters();
  for (auto& t : spec.topics)
    if (std::find(out.begin(), out.end(), t) == out.end())
      out.push_back(t);
  return out;
}

void mqtt_channel_state::fail_all(const caf::error& err) {
  for (auto& kvp : outbox)
    kvp.second.rp.deliver(err);
  outbox.clear();
  in_flight.clear();
  for (auto& w : subscribe_waiters)
    w.rp.deliver(err);
  subscribe_waiters.clear();
}

namespace {

// Whole seconds, at least one: what MQTT and paho can express.
std::chrono::seconds whole_seconds(caf::timespan t) {
  return std::max(std::chrono::seconds(1),
                  std::chrono::ceil<std::chrono::seconds>(t));
}

mqtt::connect_options make_options(const mqtt_channel_spec& spec) {
  // MQTT 5, for its Maximum Packet Size (set at each connect, see
  // start_connect in mqtt_link.cpp).
  return mqtt::connect_options_builder()
    .mqtt_version(MQTTVERSION_5) // no silent second try with an older version
    .clean_session(false)        // MQTT 5 has clean_start instead
    .clean_start(true)
    .keep_alive_interval(whole_seconds(spec.keep_alive))
    .connect_timeout(whole_seconds(spec.connect_timeout))
    .automatic_reconnect(false)
    .finalize();
}

void deliver(mqtt_channel_ptr self, std::string& topic, bytes& data) {
  auto& st = self->state;
  if (!st.life.closing())
    deliver_to_targets(st.targets, st.stats, topic, data);
}

// A message over the size limit was dropped unread: counted here, and told
// to its receivers so that their counters show the refusal too.
void oversized(mqtt_channel_ptr self, const std::string& topic, uint64_t size) {
  auto& st = self->state;
  ++st.stats.dropped_oversized;
  if (st.life.closing())
    return;
  for (auto& to : st.targets.match(topic))
    caf::anon_send(to, signal_in{st.stats.name, topic, {}, size});
}

caf::result<caf::ok_atom> subscribe(mqtt_channel_ptr self, std::string& filter,
                                    const caf::actor& target) {
  auto& st = self->state;
  if (st.life.closing())
    return make_error(errc::channel_closed, "subscribe to " + filter + ": the channel to "
                                              + st.spec.broker_uri + " is closing");
  if (auto err = check_subscription(filter, target))
    return err;
  st.targets.add(filter, target.address());
  self->monitor(target);
  if (st.live.count(filter) > 0)
    return caf::ok_atom::value;
  auto rp = self->make_response_promise();
  st.subscribe_waiters.push_back({filter, rp, self->clock().now() + st.spec.ack_timeout});
  arm_expiry(self);
  ensure_subscribed(self, filter);
  return rp;
}

mqtt_channel_actor::behavior_type mqtt_channel(mqtt_channel_ptr self, mqtt_channel_spec spec) {
  auto& st = self->state;
  st.sys = &self->home_system();
  st.spec = std::move(spec);
  st.opts = make_options(st.spec);
  st.backoff = st.spec.backoff_min;
  st.stats.name = st.spec.name;
  st.last_failure = "no connect tried yet";
  for (auto& sub : st.spec.subscribers) {
    if (!sub)
      continue;
    for (auto& t : st.spec.topics)
      st.targets.add(t, sub.address());
    self->monitor(sub);
  }
  st.spec.subscribers.clear(); // held weakly from here on
  try {
    st.client = std::make_unique<paho_client>(st.spec.broker_uri, st.spec.client_id,
                                              caf::weak_actor_ptr{self->ctrl()},
                                              st.spec.max_message_size);
  } catch (const mqtt::exception& e) {
    self->quit(make_error(errc::invalid_argument,
                          "MQTT client for " + st.spec.broker_uri + ": " + e.what()));
    return {mqtt_channel_actor::behavior_type::unsafe_init{}, caf::behavior{}};
  }
  self->set_down_handler([self](caf::down_msg& dm) {
    for (auto& f : self->state.targets.remove_all(dm.source))
      drop_broker_filter(self, f);
  });
  start_connect(self);
  return {
    [self](caf::publish_atom, std::string& topic, bytes& data) {
      return publish(self, topic, data);
    },
    [self](caf::subscribe_atom, std::string& filter, caf::actor& target) {
      return subscribe(self, filter, target);
    },
    [self](caf::unsubscribe_atom, std::string& filter,
           caf::actor& target) -> caf::result<caf::ok_atom> {
      if (target && self->state.targets.remove(filter, target.address()))
        drop_broker_filter(self, filter);
      return caf::ok_atom::value;
    },
    [self](stats_atom) {
      auto& st = self->state;
      auto out = st.stats;
      out.connected = st.phase == link_phase::ready;
      out.outbox = st.outbox.size();
      return out;
    },
    [self](caf::connect_atom) -> caf::result<caf::ok_atom> {
      if (self->state.life.closing())
        return make_error(errc::channel_closed, "connect: the channel to "
                                                  + self->state.spec.broker_uri
                                                  + " is closing");
      connect_now(self);
      return caf::ok_atom::value;
    },
    [self](caf::close_atom) { return start_close(self); },
    [self](paho_done_atom, uint64_t token, int32_t rc, std::string& why) {
      auto& st = self->state;
      if (token == st.connect_token)
        on_connect_done(self, rc, why);
      else if (token != 0 && token == st.disconnect_token)
        finish_close(self);
      else if (st.subscribe_ops.count(token) > 0)
        on_subscribe_done(self, token, rc, why);
      else
        on_publish_done(self, token, rc);
    },
    [self](mqtt_in_atom, std::string& topic, bytes& data) { deliver(self, topic, data); },
    [self](mqtt_big_atom, std::string& topic, uint64_t size) { oversized(self, topic, size); },
    [self](mqtt_lost_atom, uint64_t connection, std::string& cause) {
      on_lost(self, connection, cause);
    },
    [self](reconnect_atom, uint64_t attempt) { on_reconnect_timer(self, attempt); },
    [self](flush_atom) {
      self->state.flush_armed = false;
      flush(self);
    },
    [self](expire_atom) { expire(self); },
    [self](close_timeout_atom) { finish_close(self); },
  };
}

// "scheme://host:port" with a scheme paho speaks without TLS options.
caf::error check_uri(const std::string& uri) {
  auto bad = [&](const std::string& why) {
    return make_error(errc::invalid_argument, "broker URI \"" + uri + "\": " + why);
  };
  auto sep = uri.find("://");
  if (sep == std::string::npos)
    return bad("expected tcp://host:port");
  auto scheme = uri.substr(0, sep);
  if (scheme != "tcp" && scheme != "mqtt")
    return bad("scheme " + scheme + " is not supported (tcp or mqtt)");
  auto colon = uri.rfind(':');
  if (colon <= sep + 3 || colon + 1 >= uri.size())
    return bad("no host and port");
  auto port = uri.substr(colon + 1);
  if (port.size() > 5
      || !std::all_of(port.begin(), port.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })
      || std::stoul(port) == 0 || std::stoul(port) > 65535)
    return bad("port " + port + " is not a number from 1 to 65535");
  return {};
}

caf::error check_spec(const mqtt_channel_spec& s) {
  if (auto err = check_uri(s.broker_uri))
    return err;
  for (auto& t : s.topics)
    if (!valid_topic_filter(t))
      return make_error(errc::invalid_argument, "topic \"" + t + "\" is not a valid MQTT topic filter");
  if (s.max_outbox == 0)
    return make_error(errc::invalid_argument, "max_outbox must be at least 1");
  // 268435455: the largest MQTT packet; the topic needs some of it.
  if (s.max_message_size == 0 || s.max_message_size > 268000000)
    return make_error(errc::invalid_argument,
                      "max_message_size must be from 1 to 268000000 bytes (MQTT's packet limit)");
  if (s.backoff_min <= caf::timespan{0} || s.backoff_max < s.backoff_min)
    return make_error(errc::invalid_argument,
                      "the reconnect backoff needs 0 < backoff_min <= backoff_max");
  if (s.ack_timeout <= caf::timespan{0} || s.close_timeout <= caf::timespan{0})
    return make_error(errc::invalid_argument, "ack_timeout and close_timeout must be positive");
  return {};
}

std::string random_client_id() {
  std::random_device rd;
  std::uniform_int_distribution<int> hex{0, 15};
  std::string out = "p2pd-";
  for (int i = 0; i < 16; ++i)
    out += "0123456789abcdef"[hex(rd)];
  return out;
}

} // namespace

} // namespace p2pd::actors

namespace p2pd {

caf::expected<signal_channel_actor> spawn_mqtt_channel(caf::actor_system& sys,
                                                       mqtt_channel_spec spec) {
  if (auto err = actors::check_spec(spec))
    return err;
  if (spec.client_id.empty())
    spec.client_id = actors::random_client_id();
  if (spec.name.empty())
    spec.name = spec.broker_uri;
  return signal_channel_actor{sys.spawn(actors::mqtt_channel, std::move(spec))};
}

} // namespace p2pd
