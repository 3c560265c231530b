#pragma once

// A PostgreSQL server of the test's own (tests/support/postgres_fixture.sh):
// initdb in a temporary directory, a free port on 127.0.0.1, stopped when
// the object goes. For the name store's tests, which run the same queries
// on SQLite and on it.

#include <cstdint>
#include <memory>
#include <string>

#include "temp_dir.hpp"

namespace p2pd::test {

class postgres_server {
public:
  /// Starts a server and waits until it accepts connections (pg_ctl -w).
  /// nullptr and `why` when PostgreSQL is not installed (why starts with
  /// "not installed") or does not come up.
  static std::unique_ptr<postgres_server> start(std::string& why);

  ~postgres_server();
  postgres_server(const postgres_server&) = delete;
  postgres_server& operator=(const postgres_server&) = delete;

  uint16_t port() const { return port_; }

  /// A new empty database; its libpq URI, or "" and `why`.
  std::string create_database(std::string& why);

private:
  postgres_server() = default;

  temp_dir dir_{"p2pd-postgres-"};
  uint16_t port_ = 0;
  int next_db_ = 0;
  bool running_ = false;
};

} // namespace p2pd::test
