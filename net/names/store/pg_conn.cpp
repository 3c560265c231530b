// The PostgreSQL connection of the name store (libpqxx): for servers that
// share one database. Each put is a pqxx::work transaction at READ
// COMMITTED; the store's compare-and-set writes (ON CONFLICT DO NOTHING, an
// UPDATE guarded by the owner and version read) make racing puts from
// different servers give exactly one winner.
#include <optional>

#include <pqxx/pqxx>

#include "p2pd/net/names/store/sql_conn.hpp"

namespace p2pd::net::names::detail {

namespace {

class pg_conn : public sql_conn {
public:
  explicit pg_conn(std::unique_ptr<pqxx::connection> c) : conn_(std::move(c)) {
  }

  ~pg_conn() override {
    rollback();
  }

  error begin(bool) override {
    return guarded("begin", [&] { work_.emplace(*conn_); });
  }

  error commit() override {
    if (!work_)
      return error{errc::io_failed, "postgresql: commit without a transaction"};
    auto err = guarded("commit", [&] { work_->commit(); });
    work_.reset();
    return err;
  }

  void rollback() override {
    if (!work_)
      return;
    try {
      work_->abort();
    } catch (const std::exception&) {
      // Nothing was committed; the connection may be gone, which the next
      // begin reports.
    }
    work_.reset();
  }

  result<std::vector<sql_row>> exec(const std::string& sql,
                                    const std::vector<sql_param>& params) override {
    if (!work_)
      return error{errc::io_failed, "postgresql: a statement outside a transaction"};
    std::vector<std::string> texts;
    texts.reserve(params.size());
    for (const auto& p : params)
      texts.push_back(std::holds_alternative<int64_t>(p) ? std::to_string(std::get<int64_t>(p))
                                                         : std::get<std::string>(p));
    std::vector<sql_row> rows;
    auto err = guarded("exec", [&] {
      auto res = work_->exec_params(sql, pqxx::prepare::make_dynamic_params(texts));
      for (const auto& r : res) {
        sql_row row;
        for (const auto& field : r)
          row.emplace_back(field.is_null() ? "" : field.c_str());
        rows.push_back(std::move(row));
      }
    });
    if (err)
      return err;
    return rows;
  }

  bool retryable() const override {
    return retryable_;
  }

private:
  template <class F>
  error guarded(const char* what, F fn) {
    retryable_ = false;
    try {
      fn();
      return {};
    } catch (const pqxx::transaction_rollback& e) {
      retryable_ = true; // serialization failure, deadlock: try again
      return error{errc::io_failed, std::string{"postgresql: "} + what + ": " + e.what()};
    } catch (const std::exception& e) {
      return error{errc::io_failed, std::string{"postgresql: "} + what + ": " + e.what()};
    }
  }

  std::unique_ptr<pqxx::connection> conn_;
  std::optional<pqxx::work> work_;
  bool retryable_ = false;
};

} // namespace

result<std::unique_ptr<sql_conn>> open_postgresql(const std::string& uri) {
  try {
    auto c = std::make_unique<pqxx::connection>(uri);
    return std::unique_ptr<sql_conn>{std::make_unique<pg_conn>(std::move(c))};
  } catch (const std::exception& e) {
    return error{errc::io_failed, std::string{"postgresql: cannot connect: "} + e.what()};
  }
}

} // namespace p2pd::net::names::detail
