#pragma once

#include "caf/actor_system.hpp"
#include "caf/expected.hpp"

#include "p2pd/actors/signal/node/signal_node_spec.hpp"
#include "p2pd/messages/signal_node.hpp"

namespace p2pd {

/// Spawns a signalling node (see signal_node_actor) for `spec`: loads or
/// creates its identity, opens the channels the spec asks for and subscribes
/// the node to its own topic on every channel. Returns without waiting for
/// the subscriptions: request `online` (or use start_signal_node) before
/// expecting messages.
///
/// Errors: the identity's (errc::bad_key_file naming the file and why, e.g.
/// a key file readable by others; errc::io_failed), the data directory's,
/// an MQTT broker URI that cannot work (errc::invalid_argument), a spec that
/// cannot work (errc::invalid_argument: no clock, a ttl of 0, a topic
/// prefix with wildcards).
///
/// The node ends on close, on an exit message, or when nobody holds it;
/// it closes the channels it opened then. A request it waits on (a
/// channel's publish or subscription acknowledgement) holds it until
/// answered, at most that channel's ack timeout (CAF 0.17: a response
/// promise holds its requester); close ends it at once.
caf::expected<signal_node_actor> spawn_signal_node(caf::actor_system& sys,
                                                   signal_node_spec spec);

} // namespace p2pd
