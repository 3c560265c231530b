#pragma once

#include "caf/atom.hpp"
#include "caf/type_id.hpp"

namespace p2pd {

// CAF 0.17 atoms hold at most 10 characters. CAF's own open_atom, close_atom,
// subscribe_atom, unsubscribe_atom, link_atom and unlink_atom are reused.
using send_atom = caf::atom_constant<caf::atom("p2send")>;
using recv_atom = caf::atom_constant<caf::atom("p2recv")>;
using ask_atom = caf::atom_constant<caf::atom("p2ask")>;
using queue_atom = caf::atom_constant<caf::atom("p2queue")>;
using info_atom = caf::atom_constant<caf::atom("p2info")>;
using stats_atom = caf::atom_constant<caf::atom("p2stats")>;
using clients_atom = caf::atom_constant<caf::atom("p2clients")>;
using resolve_atom = caf::atom_constant<caf::atom("p2resolve")>;
/// Measure again now (interface actors, the NTP clock).
using refresh_atom = caf::atom_constant<caf::atom("p2refresh")>;
/// Counters in the form the metrics exposition needs (the node: node_metrics).
using metrics_atom = caf::atom_constant<caf::atom("p2metrics")>;
/// The name service (issue 16): a name client's raw request, put (or
/// deletion) and lookup; a node's registration and deletion of a name.
using name_ask_atom = caf::atom_constant<caf::atom("p2nmask")>;
using name_put_atom = caf::atom_constant<caf::atom("p2nmput")>;
using name_lookup_atom = caf::atom_constant<caf::atom("p2nmlook")>;
using name_register_atom = caf::atom_constant<caf::atom("p2nmreg")>;
using name_delete_atom = caf::atom_constant<caf::atom("p2nmdel")>;

} // namespace p2pd
