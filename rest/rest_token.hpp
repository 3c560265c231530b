#pragma once

#include <string>
#include <string_view>

#include "p2pd/net/error.hpp"

namespace p2pd::rest {

/// The token file's name in the data directory.
inline constexpr const char* token_file_name = "rest_token";

/// The REST API's bearer token and where it is kept.
struct token_file {
  std::string path;
  std::string token; ///< 64 lower-case hex characters (32 random bytes)
};

/// Loads the token of `dir`/rest_token, creating it (32 random bytes from
/// OpenSSL's generator, hex, mode 0600, written under a temporary name and
/// linked into place so that two processes agree on one) when missing.
/// Refuses (errc::bad_key_file) a file that is a link, not ours, not 0600
/// or not a token: its holder could read or choose the token.
net::result<token_file> load_or_create_token(const std::string& dir);

/// Compares in time that depends on the lengths only, not on where the
/// strings differ (a timing side channel would leak the token byte by byte).
bool constant_time_equal(std::string_view a, std::string_view b);

} // namespace p2pd::rest
