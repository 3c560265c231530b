#include "p2pd/actors/signal/hub/signal_hub.hpp"

#include "caf/actor_cast.hpp"
#include "caf/send.hpp"
#include "caf/stateful_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "p2pd/actors/signal/detail/signal_checks.hpp"
#include "p2pd/actors/signal/detail/subscriber_table.hpp"
#include "p2pd/actors/signal/topic_filter.hpp"
#include "p2pd/messages/errors.hpp"

namespace p2pd::actors {

namespace {

struct hub_state {
  static inline const char* name = "p2pd.signal_hub";
  signal_hub_spec spec;
  subscriber_table channels; ///< weak: a channel is not kept alive by the hub
  signal_stats stats;
};

using hub_ptr = signal_hub_actor::stateful_pointer<hub_state>;

caf::result<uint64_t> hub_publish(hub_ptr self, std::string& topic, bytes& data) {
  auto& st = self->state;
  if (auto err = check_publish_topic(topic))
    return err;
  if (auto err = check_publish_size(topic, data.size(), st.spec.max_message_size,
                                    "signal_hub_spec::max_message_size")) {
    ++st.stats.dropped_oversized;
    return err;
  }
  ++st.stats.published;
  auto to = st.channels.match(topic);
  if (to.empty()) {
    ++st.stats.dropped_unclaimed;
    return uint64_t{0};
  }
  ++st.stats.acked;
  st.stats.received += to.size();
  for (auto& ch : to)
    caf::anon_send(caf::actor_cast<hub_channel_actor>(ch), hub_deliver_atom::value, topic,
                   data);
  return static_cast<uint64_t>(to.size());
}

signal_hub_actor::behavior_type hub(hub_ptr self, signal_hub_spec spec) {
  self->state.spec = spec;
  self->state.stats.name = "hub";
  self->state.stats.connected = true;
  self->set_down_handler([self](caf::down_msg& dm) { self->state.channels.remove_all(dm.source); });
  return {
    [self](caf::publish_atom, std::string& topic, bytes& data) {
      return hub_publish(self, topic, data);
    },
    [self](caf::subscribe_atom, std::string& filter,
           hub_channel_actor& ch) -> caf::result<caf::ok_atom> {
      if (!valid_topic_filter(filter))
        return make_error(errc::invalid_argument,
                          "subscribe to \"" + filter + "\": not a valid MQTT topic filter");
      if (!ch)
        return make_error(errc::invalid_argument, "subscribe to " + filter + ": no channel");
      self->state.channels.add(filter, ch.address());
      self->monitor(ch);
      return caf::ok_atom::value;
    },
    [self](caf::unsubscribe_atom, std::string& filter, hub_channel_actor& ch) {
      self->state.channels.remove(filter, ch.address());
      return caf::ok_atom::value;
    },
    [self](stats_atom) { return self->state.stats; },
  };
}

} // namespace

} // namespace p2pd::actors

namespace p2pd {

signal_hub_actor spawn_signal_hub(caf::actor_system& sys, signal_hub_spec spec) {
  return sys.spawn(actors::hub, spec);
}

} // namespace p2pd
