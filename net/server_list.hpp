#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "p2pd/net/address.hpp"
#include "p2pd/net/error.hpp"

// Which servers a node uses is configuration, never code: a text file of
// "<kind> <address>" lines. The project ships a default file (config/
// servers.conf, installed to <datadir>/p2pd/servers.conf); a user's own file
// replaces it. Without any, a node runs on its embedded defaults (no external
// addresses, NAT unknown, the in-process signalling hub).

namespace p2pd::net {

/// What a server is for.
enum class server_kind : uint8_t {
  stun, ///< STUN binding (RFC 5389/8489): external addresses
  nat,  ///< STUN with two addresses and two ports (RFC 5780/3489): NAT type
  mqtt, ///< an MQTT broker for signalling ("tcp://host:port")
  turn, ///< a TURN relay
  ntp,  ///< an NTP server
};

const char* to_string(server_kind x);

/// One line of a server file.
struct server_entry {
  server_kind kind = server_kind::stun;
  /// A host name or an IP literal (IPv6 without brackets); for mqtt the whole
  /// URI ("tcp://broker.example:1883").
  std::string host;
  uint16_t port = 0;
  /// The line it came from, for messages.
  size_t line = 0;
};

/// Parses a server file's text. Blank lines and '#' comments are skipped.
/// Errors name the line: "line 3: unknown server kind 'stun5'", "line 4:
/// 'example.org' has no port".
result<std::vector<server_entry>> parse_server_list(std::string_view text);

/// Reads and parses the file at `path`.
result<std::vector<server_entry>> load_server_list(const std::string& path);

/// The entries of `kind` as endpoints: IP literals as they are, names
/// resolved to all their addresses, IPv4 and IPv6 (blocking: call it off the
/// actors' threads). Names that do not resolve are left out and told in
/// `skipped`.
std::vector<endpoint> resolve_servers(const std::vector<server_entry>& entries,
                                      server_kind kind, std::vector<std::string>* skipped = nullptr);

} // namespace p2pd::net
