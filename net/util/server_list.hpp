#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <string_view>
#include <vector>

#include "p2pd/net/addr/address.hpp"
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
  /// A name server (tools/name_server, api/names.hpp): "name host:port",
  /// asked over TCP.
  name,
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
  /// turn lines only: long-term credentials, "turn host:port user password"
  /// (both or neither).
  std::string username;
  std::string password;
};

/// Parses a server file's text. Blank lines and '#' comments are skipped.
/// Errors name the line: "line 3: unknown server kind 'stun5'", "line 4:
/// 'example.org' has no port".
result<std::vector<server_entry>> parse_server_list(std::string_view text);

/// Reads and parses the file at `path`.
result<std::vector<server_entry>> load_server_list(const std::string& path);

/// A server of the file that could not be resolved, and why.
struct unresolved_server {
  server_entry entry;
  /// errc::resolve_timeout (no answer within dns_timeout) or
  /// errc::resolve_failed with the resolver's reason (NXDOMAIN, ...).
  error why;
  /// "line 3: stun stun.example.org:3478: no answer within 2000 ms"
  std::string to_string() const;
};

/// What resolve_servers() made of a server list.
struct resolved_servers {
  /// Every address of every entry that resolved, with its kind, in file
  /// order (a name with several addresses gives several endpoints).
  std::vector<std::pair<server_kind, endpoint>> endpoints;
  std::vector<unresolved_server> unresolved;
  /// The time resolution truly took (at most about dns_timeout).
  std::chrono::milliseconds took{0};

  /// The endpoints of `kind`.
  std::vector<endpoint> of(server_kind kind) const;
  /// How many entries of `kind` could not be resolved.
  size_t unresolved_count(server_kind kind) const;
};

/// Resolves the entries whose kind is in `kinds` (mqtt entries are URIs:
/// their client resolves them): IP literals as they are, names to all their
/// addresses, IPv4 and IPv6, every name at once (net::resolve_hosts) within
/// `dns_timeout`. Blocking for at most about `dns_timeout`: call it off the
/// actors' threads.
resolved_servers resolve_servers(const std::vector<server_entry>& entries,
                                 std::chrono::milliseconds dns_timeout,
                                 const std::vector<server_kind>& kinds = {server_kind::stun,
                                                                          server_kind::nat});

/// The entries resolve_servers() resolves: those whose kind is in `kinds`,
/// never mqtt ones, in file order. For a caller that resolves their hosts
/// some other way (an actor through its network stack's resolver).
std::vector<server_entry> servers_to_resolve(const std::vector<server_entry>& entries,
                                             const std::vector<server_kind>& kinds);

/// resolve_servers()'s answer from `picked` (servers_to_resolve()) and one
/// result per entry of it, in order (resolve_hosts() of their hosts), the
/// resolution having taken `took`. Entries beyond `ips` count as unresolved.
resolved_servers collect_servers(const std::vector<server_entry>& picked,
                                 const std::vector<result<std::vector<ip_address>>>& ips,
                                 std::chrono::milliseconds took);

} // namespace p2pd::net
