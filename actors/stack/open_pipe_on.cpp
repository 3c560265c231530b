#include "p2pd/actors/stack/open_pipe_on.hpp"

#include "p2pd/actors/pipe/spawn_pipe.hpp"

namespace p2pd {

caf::expected<pipe_info> open_pipe_on(caf::scoped_actor& self, const net_stack& stack,
                                      pipe_spec spec) {
  auto timeout = open_timeout(spec);
  return open_pipe(self, stack.spawn_pipe(self->system(), std::move(spec)), timeout);
}

} // namespace p2pd
