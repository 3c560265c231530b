#pragma once

#include <cstdint>
#include <vector>

#include "caf/replies_to.hpp"
#include "caf/typed_actor.hpp"

#include "p2pd/messages/atoms.hpp"
#include "p2pd/messages/pipe.hpp"

namespace p2pd {

using net::listen_addr;

using listen_atom = caf::atom_constant<caf::atom("p2listen")>;
using listeners_atom = caf::atom_constant<caf::atom("p2lstnrs")>;

/// One listener of a daemon.
struct listener_info {
  uint64_t id = 0;
  net::protocol proto = net::protocol::tcp;
  endpoint local;         ///< the bound address (the real port, also after restarts)
  /// The current incarnation; changes when restarted. A strong handle: keeping
  /// the infos of closed listeners keeps their (small) actors in memory.
  pipe_actor pipe;
  uint64_t restarts = 0;  ///< restarts completed (the listener was up again)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, listener_info& x) {
  return f(caf::meta::type_name("p2pd::listener_info"), x.id, x.proto, x.local, x.pipe,
           x.restarts);
}

/// The typed interface of a daemon: many listeners, each a server pipe
/// supervised by the daemon (restarted on the same address and port when it
/// fails, within a restart budget; past it the daemon quits with
/// errc::listener_failed, which its monitors and links see).
///
/// - listen (addresses): opens a listener per address (plan them with
///   net::plan_listen_all, or give bound addresses: the seed's
///   listen_specific) and answers with them; if one fails, the others of the
///   request are closed and the error is the answer.
/// - listeners: the current listeners.
/// - delete (id): closes one listener.
/// - close: closes every listener and their clients, answers when all are
///   gone, and ends the daemon.
using daemon_actor = caf::typed_actor<
  caf::replies_to<listen_atom, std::vector<listen_addr>>::with<std::vector<listener_info>>,
  caf::replies_to<listeners_atom>::with<std::vector<listener_info>>,
  caf::replies_to<caf::delete_atom, uint64_t>::with<caf::ok_atom>,
  caf::replies_to<caf::close_atom>::with<caf::ok_atom>>;

} // namespace p2pd
