#pragma once

#include <string>
#include <vector>

#include "caf/allowed_unsafe_message_type.hpp"
#include "caf/replies_to.hpp"
#include "caf/timespan.hpp"
#include "caf/typed_actor.hpp"

#include "p2pd/messages/atoms.hpp"
#include "p2pd/net/addr/address.hpp"
#include "p2pd/net/error.hpp"

namespace p2pd {

/// What a resolver answers: one result per host asked, in the order asked;
/// each all the host's addresses (IPv4 before IPv6), errc::resolve_failed
/// with the reason (NXDOMAIN, ...) or errc::resolve_timeout.
struct resolved_hosts {
  std::vector<net::result<std::vector<net::ip_address>>> answers;
};

/// A network stack's name resolver (net_stack::resolver()): `(resolve_atom,
/// hosts, timeout)` resolves every host (a name or an IP literal) at once and
/// answers within about `timeout` whatever the name servers do, a host
/// without an answer by then with errc::resolve_timeout.
using resolver_actor = caf::typed_actor<
  caf::replies_to<resolve_atom, std::vector<std::string>, caf::timespan>::with<resolved_hosts>>;

} // namespace p2pd

// A local answer only: it never crosses a process.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(p2pd::resolved_hosts)
