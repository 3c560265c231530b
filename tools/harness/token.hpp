#pragma once

// The shared token that authenticates a controller to its agents: read from
// a file (--token-file) or the environment (P2PD_HARNESS_TOKEN), compared in
// constant time on every request.

#include <string>
#include <string_view>

#include "caf/expected.hpp"

namespace p2pd::harness {

/// The shortest token accepted: 16 characters (a random hex string of 32
/// is what the tests and the lab script make).
constexpr size_t min_token_size = 16;

/// The token from `file`'s first line (blanks trimmed), or from
/// $P2PD_HARNESS_TOKEN when `file` is empty. Errors (errc::invalid_argument):
/// no token, an unreadable file, a token shorter than min_token_size.
caf::expected<std::string> load_token(const std::string& file);

/// True if `given` equals `expected`, in time that depends only on their
/// sizes.
bool token_matches(std::string_view expected, std::string_view given);

} // namespace p2pd::harness
