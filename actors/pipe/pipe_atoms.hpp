#pragma once

#include "caf/atom.hpp"

namespace p2pd::actors {

// Internal messages of a pipe broker (timeouts and reports it sends itself);
// the public ones are in messages/atoms.hpp.
using recv_tmo_atom = caf::atom_constant<caf::atom("p2rtmo")>;
using ask_tmo_atom = caf::atom_constant<caf::atom("p2atmo")>;
using conn_tmo_atom = caf::atom_constant<caf::atom("p2ctmo")>;
using close_tmo_atom = caf::atom_constant<caf::atom("p2cltmo")>;
using oversized_atom = caf::atom_constant<caf::atom("p2big")>;
using tls_tmo_atom = caf::atom_constant<caf::atom("p2tlstmo")>;
using sweep_atom = caf::atom_constant<caf::atom("p2sweep")>;

} // namespace p2pd::actors
