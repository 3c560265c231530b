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

} // namespace p2pd
