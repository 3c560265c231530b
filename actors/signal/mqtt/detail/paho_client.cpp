#include "p2pd/actors/signal/mqtt/detail/paho_client.hpp"

#include "caf/actor_cast.hpp"
#include "caf/send.hpp"

#include "p2pd/actors/common/run_blocking.hpp"
#include "p2pd/actors/signal/mqtt/detail/mqtt_channel_actor.hpp"

namespace p2pd::actors {

paho_relay::paho_relay(caf::weak_actor_ptr channel, uint32_t max_message_size)
  : channel_(std::move(channel)), max_message_size_(max_message_size) {
  // nop
}

template <class... Ts>
void paho_relay::tell(Ts&&... xs) {
  // The strong reference lives only for this send. Should it be the last
  // one, the channel ends here, on paho's thread; its state then hands the
  // client to reap() and calls nothing of paho's.
  if (auto hdl = caf::actor_cast<mqtt_channel_actor>(channel_.lock()))
    caf::anon_send(hdl, std::forward<Ts>(xs)...);
}

void paho_relay::on_success(const mqtt::token& tok) {
  tell(paho_done_atom::value, token_of(tok), int32_t{0}, std::string{});
}

void paho_relay::on_failure(const mqtt::token& tok) {
  // The channel reads rc 0 as success: a failure without a code stays one.
  int32_t rc = tok.get_return_code() != 0 ? tok.get_return_code() : MQTTASYNC_FAILURE;
  auto text = mqtt::exception::error_str(rc);
  tell(paho_done_atom::value, token_of(tok), rc,
       "paho return code " + std::to_string(rc) + (text.empty() ? "" : " (" + text + ")"));
}

void paho_relay::on_message(const mqtt::const_message_ptr& msg) {
  if (!msg)
    return;
  auto& payload = msg->get_payload_ref();
  if (payload.size() > max_message_size_) {
    tell(mqtt_big_atom::value, msg->get_topic(), static_cast<uint64_t>(payload.size()));
    return;
  }
  tell(mqtt_in_atom::value, msg->get_topic(), bytes(payload.data(), payload.data() + payload.size()));
}

void paho_relay::on_lost(const std::string& cause) {
  tell(mqtt_lost_atom::value, connection.load(), cause.empty() ? std::string{"connection lost"} : cause);
}

paho_client::paho_client(const std::string& uri, const std::string& client_id,
                         caf::weak_actor_ptr channel, uint32_t max_message_size)
  : relay(std::move(channel), max_message_size),
    cli(uri, client_id, mqtt::create_options(MQTTVERSION_5),
        static_cast<mqtt::iclient_persistence*>(nullptr)) {
  // No persistence: the outbox lives in the channel, and clean sessions keep
  // nothing at the broker either.
  auto* r = &relay;
  cli.set_message_callback([r](mqtt::const_message_ptr msg) { r->on_message(msg); });
  cli.set_connection_lost_handler([r](const std::string& cause) { r->on_lost(cause); });
}

void reap(caf::actor_system& sys, std::unique_ptr<paho_client> c) {
  if (!c)
    return;
  // std::function needs a copyable callable: the client travels in a
  // shared_ptr, which the job alone holds.
  std::shared_ptr<paho_client> owned{std::move(c)};
  run_blocking_detached(sys, [owned]() mutable { owned.reset(); });
}

} // namespace p2pd::actors
