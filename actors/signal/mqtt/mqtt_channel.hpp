#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "caf/actor.hpp"
#include "caf/actor_system.hpp"
#include "caf/expected.hpp"
#include "caf/timespan.hpp"

#include "p2pd/actors/common/timeouts.hpp"
#include "p2pd/messages/signal.hpp"

namespace p2pd {

/// One MQTT broker as a signalling channel (MQTT 5, clean sessions;
/// publishes at QoS 1, messages received at QoS 0).
///
/// Delivery is at least once while the broker is up: a publish waits in the
/// outbox until the broker acknowledges it and is sent again after every
/// reconnect. What MQTT cannot do with clean sessions: the broker drops a
/// message to a topic nobody is subscribed to at that moment, so a message
/// accepted while its receiver is still reconnecting is lost on that broker.
/// A node publishes over several brokers for that reason.
struct mqtt_channel_spec {
  /// "tcp://host:port" or "mqtt://host:port".
  std::string broker_uri;
  /// The MQTT client id; the broker drops an older connection with the same
  /// id. Empty: "p2pd-" and random hex.
  std::string client_id;
  /// The channel's name in signal_in and stats. Empty: the broker URI.
  std::string name;
  /// Subscribed on every connect (e.g. the node's own topic, signal_topic()).
  std::vector<std::string> topics;
  /// Get a signal_in for every message on `topics` from the first one on,
  /// with no window before a subscribe request would take effect. Held weakly.
  std::vector<caf::actor> subscribers;
  /// MQTT keep-alive (whole seconds; at least 1 s): how fast a silent broker
  /// is noticed.
  caf::timespan keep_alive = timeouts::mqtt_keep_alive;
  /// Time allowed for a connect (whole seconds; at least 1 s).
  caf::timespan connect_timeout = timeouts::mqtt_connect;
  /// Wait before the first reconnect; doubled on every failed try up to
  /// backoff_max, back to backoff_min once connected.
  caf::timespan backoff_min = timeouts::mqtt_backoff_min;
  caf::timespan backoff_max = timeouts::mqtt_backoff_max;
  /// Publishes kept until acknowledged (for resending); a publish beyond is
  /// refused with errc::queue_full and counted.
  uint32_t max_outbox = 1000;
  /// Largest message published or delivered; larger ones are refused
  /// (errc::message_too_large) or dropped, and counted. The broker is told
  /// (MQTT 5 Maximum Packet Size, max_packet_size()) to drop, unsent, any
  /// packet above this plus mqtt_packet_overhead: those never reach this
  /// process, so they are neither read nor counted here; the broker counts
  /// them (mosquitto logs "Dropping too large outgoing packet").
  uint32_t max_message_size = 64 * 1024;
  /// A publish not acknowledged within this time is answered with
  /// errc::ack_timeout and leaves the outbox; so is a subscribe request.
  caf::timespan ack_timeout = timeouts::mqtt_ack;
  /// Longest wait for the broker to take the DISCONNECT on close.
  caf::timespan close_timeout = timeouts::mqtt_close;
};

/// Room in a PUBLISH packet besides the message, so that a message of
/// max_message_size bytes reaches the channel on any topic it can subscribe
/// to: fixed header (5), topic length (2) and the longest topic MQTT allows
/// (65,535; wildcard subscriptions match topics of any length), packet id
/// (2), properties length (4) and 1 KiB of properties a publisher or broker
/// may add (message expiry, content type, user properties).
inline constexpr uint32_t mqtt_packet_overhead = 5 + 2 + 65535 + 2 + 4 + 1024;

/// The Maximum Packet Size a channel announces: max_message_size plus
/// mqtt_packet_overhead.
inline uint32_t max_packet_size(const mqtt_channel_spec& spec) {
  return spec.max_message_size + mqtt_packet_overhead;
}

/// Spawns a channel for one broker; it connects at once and keeps
/// reconnecting until closed. Errors: errc::invalid_argument for a spec that
/// cannot work (URI, topics, limits). The channel ends on close, on an exit
/// message, or when nobody holds its handle and no request waits on it
/// (its reconnect timer and paho's callbacks hold it only weakly).
caf::expected<signal_channel_actor> spawn_mqtt_channel(caf::actor_system& sys,
                                                       mqtt_channel_spec spec);

} // namespace p2pd
