#pragma once

#include <vector>

#include "caf/actor.hpp"
#include "caf/actor_system.hpp"
#include "caf/atom.hpp"
#include "caf/allowed_unsafe_message_type.hpp"

#include "p2pd/actors/stun/nat_probe.hpp"

namespace p2pd {

/// Asks a NAT prober for its report.
using nat_probe_atom = caf::atom_constant<caf::atom("p2natprobe")>;

/// An event-based actor that runs probe_nat_any(servers, spec) without
/// blocking a thread: the same tests in the same order, each a request on
/// the actor clock, so that it runs on a simulated network's virtual time as
/// on the OS, and an actor that probes needs no worker thread.
///
/// The first `nat_probe_atom` request starts the probe; it and any request
/// that comes while it runs get the nat_report, or the error probe_nat_any()
/// would give, and the prober then ends (its pipes and STUN client with it).
/// Give the request a timeout of nat_probe_deadline(servers.size(), spec).
caf::actor spawn_nat_prober(caf::actor_system& sys, std::vector<endpoint> servers,
                            nat_probe_spec spec);

/// The longest a prober of `servers` servers may take with `spec`: each
/// server's tests, its TCP fallback and its delta samples at their
/// deadlines, plus a margin.
caf::timespan nat_probe_deadline(size_t servers, const nat_probe_spec& spec);

} // namespace p2pd

// A local answer only: the report never crosses a process.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(p2pd::nat_report)
