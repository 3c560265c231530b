#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "p2pd/net/addr/address.hpp"
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

/// At most this many resolver threads run at once for one resolve_hosts().
constexpr size_t max_resolver_threads = 32;

/// Resolves `hosts` in parallel (up to max_resolver_threads getaddrinfo calls
/// at once, each on a thread of its own) and returns within about `timeout`
/// however the resolver behaves: one result per host, in the same order. A
/// host without an answer by then gets errc::resolve_timeout ("no answer
/// within 2000 ms"); a name the resolver denies gets errc::resolve_failed
/// with its reason (NXDOMAIN, no address of the family, ...). Names answered
/// locally (resolves_locally) use no thread. Blocking: call it off the
/// actors' threads. getaddrinfo cannot be cancelled, so a thread still
/// waiting at the deadline is left to end by itself (the system resolver's
/// own timeout) and its answer is dropped.
std::vector<result<std::vector<ip_address>>>
resolve_hosts(const std::vector<std::string>& hosts, std::chrono::milliseconds timeout,
              std::optional<family> fam = std::nullopt);

} // namespace p2pd::net
