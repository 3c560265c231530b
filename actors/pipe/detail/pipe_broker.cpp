#include "p2pd/actors/pipe/detail/pipe_broker.hpp"

#include "p2pd/actors/mux/detail/broker_transport.hpp"
#include "p2pd/actors/pipe/detail/pipe_behavior.hpp"

namespace p2pd::actors {

caf::behavior pipe_broker(caf::io::stateful_broker<pipe_state>* self, pipe_spec spec) {
  auto& st = self->state;
  auto transport = std::make_unique<mux::broker_transport>(self, st);
  auto io = transport->handlers();
  st.transport = std::move(transport);
  return pipe_core_behavior(&st, std::move(spec)).or_else(io);
}

} // namespace p2pd::actors
