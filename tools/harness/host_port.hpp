#pragma once

// "host:port" as the harness programs take it: an IPv4 literal
// ("127.0.0.1:4100"), a bracketed IPv6 one ("[::1]:4100").

#include <cstdint>
#include <optional>
#include <string>

namespace p2pd::harness {

struct host_port {
  std::string host;  ///< without brackets
  uint16_t port = 0;

  /// "127.0.0.1:4100", "[::1]:4100".
  std::string to_string() const;
};

/// Parses `text`; `allow_zero` lets port 0 ("a free port") through. Why
/// not, in `why`. The host must be an IP address literal, and not a
/// wildcard (0.0.0.0, ::): the middleman listens only where it is told.
std::optional<host_port> parse_host_port(const std::string& text, bool allow_zero,
                                         std::string& why);

} // namespace p2pd::harness
