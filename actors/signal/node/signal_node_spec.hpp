#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "p2pd/actors/common/clock.hpp"
#include "p2pd/actors/common/timeouts.hpp"
#include "p2pd/actors/signal/mqtt/mqtt_channel.hpp"
#include "p2pd/actors/signal/hub/signal_hub.hpp"
#include "p2pd/messages/signal.hpp"
#include "p2pd/net/crypto/identity.hpp"
#include "p2pd/net/crypto/replay_guard.hpp"
#include "p2pd/net/util/server_list.hpp"
#include "p2pd/proto/wire_limits.hpp"

namespace p2pd {

/// What a signalling node is made of. Its channels are, together:
/// `channels` (given by the caller, left open when the node ends), one MQTT
/// channel per entry of `brokers`, and a channel to `hub` if one is given.
/// With none of the three the node uses a private in-process hub: it starts
/// and works offline (it can reach itself, and nobody else).
struct signal_node_spec {
  /// The directory with the node's key file (identity.key, created on first
  /// start). Empty: net::open_data_dir()'s default ($P2PD_DATA_DIR, else
  /// ~/.p2pd). Not read when `identity` is set.
  std::optional<std::string> data_dir;
  /// An identity to use instead of the key file: for simulations and
  /// benchmarks, whose nodes need no files.
  std::shared_ptr<const net::identity> identity;

  /// Channels the caller opened (MQTT channels, hub channels, ...).
  std::vector<signal_channel_actor> channels;
  /// MQTT brokers ("tcp://host:port") to open a channel to each.
  std::vector<std::string> brokers;
  /// The settings of those channels; broker_uri, name, topics and
  /// subscribers are set per broker, a client id is chosen at random.
  mqtt_channel_spec mqtt;
  /// The in-process hub to join, e.g. one shared by many simulated nodes.
  signal_hub_actor hub;

  /// The first topic levels; the node listens on signal_topic(id, prefix).
  std::string topic_prefix{default_signal_prefix};
  /// How long a message sent is valid after it was stamped.
  uint32_t ttl_ms = timeouts::signal_ttl_ms;
  /// The replay guard of incoming messages (skew, largest ttl, capacity).
  net::replay_config replay;
  /// The largest envelope sent or looked at; larger ones are refused
  /// (errc::message_too_large) and counted (too_large).
  uint32_t max_message_size = wire::max_envelope_bytes;

  /// How many channels carry each message: 0 for all. With two or more
  /// channels at least two do, so that one broker failing loses nothing.
  /// Healthy channels (whose last publish succeeded) are chosen first.
  uint32_t redundancy = 0;

  /// Sends waiting for their channels' answers at once; more are refused
  /// with errc::queue_full and counted (send_failed).
  size_t max_pending_sends = 1024;
  /// Actors that may subscribe at once.
  size_t max_subscribers = 64;

  /// A copy of a delivered message that arrives within this time of the
  /// delivery counts as a duplicate (redundant channels, a broker's resend);
  /// a later one as replayed. Neither is delivered: the split only tells
  /// redundancy at work from someone replaying.
  uint32_t duplicate_window_ms = timeouts::signal_duplicate_window_ms;
  /// Delivered messages remembered for that (the oldest are forgotten
  /// first; a copy of a forgotten one counts as replayed).
  size_t duplicate_memory = 4096;

  /// Unix time in ms: stamps what is sent and judges what comes in. A
  /// simulation injects its own; the node never reads another clock.
  std::function<int64_t()> clock = system_clock_ms;
};

/// Adds the server list's MQTT brokers to `spec.brokers`.
void add_brokers(signal_node_spec& spec, const std::vector<net::server_entry>& list);

} // namespace p2pd
