#include "p2pd/actors/mux/detail/default_mpx.hpp"

namespace p2pd::actors::mux {

caf::io::network::default_multiplexer* default_mpx(caf::io::abstract_broker* self) {
  return dynamic_cast<caf::io::network::default_multiplexer*>(&self->backend());
}

} // namespace p2pd::actors::mux
