#pragma once

#include <string>

#include "caf/actor_system_config.hpp"
#include "caf/atom.hpp"
#include "caf/error.hpp"

#include "p2pd/net/error.hpp"

namespace p2pd {

using net::errc;

/// The category of p2pd's errors in caf::error.
constexpr caf::atom_value error_category = caf::atom("p2pd");

/// A caf::error of the p2pd category; `what` says what failed and why.
caf::error make_error(errc code, std::string what);
caf::error make_error(const net::error& err);

/// The code of a p2pd error, errc::none for other categories.
errc code_of(const caf::error& err);

/// The message of a p2pd error ("" for others); see also render().
std::string what_of(const caf::error& err);

/// Readable text for any error, e.g. "p2pd::connect_refused: connect to ...".
std::string render(const caf::error& err);

/// Lets actor_system::render() print p2pd errors; register_types() calls it.
void add_error_category(caf::actor_system_config& cfg);

} // namespace p2pd
