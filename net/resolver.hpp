#pragma once

#include <optional>
#include <string>
#include <vector>

#include "p2pd/net/address.hpp"
#include "p2pd/net/error.hpp"

namespace p2pd::net {

/// Resolves a host name or an IP literal to addresses, blocking (getaddrinfo):
/// call it off the actors' threads. IP literals and the special-use names of
/// RFC 6761 are answered here without a query: "localhost" (and *.localhost)
/// is the loopback address and *.invalid never resolves. With `fam` set, only
/// addresses of that family are returned; IPv4 comes before IPv6 otherwise.
result<std::vector<ip_address>> resolve_host(const std::string& host,
                                             std::optional<family> fam = std::nullopt);

/// True if `host` is answered without a query (a literal or a special-use name).
bool resolves_locally(const std::string& host);

} // namespace p2pd::net
