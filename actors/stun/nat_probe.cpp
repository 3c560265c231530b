#include "p2pd/actors/stun/nat_probe.hpp"

#include <utility>

#include "caf/scoped_actor.hpp"

#include "p2pd/actors/stun/nat_prober.hpp"
#include "p2pd/messages/errors.hpp"

// The blocking facades over the prober actor (nat_prober.cpp), for code
// outside actors: tools, the runtime facade, tests.
namespace p2pd {

caf::expected<nat_report> probe_nat_any(caf::actor_system& sys,
                                        const std::vector<endpoint>& servers,
                                        const nat_probe_spec& spec) {
  caf::scoped_actor self{sys};
  auto prober = spawn_nat_prober(sys, servers, spec);
  caf::expected<nat_report> out{make_error(errc::io_failed, "no answer from the NAT prober")};
  self->request(prober, nat_probe_deadline(servers.size(), spec), nat_probe_atom::value)
    .receive([&](nat_report& rep) { out = std::move(rep); },
             [&](caf::error& err) { out = std::move(err); });
  self->send_exit(prober, caf::exit_reason::user_shutdown); // after a timeout, say
  return out;
}

caf::expected<nat_report> probe_nat(caf::actor_system& sys, const nat_probe_spec& spec) {
  return probe_nat_any(sys, {spec.server}, spec);
}

} // namespace p2pd
