#include "p2pd/actors/signal/signal_checks.hpp"

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

} // namespace p2pd::actors
