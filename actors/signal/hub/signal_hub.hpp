#pragma once

#include <cstdint>
#include <string>

#include "caf/actor_system.hpp"
#include "caf/atom.hpp"
#include "caf/replies_to.hpp"
#include "caf/typed_actor.hpp"

#include "p2pd/messages/signal.hpp"

namespace p2pd {

/// The in-process signalling hub: a broker inside the actor system. It is
/// the embedded default when no MQTT broker is configured, and the transport
/// of many simulated nodes in one process. Nodes talk to it through
/// hub_channel(), which speaks signal_channel_actor like an MQTT channel, so
/// node code is the same over both. Queues are CAF mailboxes; what is bounded
/// is the message size.
struct signal_hub_spec {
  /// Largest message the hub takes; larger publishes are refused with
  /// errc::message_too_large and counted.
  uint32_t max_message_size = 64 * 1024;
};

using hub_deliver_atom = caf::atom_constant<caf::atom("p2hubdlv")>;

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
///   received (deliveries), dropped_unclaimed, dropped_oversized.
using signal_hub_actor = caf::typed_actor<
  caf::replies_to<caf::publish_atom, std::string, bytes>::with<uint64_t>,
  caf::replies_to<caf::subscribe_atom, std::string, hub_channel_actor>::with<caf::ok_atom>,
  caf::replies_to<caf::unsubscribe_atom, std::string, hub_channel_actor>::with<caf::ok_atom>,
  caf::replies_to<stats_atom>::with<signal_stats>>;

/// Spawns a hub. It lives as long as someone (a channel) holds it.
signal_hub_actor spawn_signal_hub(caf::actor_system& sys, signal_hub_spec spec = {});

/// A channel to `hub` named `name` (the name in its signal_in messages and
/// stats): what a node uses instead of an MQTT channel. Publishes are
/// answered once the hub handed the message on. It ends on close, on an exit
/// message, or when nobody holds it.
signal_channel_actor hub_channel(caf::actor_system& sys, const signal_hub_actor& hub,
                                 std::string name);

} // namespace p2pd
