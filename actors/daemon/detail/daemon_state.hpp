#pragma once

// The daemon as its implementation sees it (daemon_actor.cpp).

#include <cstdint>
#include <map>
#include <memory>
#include <unordered_map>
#include <vector>

#include "caf/stateful_actor.hpp"

#include "p2pd/actors/common/lifecycle.hpp"
#include "p2pd/actors/daemon/daemon_spec.hpp"
#include "p2pd/messages/daemon.hpp"
#include "p2pd/net/sock/port_lock.hpp"

namespace p2pd::actors {

/// A daemon's state: its listeners and their restart budgets.
struct daemon_state {
  struct listener {
    uint64_t id = 0;
    listen_addr addr; ///< with the bound port once open
    pipe_actor pipe;
    restart_budget budget;
    bool stopping = false;
    uint64_t restarts = 0; ///< completed: the listener is up again
    caf::error last_failure;
    std::shared_ptr<net::port_lock> lock; ///< held across restarts
  };

  static inline const char* name = "p2pd.daemon";

  daemon_spec spec;
  /// The checked lock directory, or why it could not be used.
  net::result<std::string> lock_dir{std::string{}};
  std::map<uint64_t, listener> listeners;
  std::unordered_map<caf::actor_addr, uint64_t> by_pipe;
  uint64_t next_id = 1;
  /// Open from the start; close requests are answered once every listener
  /// has closed.
  lifecycle life;

  listener_info info(const listener& l) const;
  std::vector<listener_info> infos() const;
};

using daemon_ptr = caf::stateful_actor<daemon_state>*;

caf::behavior daemon_behavior(daemon_ptr self, daemon_spec spec);

} // namespace p2pd::actors
