#pragma once

#include <cstddef>
#include <string>

#include "caf/actor.hpp"
#include "caf/error.hpp"

#include "p2pd/actors/signal/detail/subscriber_table.hpp"
#include "p2pd/messages/signal.hpp"

namespace p2pd::actors {

/// What every signalling channel does the same way, MQTT or hub: the
/// caller's mistakes it refuses, so that an error reads the same over both,
/// and how a message reaches the channel's subscribers.

/// errc::invalid_argument if no one can publish to `topic` (empty, a
/// wildcard, too long); none otherwise.
caf::error check_publish_topic(const std::string& topic);

/// errc::invalid_argument if `filter` is not an MQTT topic filter or there is
/// no target; none otherwise.
caf::error check_subscription(const std::string& filter, const caf::actor& target);

/// errc::message_too_large if `size` bytes exceed `limit`, naming the spec
/// `option` that sets it; none otherwise.
caf::error check_publish_size(const std::string& topic, size_t size, size_t limit,
                              const char* option);

/// Hands a message that came in on `topic` to every target whose filter
/// matches, each once, as a signal_in from `stats.name`; counts it as
/// received, and as dropped_unclaimed when no target wants it.
void deliver_to_targets(const subscriber_table& targets, signal_stats& stats,
                        std::string& topic, bytes& data);

} // namespace p2pd::actors
