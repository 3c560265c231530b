#include "p2pd/actors/stun/external_address.hpp"

#include <utility>

#include "caf/scoped_actor.hpp"

#include "p2pd/actors/stun/external_prober.hpp"
#include "p2pd/messages/errors.hpp"
#include "p2pd/messages/inspect_net.hpp"

// The blocking facade over the prober actor (external_prober.cpp), for code
// outside actors: tools, the runtime facade, tests.
namespace p2pd {

caf::expected<net::route> discover_external(caf::actor_system& sys, const net::route& r,
                                            const external_spec& spec) {
  caf::scoped_actor self{sys};
  auto prober = spawn_external_prober(sys, r, spec);
  caf::expected<net::route> out{make_error(errc::io_failed, "no answer from the external-address prober")};
  self->request(prober, external_probe_deadline(r, spec), external_probe_atom::value)
    .receive([&](net::route& found) { out = std::move(found); },
             [&](caf::error& err) { out = std::move(err); });
  self->send_exit(prober, caf::exit_reason::user_shutdown); // after a timeout, say
  return out;
}

} // namespace p2pd
