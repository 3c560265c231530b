#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "caf/actor.hpp"
#include "caf/actor_system.hpp"
#include "caf/expected.hpp"
#include "caf/meta/type_name.hpp"
#include "caf/timespan.hpp"

#include "p2pd/actors/daemon/daemon_spec.hpp"
#include "p2pd/net/names/name_rules.hpp"
#include "p2pd/net/names/name_store.hpp"

namespace p2pd {

/// What a name server allows a client (issue 16).
struct name_server_limits {
  /// Requests of any kind per source IP: a burst, then a rate.
  double ip_burst = 20;
  double ip_per_s = 5;
  /// Puts and deletions per owner key.
  double key_burst = 10;
  double key_per_s = 1;
  /// Buckets kept per limiter (least recently used forgotten past it).
  size_t max_tracked = 65536;
  /// Database calls queued or running at once; a request beyond is answered
  /// "busy" and counted (name_server_stats::dropped_busy).
  size_t max_pending = 64;
};

/// A name server's spec: its store, rules and limits.
struct name_server_spec {
  /// Opened by the caller (net::names::open_store): opening blocks.
  std::shared_ptr<net::names::name_store> store;
  net::names::rules_config rules;
  name_server_limits limits;
  /// Unix time in ms; the rules and limits use it. Default:
  /// system_clock_ms. Tests give their own, to age records without waiting.
  std::function<int64_t()> clock_ms;
  /// How often rows that no longer bind a name are deleted.
  caf::timespan purge_interval = std::chrono::seconds{60};
};

/// What a name server did; every refusal has a counter.
struct name_server_stats {
  uint64_t requests = 0;
  uint64_t puts = 0;          ///< puts and deletions stored
  uint64_t lookups = 0;       ///< lookups that found a live record
  uint64_t tombstones = 0;    ///< lookups answered not_found with a deletion's tombstone
  uint64_t refused = 0;       ///< by the rules: taken, stale, forged, invalid, too many
  uint64_t malformed = 0;     ///< requests that did not decode
  uint64_t rate_limited = 0;
  uint64_t dropped_busy = 0;  ///< the queue of database calls was full
  uint64_t db_errors = 0;
  uint64_t purged = 0;        ///< rows deleted by the purge
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, name_server_stats& x) {
  return f(caf::meta::type_name("p2pd::name_server_stats"), x.requests, x.puts, x.lookups,
           x.tombstones, x.refused, x.malformed, x.rate_limited, x.dropped_busy, x.db_errors, x.purged);
}

/// Spawns a name server: an actor that answers the requests of
/// proto/names.proto that reach it as pipe_msg (subscribe it to listeners:
/// name_daemon_spec) on the pipe they came from. Its database calls run on
/// the blocking executor (run_blocking), at most limits.max_pending at once.
/// It answers stats_atom with name_server_stats, and ends when sent an exit.
/// Errors: no store (errc::invalid_argument).
caf::expected<caf::actor> spawn_name_server(caf::actor_system& sys, name_server_spec spec);

/// A daemon spec whose listeners deliver to `server`: TCP frames each
/// message behind its length (UDP: one message per datagram).
daemon_spec name_daemon_spec(const caf::actor& server, daemon_spec base = {});

} // namespace p2pd
