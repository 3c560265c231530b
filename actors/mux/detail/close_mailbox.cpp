#include "p2pd/actors/mux/detail/close_mailbox.hpp"

#include "caf/detail/sync_request_bouncer.hpp"

namespace p2pd::actors::mux {

void close_mailbox(caf::scheduled_actor* self, const caf::error& reason) {
  auto& mb = self->mailbox();
  if (mb.closed())
    return;
  mb.close();
  self->get_normal_queue().flush_cache();
  self->get_urgent_queue().flush_cache();
  caf::detail::sync_request_bouncer bounce{reason ? reason : caf::error{caf::exit_reason::normal}};
  while (mb.queue().new_round(1000, bounce).consumed_items) {
  }
}

} // namespace p2pd::actors::mux
