#pragma once

// TLS for the middleman's connections (CAF's openssl module): an agent and
// its controller each give a directory with cert.pem, key.pem and ca.pem;
// each side's certificate must be signed by the CA the other trusts, so the
// token no longer travels in clear and a peer without such a certificate
// cannot even say hello.

#include <string>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/error.hpp"
#include "caf/io/middleman_actor.hpp"

namespace p2pd::harness {

/// Loads CAF's openssl module into `cfg` with DIR/cert.pem, DIR/key.pem and
/// DIR/ca.pem (before the actor system exists). Errors
/// (errc::invalid_argument): a file that is missing or unreadable.
caf::error use_tls(caf::actor_system_config& cfg, const std::string& dir);

/// The actor that makes middleman connections: the openssl module's when
/// `sys` has it loaded, else the plain middleman's.
caf::io::middleman_actor connector_of(caf::actor_system& sys);

} // namespace p2pd::harness
