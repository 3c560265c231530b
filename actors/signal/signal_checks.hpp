#pragma once

#include <string>

#include "caf/actor.hpp"
#include "caf/error.hpp"

namespace p2pd::actors {

/// The caller's mistakes every signalling channel refuses the same way, MQTT
/// or hub, so that an error reads the same over both.

/// errc::invalid_argument if no one can publish to `topic` (empty, a
/// wildcard, too long); none otherwise.
caf::error check_publish_topic(const std::string& topic);

/// errc::invalid_argument if `filter` is not an MQTT topic filter or there is
/// no target; none otherwise.
caf::error check_subscription(const std::string& filter, const caf::actor& target);

} // namespace p2pd::actors
