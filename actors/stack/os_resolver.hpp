#pragma once

#include "caf/actor_system.hpp"

#include "p2pd/actors/stack/resolver.hpp"

namespace p2pd {

/// This host's resolver: every request is one net::resolve_hosts() (getaddrinfo,
/// one thread per name) run as a blocking job on `sys`'s executor
/// (run_blocking), so the actor never blocks; IP literals, "localhost" and
/// "*.invalid" are answered without a query. The actor serves any number of
/// requests, several at once, and ends with its last handle.
resolver_actor spawn_os_resolver(caf::actor_system& sys);

} // namespace p2pd
