#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "p2pd/net/error.hpp"

// What the SQL store needs of a database connection: transactions and
// statements with numbered parameters ($1, $2, ...), which SQLite and
// PostgreSQL both accept, so that the queries are one text for both.

namespace p2pd::net::names::detail {

using sql_param = std::variant<int64_t, std::string>;
/// A result row, every column as text (SQLite and libpq both give text).
using sql_row = std::vector<std::string>;

class sql_conn {
public:
  virtual ~sql_conn() = default;
  /// Begins a transaction; `write`: one that will write (SQLite takes the
  /// write lock at once, so that two writers never both read first).
  virtual error begin(bool write) = 0;
  virtual error commit() = 0;
  /// Never fails as far as the caller is concerned: a failed rollback
  /// leaves nothing committed either.
  virtual void rollback() = 0;
  /// Runs one statement and returns its rows (RETURNING rows for writes).
  virtual result<std::vector<sql_row>> exec(const std::string& sql,
                                            const std::vector<sql_param>& params) = 0;
  /// Whether the last error was a conflict worth retrying the transaction
  /// for (PostgreSQL's serialization failure, SQLite's busy).
  virtual bool retryable() const = 0;
};

result<std::unique_ptr<sql_conn>> open_sqlite(const std::string& path);
result<std::unique_ptr<sql_conn>> open_postgresql(const std::string& uri);

} // namespace p2pd::net::names::detail
