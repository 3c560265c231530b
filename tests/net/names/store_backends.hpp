#pragma once

// The name store's back ends for the suites that run on both: SQLite in a
// temporary directory, and a PostgreSQL server shared by every test of the
// binary (started on first use, stopped at exit), a database per test.

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "support/child_process.hpp"
#include "support/postgres_fixture.hpp"
#include "support/temp_dir.hpp"

namespace p2pd::test {

/// The shared PostgreSQL server, or nullptr and why.
inline postgres_server* shared_postgres(std::string& why) {
  static std::string start_error;
  static std::unique_ptr<postgres_server> server = postgres_server::start(start_error);
  why = start_error;
  return server.get();
}

/// A fresh store URL of `backend` ("sqlite" or "postgresql"); "" and a
/// skip or failure reason otherwise.
inline std::string fresh_store_url(const std::string& backend, const temp_dir& dir,
                                   std::string& why, bool& skip) {
  skip = false;
  if (backend == "sqlite")
    return "sqlite:" + dir.path() + "/names.db";
  auto* pg = shared_postgres(why);
  if (pg == nullptr) {
    skip = not_installed(why);
    return "";
  }
  return pg->create_database(why);
}

/// Gets a fresh URL into `url` or ends the test (skipped where PostgreSQL is
/// not installed, failed where it does not come up).
#define P2PD_FRESH_STORE_URL(url, backend, dir)                                                   \
  do {                                                                                             \
    std::string why_;                                                                              \
    bool skip_ = false;                                                                            \
    url = ::p2pd::test::fresh_store_url(backend, dir, why_, skip_);                                \
    if (skip_)                                                                                     \
      GTEST_SKIP() << why_;                                                                        \
    ASSERT_FALSE(url.empty()) << why_;                                                             \
  } while (false)

} // namespace p2pd::test
