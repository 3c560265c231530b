#pragma once

#include <string_view>

namespace p2pd::actors {

/// MQTT topic rules (MQTT 3.1.1, section 4.7), shared by the MQTT channel and
/// the hub so that a topic means the same over both.

/// A topic one may publish to: not empty, no wildcards, no NUL, at most
/// 65535 bytes.
bool valid_topic_name(std::string_view topic);

/// A subscription filter: like a topic name, but "+" may fill a whole level
/// and "#" may be the whole last level.
bool valid_topic_filter(std::string_view filter);

/// True if `topic` (a valid name) matches `filter` (a valid filter). As in
/// MQTT, wildcards at the first level do not match topics starting with "$".
bool topic_matches(std::string_view filter, std::string_view topic);

} // namespace p2pd::actors
