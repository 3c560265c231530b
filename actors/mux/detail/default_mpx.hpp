#pragma once

#include "caf/io/abstract_broker.hpp"
#include "caf/io/network/default_multiplexer.hpp"

namespace p2pd::actors::mux {

/// The epoll multiplexer behind `self`, or nullptr (e.g. a test
/// multiplexer): our servants register on it directly.
caf::io::network::default_multiplexer* default_mpx(caf::io::abstract_broker* self);

} // namespace p2pd::actors::mux
