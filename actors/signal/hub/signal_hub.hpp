#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "caf/actor_system.hpp"
#include "caf/atom.hpp"
#include "caf/replies_to.hpp"
#include "caf/timespan.hpp"
#include "caf/typed_actor.hpp"

#include "p2pd/messages/signal.hpp"

namespace p2pd {

/// The in-process signalling hub: a broker inside the actor system. It is
/// the embedded default when no MQTT broker is configured, and the transport
/// of many simulated nodes in one process. Nodes talk to it through
/// hub_channel(), which speaks signal_channel_actor like an MQTT channel, so
/// node code is the same over both. Queues are CAF mailboxes; what is bounded
/// is the message size, and with a latency the deliveries in flight.
///
/// With a latency (or jitter) each delivery, one per receiving channel, waits
/// in the hub until it is due on the actor clock: virtual time under CAF's
/// test coordinator, real time otherwise; no thread, one timer message. The
/// defaults (no latency, jitter or loss) deliver at once, as a hub without
/// these fields did.
struct signal_hub_spec {
  /// Largest message the hub takes; larger publishes are refused with
  /// errc::message_too_large and counted.
  uint32_t max_message_size = 64 * 1024;
  /// Every delivery waits this long after the publish...
  caf::timespan latency{0};
  /// ...plus a delay drawn uniformly from [0, jitter] for each delivery.
  /// Deliveries to one channel still come in the order the hub took their
  /// publishes (a later one is held until the earlier is due), as over one
  /// broker connection.
  caf::timespan jitter{0};
  /// The chance (0..1) that a delivery is lost (counted as `lost`).
  double loss = 0;
  /// Seeds the draws of jitter and loss: one seed, one sequence of draws
  /// (per delivery, one for the loss if set, then one for the jitter if set
  /// and the delivery was not lost).
  uint64_t seed = 1;
  /// Deliveries waiting at most; one more is dropped and counted as
  /// `dropped_full`.
  size_t max_in_flight = 4096;
  /// Bytes (topics and payloads) of the deliveries waiting at most; one
  /// more that would pass it is dropped and counted as `dropped_full`.
  size_t max_in_flight_bytes = 16 * 1024 * 1024;
};

using hub_deliver_atom = caf::atom_constant<caf::atom("p2hubdlv")>;
/// The hub's own timer: deliveries that are due go out. From anyone else
/// it is harmless (nothing is due early).
using hub_tick_atom = caf::atom_constant<caf::atom("p2hubtck")>;

/// A channel of the hub: the channel interface plus the hub's deliveries.
using hub_channel_actor
  = signal_channel_actor::extend<caf::reacts_to<hub_deliver_atom, std::string, bytes>>;

/// The hub's own interface, used by its channels.
///
/// - publish (topic, bytes): hands the message to every channel subscribed
///   to a matching filter and answers how many there were; with none, the
///   message is counted as dropped (not an error: nobody listens there).
/// - subscribe / unsubscribe (filter, channel): the hub holds channels
///   weakly and forgets them when they terminate.
/// - stats: name "hub"; published, acked (publishes that reached a channel),
///   received (deliveries handed to a channel), dropped_unclaimed (publishes
///   nobody listened to, and deliveries whose channel ended before they were
///   due), dropped_oversized, dropped_full (the in-flight bound), lost (the loss
///   drawn), outbox (deliveries in flight now).
/// - tick: the hub's own timer (hub_tick_atom).
using signal_hub_actor = caf::typed_actor<
  caf::replies_to<caf::publish_atom, std::string, bytes>::with<uint64_t>,
  caf::reacts_to<hub_tick_atom>,
  caf::replies_to<caf::subscribe_atom, std::string, hub_channel_actor>::with<caf::ok_atom>,
  caf::replies_to<caf::unsubscribe_atom, std::string, hub_channel_actor>::with<caf::ok_atom>,
  caf::replies_to<stats_atom>::with<signal_stats>>;

/// Spawns a hub. It lives as long as someone (a channel) holds it, and
/// until its deliveries in flight are due (under the test coordinator,
/// which moves no time by itself, a test ends by advancing the clock past
/// them or cancelling it: `sched.clock().cancel_all()`).
signal_hub_actor spawn_signal_hub(caf::actor_system& sys, signal_hub_spec spec = {});

/// A channel to `hub` named `name` (the name in its signal_in messages and
/// stats): what a node uses instead of an MQTT channel. Publishes are
/// answered once the hub handed the message on. It ends on close, on an exit
/// message, or when nobody holds it.
signal_channel_actor hub_channel(caf::actor_system& sys, const signal_hub_actor& hub,
                                 std::string name);

} // namespace p2pd
