// A node's channel to the in-process hub: the same interface as an MQTT
// channel, with the hub as its broker.
#include <map>
#include <set>
#include <vector>

#include "caf/actor_cast.hpp"
#include "caf/send.hpp"
#include "caf/stateful_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "p2pd/actors/common/lifecycle.hpp"
#include "p2pd/actors/common/timeouts.hpp"
#include "p2pd/actors/signal/detail/signal_checks.hpp"
#include "p2pd/actors/signal/hub/signal_hub.hpp"
#include "p2pd/actors/signal/detail/subscriber_table.hpp"
#include "p2pd/messages/errors.hpp"

namespace p2pd::actors {

namespace {

struct hub_channel_state {
  static inline const char* name = "p2pd.hub_channel";
  signal_hub_actor hub;
  subscriber_table targets;
  std::set<std::string> at_hub;                                 ///< filters the hub confirmed
  std::map<std::string, std::vector<caf::response_promise>> pending; ///< filters being registered
  signal_stats stats;
  /// Open from the start; a close is answered at once (the hub needs no
  /// goodbye), so no close request ever waits.
  lifecycle life;
};

using hub_channel_ptr = hub_channel_actor::stateful_pointer<hub_channel_state>;

// The hub's errors as the channel's: a hub that is gone closed the channel.
caf::error from_hub(hub_channel_ptr self, caf::error err) {
  if (err == caf::sec::request_receiver_down)
    return make_error(errc::channel_closed,
                      "channel " + self->state.stats.name + ": the hub has terminated");
  return err;
}

caf::result<caf::ok_atom> closing_error(hub_channel_ptr self, const std::string& what) {
  return make_error(errc::channel_closed,
                    what + ": channel " + self->state.stats.name + " is closing");
}

caf::result<caf::ok_atom> publish(hub_channel_ptr self, std::string& topic, bytes& data) {
  if (self->state.life.closing())
    return closing_error(self, "publish to " + topic);
  auto rp = self->make_response_promise();
  // No timeout: the hub answers at once, or CAF bounces the request when the
  // hub is gone; a timeout would keep this channel alive until it fired.
  self->request(self->state.hub, timeouts::until_answered, caf::publish_atom::value, std::move(topic),
                std::move(data))
    .then(
      [self, rp](uint64_t receivers) mutable {
        auto& s = self->state.stats;
        ++s.published;
        ++s.acked;
        if (receivers == 0)
          ++s.dropped_unclaimed;
        rp.deliver(caf::ok_atom::value);
      },
      [self, rp](caf::error& err) mutable {
        if (code_of(err) == errc::message_too_large)
          ++self->state.stats.dropped_oversized;
        rp.deliver(from_hub(self, std::move(err)));
      });
  return rp;
}

void answer_pending(hub_channel_ptr self, const std::string& filter, const caf::error& err) {
  auto i = self->state.pending.find(filter);
  if (i == self->state.pending.end())
    return;
  for (auto& rp : i->second) {
    if (err)
      rp.deliver(err);
    else
      rp.deliver(caf::ok_atom::value);
  }
  self->state.pending.erase(i);
}

caf::result<caf::ok_atom> subscribe(hub_channel_ptr self, std::string& filter,
                                    const caf::actor& target) {
  auto& st = self->state;
  if (st.life.closing())
    return closing_error(self, "subscribe to " + filter);
  if (auto err = check_subscription(filter, target))
    return err;
  st.targets.add(filter, target.address());
  self->monitor(target);
  if (st.at_hub.count(filter) > 0)
    return caf::ok_atom::value;
  auto rp = self->make_response_promise();
  auto& waiting = st.pending[filter];
  waiting.push_back(rp);
  if (waiting.size() > 1)
    return rp; // the hub is being asked already
  self
    ->request(st.hub, timeouts::until_answered, caf::subscribe_atom::value, filter,
              hub_channel_actor{self})
    .then(
      [self, filter](caf::ok_atom) {
        if (self->state.targets.has(filter))
          self->state.at_hub.insert(filter);
        answer_pending(self, filter, caf::error{});
      },
      [self, filter](caf::error& err) { answer_pending(self, filter, from_hub(self, err)); });
  return rp;
}

void leave_hub(hub_channel_ptr self, const std::string& filter) {
  if (self->state.at_hub.erase(filter) > 0)
    caf::anon_send(self->state.hub, caf::unsubscribe_atom::value, filter,
                   hub_channel_actor{self});
}

void deliver(hub_channel_ptr self, std::string& topic, bytes& data) {
  auto& st = self->state;
  if (!st.life.closing())
    deliver_to_targets(st.targets, st.stats, topic, data);
}

hub_channel_actor::behavior_type hub_channel_fn(hub_channel_ptr self, signal_hub_actor hub,
                                                std::string name) {
  self->state.hub = std::move(hub);
  self->state.stats.name = std::move(name);
  self->set_down_handler([self](caf::down_msg& dm) {
    for (auto& f : self->state.targets.remove_all(dm.source))
      leave_hub(self, f);
  });
  return {
    [self](caf::publish_atom, std::string& topic, bytes& data) {
      return publish(self, topic, data);
    },
    [self](caf::subscribe_atom, std::string& filter, caf::actor& target) {
      return subscribe(self, filter, target);
    },
    [self](caf::unsubscribe_atom, std::string& filter, caf::actor& target) {
      if (target && self->state.targets.remove(filter, target.address()))
        leave_hub(self, filter);
      return caf::ok_atom::value;
    },
    [self](stats_atom) {
      auto out = self->state.stats;
      out.connected = !self->state.life.closing();
      return out;
    },
    [self](caf::connect_atom) -> caf::result<caf::ok_atom> {
      if (self->state.life.closing())
        return closing_error(self, "connect");
      return caf::ok_atom::value; // the hub is always there
    },
    [self](caf::close_atom) {
      auto& st = self->state;
      st.life.begin_close();
      for (auto f : st.at_hub)
        caf::anon_send(st.hub, caf::unsubscribe_atom::value, f, hub_channel_actor{self});
      st.at_hub.clear();
      auto err = make_error(errc::channel_closed, "channel " + st.stats.name + " was closed");
      for (auto& kvp : st.pending)
        for (auto& rp : kvp.second)
          rp.deliver(err);
      st.pending.clear();
      st.life.closed();
      self->quit();
      return caf::ok_atom::value;
    },
    [self](hub_deliver_atom, std::string& topic, bytes& data) { deliver(self, topic, data); },
  };
}

} // namespace

} // namespace p2pd::actors

namespace p2pd {

signal_channel_actor hub_channel(caf::actor_system& sys, const signal_hub_actor& hub,
                                 std::string name) {
  return sys.spawn(actors::hub_channel_fn, hub, std::move(name));
}

} // namespace p2pd
