#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "p2pd/net/error.hpp"
#include "p2pd/net/names/name_record.hpp"
#include "p2pd/net/names/name_rules.hpp"

// Where a name server keeps its records: SQLite embedded (the default), or
// PostgreSQL when several servers share one database. Both run the same
// schema and the same queries (store/sql_store.cpp); what differs is how a
// connection runs them. Every call blocks: a server runs them off its
// actors (run_blocking).

namespace p2pd::net::names {

/// A database of name records. Calls are serialized inside (one connection
/// each); servers that share a database see each other's writes through it.
class name_store {
public:
  virtual ~name_store() = default;

  /// Stores `r` (a put, or a deletion's tombstone) if decide_put allows it,
  /// deciding and writing in one transaction: of two puts racing for a free
  /// name exactly one wins, and a process killed mid-put leaves the old
  /// record or the new one, never a mix. `r` must have passed check_record.
  /// The verdict says what was decided; errors are the database's
  /// (errc::io_failed).
  virtual result<verdict> put(const name_record& r, int64_t now, const rules_config& cfg) = 0;

  /// The record that binds `name` at `now`: the live record, or the
  /// tombstone of its deletion (`deleted` set) until tombstone_until() as
  /// the rules were when it was stored; or none.
  virtual result<std::optional<name_record>> lookup(const std::string& name, int64_t now) = 0;

  /// Forgets the rows that no longer bind their name (expired records, old
  /// tombstones); returns how many. Expired names are free before this
  /// runs too: the rules ignore them.
  virtual result<size_t> purge(int64_t now) = 0;
};

/// Opens (creating the schema if needed) the store `url` names:
/// "sqlite:PATH" (a file, created if missing) or "postgresql://..." /
/// "postgres://..." (a libpq connection URI). Errors: errc::invalid_argument
/// for another scheme, errc::io_failed when the database cannot be opened.
result<std::unique_ptr<name_store>> open_store(const std::string& url);

} // namespace p2pd::net::names
