#include "p2pd/actors/signal/detail/signal_checks.hpp"

#include "caf/send.hpp"

#include "p2pd/actors/signal/topic_filter.hpp"
#include "p2pd/messages/errors.hpp"

namespace p2pd::actors {

caf::error check_publish_topic(const std::string& topic) {
  if (valid_topic_name(topic))
    return {};
  return make_error(errc::invalid_argument,
                    "publish to \"" + topic
                      + "\": not a topic one can publish to (empty, a wildcard + or #, "
                        "or over 65535 bytes)");
}

caf::error check_subscription(const std::string& filter, const caf::actor& target) {
  if (!valid_topic_filter(filter))
    return make_error(errc::invalid_argument,
                      "subscribe to \"" + filter + "\": not a valid MQTT topic filter");
  if (!target)
    return make_error(errc::invalid_argument, "subscribe to " + filter + ": no target actor");
  return {};
}

caf::error check_publish_size(const std::string& topic, size_t size, size_t limit,
                              const char* option) {
  if (size <= limit)
    return {};
  return make_error(errc::message_too_large,
                    "publish of " + std::to_string(size) + " bytes to " + topic
                      + " refused: the limit is " + std::to_string(limit) + " bytes (" + option
                      + ")");
}

void deliver_to_targets(const subscriber_table& targets, signal_stats& stats,
                        std::string& topic, bytes& data) {
  ++stats.received;
  auto to = targets.match(topic);
  if (to.empty()) {
    ++stats.dropped_unclaimed;
    return;
  }
  // The last target takes the bytes; the others get copies.
  for (size_t i = 0; i + 1 < to.size(); ++i)
    caf::anon_send(to[i], signal_in{stats.name, topic, data});
  caf::anon_send(to.back(), signal_in{stats.name, std::move(topic), std::move(data)});
}

} // namespace p2pd::actors
