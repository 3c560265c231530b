#pragma once

#include <cstdint>
#include <string>

#include "caf/atom.hpp"
#include "caf/replies_to.hpp"
#include "caf/typed_actor.hpp"

#include "p2pd/messages/signal.hpp"

namespace p2pd::actors {

// What paho's callbacks and the channel's own timers tell the channel.
using paho_done_atom = caf::atom_constant<caf::atom("p2pahodone")>;
using mqtt_in_atom = caf::atom_constant<caf::atom("p2mqttin")>;
using mqtt_big_atom = caf::atom_constant<caf::atom("p2mqttbig")>;
using mqtt_lost_atom = caf::atom_constant<caf::atom("p2mqttlost")>;
using reconnect_atom = caf::atom_constant<caf::atom("p2reconn")>;
using flush_atom = caf::atom_constant<caf::atom("p2flush")>;
using expire_atom = caf::atom_constant<caf::atom("p2expire")>;
using close_timeout_atom = caf::atom_constant<caf::atom("p2closeto")>;

/// The MQTT channel as its internals see it: the public interface plus
///
/// - paho_done (token, rc, why): a paho operation (connect, subscribe,
///   publish, disconnect) finished, rc 0 for success; `token` is the one the
///   channel gave it.
/// - mqtt_in (topic, bytes): a message from the broker.
/// - mqtt_big (topic, size): a message over the size limit was dropped.
/// - mqtt_lost (connection, cause): that connection was lost.
/// - reconnect (attempt), flush, expire, close_timeout: the channel's timers.
using mqtt_channel_actor = signal_channel_actor::extend<
  caf::reacts_to<paho_done_atom, uint64_t, int32_t, std::string>,
  caf::reacts_to<mqtt_in_atom, std::string, bytes>,
  caf::reacts_to<mqtt_big_atom, std::string, uint64_t>,
  caf::reacts_to<mqtt_lost_atom, uint64_t, std::string>,
  caf::reacts_to<reconnect_atom, uint64_t>,
  caf::reacts_to<flush_atom>,
  caf::reacts_to<expire_atom>,
  caf::reacts_to<close_timeout_atom>>;

} // namespace p2pd::actors
