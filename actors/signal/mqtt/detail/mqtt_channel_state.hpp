#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "caf/actor_clock.hpp"
#include "caf/response_promise.hpp"
#include "caf/stateful_actor.hpp"
#include "caf/typed_event_based_actor.hpp"
#include "mqtt/connect_options.h"

#include "p2pd/actors/common/lifecycle.hpp"
#include "p2pd/actors/signal/mqtt/mqtt_channel.hpp"
#include "p2pd/actors/signal/mqtt/detail/mqtt_channel_actor.hpp"
#include "p2pd/actors/signal/mqtt/detail/paho_client.hpp"
#include "p2pd/actors/signal/detail/subscriber_table.hpp"

namespace p2pd::actors {

/// Where a channel's connection stands.
enum class link_phase {
  idle,        ///< not connected; a reconnect is scheduled unless closing
  connecting,  ///< a connect is under way
  subscribing, ///< connected; subscriptions not all acknowledged yet
  ready,       ///< connected and subscribed: publishes go out
  closing,     ///< a DISCONNECT is under way
};

/// A publish waiting for its acknowledgement.
struct outbox_entry {
  std::string topic;
  bytes data;
  caf::response_promise rp;
  caf::actor_clock::time_point deadline;
  uint64_t token = 0; ///< its paho publish on this connection; 0: not sent on it yet
  uint32_t sends = 0;
};

/// A subscribe request waiting for the broker's acknowledgement.
struct subscribe_waiter {
  std::string filter;
  caf::response_promise rp;
  caf::actor_clock::time_point deadline;
};

struct mqtt_channel_state {
  static inline const char* name = "p2pd.mqtt_channel";

  mqtt_channel_state() = default;
  mqtt_channel_state(const mqtt_channel_state&) = delete;
  mqtt_channel_state& operator=(const mqtt_channel_state&) = delete;
  /// Answers what still waits and hands the client to reap(). Runs however
  /// the channel ends, possibly on one of paho's threads (when a callback
  /// dropped the last reference): it calls nothing of paho's.
  ~mqtt_channel_state();

  caf::actor_system* sys = nullptr;
  mqtt_channel_spec spec;
  mqtt::connect_options opts;
  std::unique_ptr<paho_client> client;

  link_phase phase = link_phase::idle;
  /// Open from the start; close requests are answered once the DISCONNECT
  /// went out (or could not).
  lifecycle life;
  bool ever_connected = false;
  std::string last_failure; ///< why the last connect failed or the connection was lost

  /// Tokens name paho operations; a reply with an unknown token is stale.
  uint64_t next_token = 1;
  uint64_t connect_token = 0; ///< the connect (and the connection) under way
  uint64_t disconnect_token = 0;
  std::map<uint64_t, std::string> subscribe_ops; ///< token -> filter
  std::set<std::string> live;                     ///< filters acknowledged on this connection
  std::unordered_map<uint64_t, uint64_t> in_flight; ///< publish token -> outbox id

  std::map<uint64_t, outbox_entry> outbox; ///< by id: publish order
  uint64_t next_id = 1;
  std::vector<subscribe_waiter> subscribe_waiters;
  subscriber_table targets;

  caf::timespan backoff{0};
  uint64_t reconnect_attempt = 0; ///< a reconnect timer with another number is stale
  caf::actor reconnect_timer;
  bool expire_armed = false;
  bool flush_armed = false;

  signal_stats stats;
  std::minstd_rand rng{std::random_device{}()};

  bool is_spec_topic(const std::string& filter) const;
  /// What the broker should have: the spec's topics and every filter with a target.
  std::vector<std::string> broker_filters() const;
  /// Answers every waiting publish and subscribe request with `err`.
  void fail_all(const caf::error& err);
};

using mqtt_channel_ptr = mqtt_channel_actor::stateful_pointer<mqtt_channel_state>;

// The connection (mqtt_link.cpp).
void start_connect(mqtt_channel_ptr self);
void on_connect_done(mqtt_channel_ptr self, int32_t rc, const std::string& why);
void on_subscribe_done(mqtt_channel_ptr self, uint64_t token, int32_t rc,
                       const std::string& why);
void on_lost(mqtt_channel_ptr self, uint64_t connection, const std::string& cause);
void ensure_subscribed(mqtt_channel_ptr self, const std::string& filter);
void drop_broker_filter(mqtt_channel_ptr self, const std::string& filter);
void connect_now(mqtt_channel_ptr self);
void on_reconnect_timer(mqtt_channel_ptr self, uint64_t attempt);
caf::result<caf::ok_atom> start_close(mqtt_channel_ptr self);
void finish_close(mqtt_channel_ptr self);

// Publishes (mqtt_outbox.cpp).
caf::result<caf::ok_atom> publish(mqtt_channel_ptr self, std::string& topic, bytes& data);
void flush(mqtt_channel_ptr self);
void on_publish_done(mqtt_channel_ptr self, uint64_t token, int32_t rc);
void arm_expiry(mqtt_channel_ptr self);
void expire(mqtt_channel_ptr self);
void arm_flush(mqtt_channel_ptr self);

} // namespace p2pd::actors
