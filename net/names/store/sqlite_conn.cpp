// The SQLite connection of the name store: WAL with synchronous=FULL, so a
// committed put survives a kill (and a power cut) and an interrupted one
// leaves nothing; a busy timeout so that two processes on one file wait for
// each other's write lock instead of failing.
#include <sqlite3.h>

#include "p2pd/net/names/store/sql_conn.hpp"

namespace p2pd::net::names::detail {

namespace {

class sqlite_conn : public sql_conn {
public:
  explicit sqlite_conn(sqlite3* db) : db_(db) {
  }

  ~sqlite_conn() override {
    sqlite3_close_v2(db_);
  }

  error begin(bool write) override {
    return simple(write ? "BEGIN IMMEDIATE" : "BEGIN");
  }

  error commit() override {
    return simple("COMMIT");
  }

  void rollback() override {
    if (!sqlite3_get_autocommit(db_))
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }

  result<std::vector<sql_row>> exec(const std::string& sql,
                                    const std::vector<sql_param>& params) override {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &stmt, nullptr)
        != SQLITE_OK)
      return fail("prepare");
    struct finalize {
      sqlite3_stmt* s;
      ~finalize() { sqlite3_finalize(s); }
    } guard{stmt};
    for (size_t i = 0; i < params.size(); ++i) {
      // By name: "$1" is a named parameter to SQLite, and naming it is what
      // makes its number mean the same as PostgreSQL's.
      auto name = "$" + std::to_string(i + 1);
      int at = sqlite3_bind_parameter_index(stmt, name.c_str());
      if (at == 0)
        return error{errc::io_failed, "sqlite: no parameter " + name + " in " + sql};
      int rc = std::holds_alternative<int64_t>(params[i])
                 ? sqlite3_bind_int64(stmt, at, std::get<int64_t>(params[i]))
                 : sqlite3_bind_text(stmt, at, std::get<std::string>(params[i]).c_str(),
                                     static_cast<int>(std::get<std::string>(params[i]).size()),
                                     SQLITE_TRANSIENT);
      if (rc != SQLITE_OK)
        return fail("bind");
    }
    std::vector<sql_row> rows;
    for (;;) {
      int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE)
        break;
      if (rc != SQLITE_ROW)
        return fail("step");
      sql_row row;
      int n = sqlite3_column_count(stmt);
      for (int c = 0; c < n; ++c) {
        auto text = sqlite3_column_text(stmt, c);
        row.emplace_back(text ? reinterpret_cast<const char*>(text) : "");
      }
      rows.push_back(std::move(row));
    }
    return rows;
  }

  bool retryable() const override {
    return last_rc_ == SQLITE_BUSY || last_rc_ == SQLITE_LOCKED;
  }

  error simple(const char* sql) {
    if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK)
      return fail(sql);
    return {};
  }

private:
  error fail(const char* what) {
    last_rc_ = sqlite3_extended_errcode(db_) & 0xff;
    return error{errc::io_failed, std::string{"sqlite: "} + what + ": " + sqlite3_errmsg(db_)};
  }

  sqlite3* db_;
  int last_rc_ = SQLITE_OK;
};

} // namespace

result<std::unique_ptr<sql_conn>> open_sqlite(const std::string& path) {
  if (path.empty())
    return error{errc::invalid_argument, "sqlite: an empty path"};
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    std::string why = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    return error{errc::io_failed, "sqlite: cannot open " + path + ": " + why};
  }
  auto conn = std::make_unique<sqlite_conn>(db);
  sqlite3_busy_timeout(db, 5000);
  for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL"})
    if (auto err = conn->simple(pragma))
      return err;
  return std::unique_ptr<sql_conn>{std::move(conn)};
}

} // namespace p2pd::net::names::detail
