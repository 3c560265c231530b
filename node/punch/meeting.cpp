#include "p2pd/node/punch/meeting.hpp"

#include <algorithm>

namespace p2pd::node {

meeting plan_meeting(int64_t now_unix_ms, std::optional<int64_t> offset_ms, millis rtt,
                     millis margin) {
  meeting m;
  m.wait = std::max(millis{0}, rtt / 2) + margin;
  m.synced = offset_ms.has_value();
  m.start_unix_ms = now_unix_ms + offset_ms.value_or(0) + m.wait.count();
  return m;
}

std::optional<millis> responder_wait(int64_t start_unix_ms, bool sender_synced,
                                     int64_t now_unix_ms, std::optional<int64_t> offset_ms,
                                     millis margin) {
  if (!sender_synced || !offset_ms)
    return margin;
  auto ahead = millis{start_unix_ms - (now_unix_ms + *offset_ms)};
  if (ahead > max_meeting_ahead)
    return std::nullopt;
  return std::max(millis{0}, ahead);
}

} // namespace p2pd::node
