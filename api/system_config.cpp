#include "p2pd/api/system_config.hpp"

#include "caf/io/middleman.hpp"

#include "p2pd/messages/register.hpp"
#include "p2pd/node/node_messages.hpp"

namespace p2pd {

config::config(size_t threads) {
  load<caf::io::middleman>();
  set("scheduler.max-threads", threads == 0 ? 1 : threads);
  // BASP is not used: no deserializer threads.
  set("middleman.workers", 0);
  register_types(*this);
  register_node_types(*this);
}

} // namespace p2pd
