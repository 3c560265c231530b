#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "caf/actor_system.hpp"
#include "caf/weak_intrusive_ptr.hpp"
#include "mqtt/async_client.h"

namespace p2pd::actors {

/// Relays paho's callbacks to the channel. They run on paho's threads, so
/// they only anon_send: never the channel's state, never `self`. The channel
/// is held weakly, so a client never keeps its channel alive.
class paho_relay final : public mqtt::iaction_listener {
public:
  paho_relay(caf::weak_actor_ptr channel, uint32_t max_message_size);

  /// A finished operation: its user context is the channel's token.
  void on_success(const mqtt::token& tok) override;
  void on_failure(const mqtt::token& tok) override;

  void on_message(const mqtt::const_message_ptr& msg);
  void on_lost(const std::string& cause);

  /// The connection a loss belongs to; the channel sets it before each connect.
  std::atomic<uint64_t> connection{0};

private:
  template <class... Ts>
  void tell(Ts&&... xs);

  caf::weak_actor_ptr channel_;
  uint32_t max_message_size_;
};

/// A paho client with the relay its callbacks use.
///
/// Its destructor may block: MQTTAsync_destroy waits for paho's global lock,
/// which paho holds while it runs a callback, and when the last client goes
/// it waits for paho's threads to stop. It must never run on one of paho's
/// threads (it would wait for itself: the lock is not recursive) nor in an
/// event-based actor: reap() destroys it as a blocking job.
struct paho_client {
  /// Throws mqtt::exception for a URI or client id paho refuses.
  paho_client(const std::string& uri, const std::string& client_id,
              caf::weak_actor_ptr channel, uint32_t max_message_size);

  paho_relay relay; ///< declared first: it outlives the client that calls it
  mqtt::async_client cli;
};

/// Destroys `c` as a blocking job (run_blocking_detached), off the actor
/// threads. Because paho runs callbacks under the lock MQTTAsync_destroy
/// takes first, no callback runs once the destructor got past it, and none
/// starts afterwards. The actor system waits for the job, so paho's threads
/// are gone before the system is.
void reap(caf::actor_system& sys, std::unique_ptr<paho_client> c);

/// A channel's token as paho's user context, and back.
inline void* as_context(uint64_t token) {
  return reinterpret_cast<void*>(static_cast<uintptr_t>(token));
}
inline uint64_t token_of(const mqtt::token& tok) {
  return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(tok.get_user_context()));
}

} // namespace p2pd::actors
