#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "caf/actor.hpp"
#include "caf/meta/type_name.hpp"
#include "caf/replies_to.hpp"
#include "caf/typed_actor.hpp"

#include "p2pd/messages/atoms.hpp"
#include "p2pd/messages/pipe.hpp"

namespace p2pd {

/// The default first levels of signalling topics: a node listens on
/// "p2pd/v1/<node id text>". Deployments that share brokers with other users
/// pick their own prefix.
constexpr std::string_view default_signal_prefix = "p2pd/v1";

/// The topic a node with `node_id` (its text form) listens on.
inline std::string signal_topic(std::string_view node_id,
                                std::string_view prefix = default_signal_prefix) {
  std::string out{prefix};
  out += '/';
  out += node_id;
  return out;
}

/// A message a signalling channel received, as its subscribers get it. The
/// bytes are opaque here (sealed envelopes made above); a message may come
/// more than once (delivery is at least once), so receivers drop duplicates
/// by the id inside.
struct signal_in {
  std::string channel; ///< the name of the channel it came through
  std::string topic;
  bytes data;
  /// Non-zero: a message of this many bytes came, over the channel's size
  /// limit, and was dropped unread (`data` is empty); receivers count it.
  uint64_t oversized = 0;
};

/// What a signalling channel did; every refusal and drop has a counter.
struct signal_stats {
  std::string name;
  /// MQTT: connected to the broker and its subscriptions acknowledged; the
  /// hub: open.
  bool connected = false;
  uint64_t published = 0;         ///< publish requests accepted
  uint64_t acked = 0;             ///< publishes the broker acknowledged (PUBACK) / the hub took
  uint64_t resent = 0;            ///< sends of a publish after its first (after a reconnect)
  uint64_t received = 0;          ///< messages that came in within the size limit
  uint64_t dropped_full = 0;      ///< publishes refused: the outbox was full; the hub: deliveries dropped, max_in_flight were in flight
  uint64_t dropped_oversized = 0; ///< publishes refused and messages dropped: over the size limit
  uint64_t dropped_unclaimed = 0; ///< received with no subscriber; the hub: published to a topic nobody listens on
  uint64_t expired = 0;           ///< publishes not acknowledged within the ack timeout
  uint64_t reconnects = 0;        ///< connections made after the first one
  uint64_t outbox = 0;            ///< publishes waiting for their acknowledgement now; the hub: deliveries in flight (signal_hub_spec::latency)
  uint64_t lost = 0;              ///< the hub: deliveries dropped on purpose (signal_hub_spec::loss)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, signal_in& x) {
  return f(caf::meta::type_name("p2pd::signal_in"), x.channel, x.topic, x.data,
           x.oversized);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, signal_stats& x) {
  return f(caf::meta::type_name("p2pd::signal_stats"), x.name, x.connected, x.published,
           x.acked, x.resent, x.received, x.dropped_full, x.dropped_oversized,
           x.dropped_unclaimed, x.expired, x.reconnects, x.outbox, x.lost);
}

/// A signalling channel: moves opaque messages between nodes over one MQTT
/// broker (actors/signal/mqtt_channel.hpp) or the in-process hub
/// (actors/signal/signal_hub.hpp). Node code is the same over both.
/// Requests answer with the value shown or a caf::error of the p2pd category.
///
/// - publish (topic, bytes): answers once the broker acknowledged the message
///   (MQTT QoS 1 PUBACK; the hub: at once). Until then it waits in a bounded
///   outbox and is sent again after each reconnect. Refused at once with
///   errc::message_too_large, errc::queue_full (outbox full) or
///   errc::invalid_argument (a topic with wildcards); errc::ack_timeout when
///   no acknowledgement came in time, errc::channel_closed on close.
/// - subscribe (topic filter, target): `target` gets a signal_in for each
///   message on a matching topic (MQTT filters: + and # wildcards). Answers
///   once the broker acknowledged the subscription, so that what is
///   published afterwards reaches `target`. The channel holds the target
///   weakly and forgets it when it terminates.
/// - unsubscribe (topic filter, target).
/// - stats: counters and whether the channel is connected.
/// - connect: connects now if not connected, instead of waiting out the
///   reconnect backoff (e.g. after the network changed).
/// - close: disconnects, answers every waiting request with
///   errc::channel_closed, answers, and ends the channel.
using signal_channel_actor = caf::typed_actor<
  caf::replies_to<caf::publish_atom, std::string, bytes>::with<caf::ok_atom>,
  caf::replies_to<caf::subscribe_atom, std::string, caf::actor>::with<caf::ok_atom>,
  caf::replies_to<caf::unsubscribe_atom, std::string, caf::actor>::with<caf::ok_atom>,
  caf::replies_to<stats_atom>::with<signal_stats>,
  caf::replies_to<caf::connect_atom>::with<caf::ok_atom>,
  caf::replies_to<caf::close_atom>::with<caf::ok_atom>>;

} // namespace p2pd
