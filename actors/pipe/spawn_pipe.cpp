#include "p2pd/actors/pipe/spawn_pipe.hpp"

#include "caf/actor_cast.hpp"
#include "caf/io/middleman.hpp"

#include "p2pd/actors/common/timeouts.hpp"
#include "p2pd/actors/pipe/detail/pipe_broker.hpp"

namespace p2pd {

pipe_actor spawn_pipe(caf::actor_system& sys, pipe_spec spec) {
  auto hdl = sys.middleman().spawn_broker(actors::pipe_broker, std::move(spec));
  return caf::actor_cast<pipe_actor>(hdl);
}

caf::timespan open_timeout(const pipe_spec& spec) {
  // Up to a few resolved addresses get a connect attempt each (on_resolved).
  return spec.conf.dns_timeout
         + static_cast<int64_t>(timeouts::connect_attempts) * spec.conf.con_timeout
         + timeouts::open_margin;
}

caf::expected<pipe_info> open_pipe(caf::scoped_actor& self, pipe_spec spec) {
  auto timeout = open_timeout(spec);
  return open_pipe(self, spawn_pipe(self->system(), std::move(spec)), timeout);
}

caf::expected<pipe_info> open_pipe(caf::scoped_actor& self, const pipe_actor& pipe,
                                   caf::timespan timeout) {
  caf::expected<pipe_info> out{caf::make_error(caf::sec::request_timeout)};
  self->request(pipe, timeout, caf::open_atom::value)
    .receive([&](pipe_info& info) { out = std::move(info); },
             [&](caf::error& err) { out = std::move(err); });
  return out;
}

} // namespace p2pd
