#pragma once

#include "caf/error.hpp"
#include "caf/scheduled_actor.hpp"

namespace p2pd::actors::mux {

/// Closes the mailbox of a broker that is about to quit, answering each
/// queued request with an error and dropping the other messages.
///
/// CAF 0.17's abstract_broker::cleanup skips scheduled_actor::cleanup, which
/// is what does this for other actors. A terminated broker therefore keeps
/// accepting messages: requests to it are never answered (they time out) and
/// the queued messages keep their senders alive, so two brokers that monitor
/// each other leak both. Call it right before quit().
void close_mailbox(caf::scheduled_actor* self, const caf::error& reason);

} // namespace p2pd::actors::mux
