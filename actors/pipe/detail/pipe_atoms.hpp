#pragma once

#include "caf/atom.hpp"

namespace p2pd::actors {

// Internal messages of a pipe broker (timeouts and reports it sends itself);
// the public ones are in messages/atoms.hpp.
//
// The timeouts are plain delayed messages, not weak timers
// (common/weak_timer.hpp), though each holds the pipe until it fires: a pipe
// lives as long as its owner, not as long as its references (it closes when
// the owner ends), each wait is one of its own bounded timeouts, and a weak
// timer would cost an actor per recv.
using recv_tmo_atom = caf::atom_constant<caf::atom("p2rtmo")>;
using ask_tmo_atom = caf::atom_constant<caf::atom("p2atmo")>;
using conn_tmo_atom = caf::atom_constant<caf::atom("p2ctmo")>;
using close_tmo_atom = caf::atom_constant<caf::atom("p2cltmo")>;
using oversized_atom = caf::atom_constant<caf::atom("p2big")>;
using tls_tmo_atom = caf::atom_constant<caf::atom("p2tlstmo")>;
using preamble_tmo_atom = caf::atom_constant<caf::atom("p2pretmo")>;
using sweep_atom = caf::atom_constant<caf::atom("p2sweep")>;

} // namespace p2pd::actors
