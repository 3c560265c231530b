#pragma once

#include <string>
#include <vector>

#include "caf/error.hpp"
#include "caf/expected.hpp"

#include "p2pd/actors/stack/net_stack.hpp"
#include "p2pd/actors/stun/nat_probe.hpp"

// The parts of a NAT probe that do not wait on the network, shared by the
// prober actor and kept apart so that each reads in one sitting.
namespace p2pd::detail {

/// What is wrong with `spec` for a probe of `spec.server`; none when nothing.
caf::error check_nat_probe_spec(const nat_probe_spec& spec);

/// replied / no_reply (a timeout) / not_run (any other error: an error
/// response proves nothing about the NAT), noting why a test did not run.
net::stun_test nat_test_outcome(const caf::expected<stun_binding>& r, const char* name,
                                std::vector<std::string>& notes);

/// The addresses a probe socket bound at `local` sends from: `local`'s own,
/// or for an any-address every address of its family on `stack`.
std::vector<net::ip_address> local_ips_of(const net_stack& stack, const endpoint& local,
                                          std::vector<std::string>& notes);

/// probe_nat_any()'s answer from what each of `servers` gave, in order
/// (`tried` may be shorter: the probe stopped at the first with a type).
caf::expected<nat_report> choose_nat_report(const std::vector<endpoint>& servers,
                                            std::vector<caf::expected<nat_report>> tried);

} // namespace p2pd::detail
