// Publishes of an MQTT channel: the bounded outbox, sends and resends, and
// the acknowledgements that answer the publish requests.
#include <algorithm>

#include "p2pd/actors/common/timeouts.hpp"
#include "p2pd/actors/signal/mqtt/detail/mqtt_channel_state.hpp"
#include "p2pd/actors/signal/detail/signal_checks.hpp"
#include "p2pd/messages/errors.hpp"

namespace p2pd::actors {

namespace {

void send_entry(mqtt_channel_ptr self, uint64_t id, outbox_entry& e) {
  auto& st = self->state;
  auto token = st.next_token++;
  try {
    st.client->cli.publish(e.topic, e.data.data(), e.data.size(), 1, false, as_context(token),
                           st.client->relay);
  } catch (const mqtt::exception&) {
    // The connection broke under us: its loss is reported next and the
    // entry goes out after the reconnect; should the loss not come, the
    // flush timer tries again.
    arm_flush(self);
    return;
  }
  st.in_flight.emplace(token, id);
  e.token = token;
  if (e.sends++ > 0)
    ++st.stats.resent;
}

std::string ms(caf::timespan t) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(t).count())
         + " ms";
}

} // namespace

caf::result<caf::ok_atom> publish(mqtt_channel_ptr self, std::string& topic, bytes& data) {
  auto& st = self->state;
  if (st.life.closing())
    return make_error(errc::channel_closed,
                      "publish to " + topic + ": the channel to " + st.spec.broker_uri
                        + " is closing");
  if (auto err = check_publish_topic(topic))
    return err;
  if (auto err = check_publish_size(topic, data.size(), st.spec.max_message_size,
                                    "mqtt_channel_spec::max_message_size")) {
    ++st.stats.dropped_oversized;
    return err;
  }
  if (st.outbox.size() >= st.spec.max_outbox) {
    ++st.stats.dropped_full;
    return make_error(errc::queue_full,
                      "publish to " + topic + " refused: "
                        + std::to_string(st.outbox.size())
                        + " publishes already wait for an acknowledgement from "
                        + st.spec.broker_uri + " (mqtt_channel_spec::max_outbox)"
                        + (st.phase == link_phase::ready ? ""
                                                         : "; not connected: " + st.last_failure));
  }
  ++st.stats.published;
  auto id = st.next_id++;
  auto& e = st.outbox[id];
  e.topic = std::move(topic);
  e.data = std::move(data);
  e.rp = self->make_response_promise();
  e.deadline = self->clock().now() + st.spec.ack_timeout;
  auto rp = e.rp;
  if (st.phase == link_phase::ready)
    send_entry(self, id, e);
  arm_expiry(self);
  return rp;
}

void flush(mqtt_channel_ptr self) {
  auto& st = self->state;
  if (st.phase != link_phase::ready)
    return;
  for (auto& [id, e] : st.outbox)
    if (e.token == 0)
      send_entry(self, id, e);
}

void on_publish_done(mqtt_channel_ptr self, uint64_t token, int32_t rc) {
  auto& st = self->state;
  auto i = st.in_flight.find(token);
  if (i == st.in_flight.end())
    return; // from a connection that is gone, or expired
  auto id = i->second;
  st.in_flight.erase(i);
  auto j = st.outbox.find(id);
  if (j == st.outbox.end())
    return;
  if (rc != 0) {
    // Paho gave up on it (the connection broke): send it again later.
    j->second.token = 0;
    arm_flush(self);
    return;
  }
  ++st.stats.acked;
  j->second.rp.deliver(caf::ok_atom::value);
  st.outbox.erase(j);
}

void arm_flush(mqtt_channel_ptr self) {
  auto& st = self->state;
  if (st.flush_armed || st.life.closing())
    return;
  st.flush_armed = true;
  // A plain delayed message, though it holds the channel: one backoff_min.
  self->delayed_send(self, st.spec.backoff_min, flush_atom::value);
}

void arm_expiry(mqtt_channel_ptr self) {
  auto& st = self->state;
  if (st.expire_armed)
    return;
  // Deadlines grow with the order of requests: the first of each list is next.
  caf::actor_clock::time_point next = caf::actor_clock::time_point::max();
  if (!st.outbox.empty())
    next = st.outbox.begin()->second.deadline;
  if (!st.subscribe_waiters.empty())
    next = std::min(next, st.subscribe_waiters.front().deadline);
  if (next == caf::actor_clock::time_point::max())
    return;
  st.expire_armed = true;
  // A plain delayed message, though it holds the channel until it fires: it
  // is armed only while a publish or subscribe waits, for at most
  // ack_timeout, and that requester is owed its acknowledgement or
  // ack_timeout rather than an early channel_closed.
  auto wait = std::max(caf::timespan{next - self->clock().now()}, timeouts::mqtt_expiry_floor);
  self->delayed_send(self, wait, expire_atom::value);
}

void expire(mqtt_channel_ptr self) {
  auto& st = self->state;
  st.expire_armed = false;
  auto now = self->clock().now();
  for (auto i = st.outbox.begin(); i != st.outbox.end() && i->second.deadline <= now;) {
    auto& e = i->second;
    ++st.stats.expired;
    if (e.token != 0)
      st.in_flight.erase(e.token);
    e.rp.deliver(make_error(errc::ack_timeout,
                            "publish to " + e.topic + ": no acknowledgement from "
                              + st.spec.broker_uri + " within "
                              + ms(st.spec.ack_timeout)
                              + (st.phase == link_phase::ready
                                   ? std::string{}
                                   : "; not connected: " + st.last_failure)));
    i = st.outbox.erase(i);
  }
  auto& ws = st.subscribe_waiters;
  auto keep = std::stable_partition(ws.begin(), ws.end(), [&](const subscribe_waiter& w) {
    return w.deadline > now;
  });
  for (auto j = keep; j != ws.end(); ++j)
    j->rp.deliver(make_error(errc::ack_timeout,
                             "subscribe to " + j->filter + ": no acknowledgement from "
                               + st.spec.broker_uri + " within " + ms(st.spec.ack_timeout)
                               + (st.phase == link_phase::ready
                                    ? std::string{}
                                    : "; not connected: " + st.last_failure)));
  ws.erase(keep, ws.end());
  arm_expiry(self);
}

} // namespace p2pd::actors
