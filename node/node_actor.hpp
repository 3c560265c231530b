#pragma once

#include "caf/actor_system.hpp"
#include "caf/expected.hpp"

#include "p2pd/node/node_messages.hpp"
#include "p2pd/node/node_spec.hpp"

namespace p2pd {

/// Spawns a P2P node (see node_actor) for `spec`: it loads or creates its
/// identity, spawns an interface actor per interface, a signal node on the
/// configured channels (a private hub when none), and a daemon with its
/// listeners (node TLS, length-prefixed messages) on every route's NIC
/// address (IPv6: global and link-local), all linked to it: a child that
/// fails ends the node with that child's error. Request `ready` before
/// connecting; subscribers see its progress.
///
/// Errors at once: the identity's (errc::bad_key_file, errc::io_failed), a
/// TLS context that cannot be made (errc::crypto_failed), the signal node's.
caf::expected<node_actor> spawn_node(caf::actor_system& sys, node_spec spec);

} // namespace p2pd
