// The name store over any sql_conn: one schema and one set of queries for
// SQLite and PostgreSQL. Byte fields are kept as lowercase hex TEXT, which
// both databases store and compare alike (BLOB and BYTEA differ).
#include <limits>
#include <mutex>

#include "p2pd/net/names/name_store.hpp"
#include "p2pd/net/names/store/sql_conn.hpp"

namespace p2pd::net::names {

namespace {

using detail::sql_param;
using detail::sql_row;

// binds_until: until when the row binds its name (name_rules: binds()),
// written with the row so that purge is one indexed DELETE.
const char* const schema[] = {
  "CREATE TABLE IF NOT EXISTS p2pd_names ("
  " name TEXT PRIMARY KEY,"
  " value TEXT NOT NULL,"
  " owner TEXT NOT NULL,"
  " version BIGINT NOT NULL,"
  " time BIGINT NOT NULL,"
  " expiry BIGINT NOT NULL,"
  " deleted INTEGER NOT NULL,"
  " sig TEXT NOT NULL,"
  " expires_at BIGINT NOT NULL,"
  " binds_until BIGINT NOT NULL)",
  "CREATE INDEX IF NOT EXISTS p2pd_names_owner ON p2pd_names (owner, expires_at)",
  "CREATE INDEX IF NOT EXISTS p2pd_names_binds ON p2pd_names (binds_until)",
  // One row per key that ever put: the lock that serializes a key's puts
  // (lock_owner).
  "CREATE TABLE IF NOT EXISTS p2pd_name_owners (owner TEXT PRIMARY KEY)",
};

const std::string columns = "name, value, owner, version, time, expiry, deleted, sig";

const std::string select_one = "SELECT " + columns + " FROM p2pd_names WHERE name = $1";

// With the end of the row's binding, for a lookup to serve a tombstone
// while it binds.
const std::string select_binding =
  "SELECT " + columns + ", binds_until FROM p2pd_names WHERE name = $1";

const std::string count_owner =
  "SELECT COUNT(*) FROM p2pd_names"
  " WHERE owner = $1 AND name <> $2 AND deleted = 0 AND expires_at > $3";

// A new name: a racing insert of the same name makes this one return no
// row, and the put decides again with the winner's row.
const std::string insert_new =
  "INSERT INTO p2pd_names (" + columns + ", expires_at, binds_until)"
  " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
  " ON CONFLICT (name) DO NOTHING RETURNING name";

// A compare-and-set on the row decided upon ($11, $12: its owner and
// version): a racing writer's change makes it return no row.
const std::string replace_held =
  "UPDATE p2pd_names SET value = $2, owner = $3, version = $4, time = $5, expiry = $6,"
  " deleted = $7, sig = $8, expires_at = $9, binds_until = $10"
  " WHERE name = $1 AND owner = $11 AND version = $12 RETURNING name";

// Takes the key's row lock until the transaction ends (a write lock on an
// existing row, or the insert's on a new one): a second put of the key
// waits here, then counts the first one's names. Without it, two new names
// of one key on PostgreSQL (READ COMMITTED) each counted the other's
// uncommitted insert as absent and both passed the cap. SQLite's BEGIN
// IMMEDIATE serializes every writer anyway.
const std::string lock_owner =
  "INSERT INTO p2pd_name_owners (owner) VALUES ($1)"
  " ON CONFLICT (owner) DO UPDATE SET owner = excluded.owner";

// Keys that hold no row any more.
const std::string purge_owners =
  "DELETE FROM p2pd_name_owners WHERE owner NOT IN (SELECT owner FROM p2pd_names)";

const std::string purge_rows = "DELETE FROM p2pd_names WHERE binds_until < $1 RETURNING name";

error io(const std::string& what) {
  return error{errc::io_failed, what};
}

result<int64_t> to_int(const std::string& text) {
  try {
    size_t used = 0;
    auto v = std::stoll(text, &used);
    if (used == text.size())
      return static_cast<int64_t>(v);
  } catch (const std::exception&) {
  }
  return io("a stored number '" + text + "' does not parse");
}

template <size_t N>
error to_array(const std::string& hex, std::array<uint8_t, N>& out) {
  auto bytes = from_hex(hex);
  if (!bytes || bytes->size() != N)
    return io("a stored key or signature is not " + std::to_string(N) + " bytes of hex");
  std::copy(bytes->begin(), bytes->end(), out.begin());
  return {};
}

// The first 8 columns of `row` (columns), as a record.
result<name_record> to_record(const sql_row& row) {
  if (row.size() < 8)
    return io("a stored row of " + std::to_string(row.size()) + " columns");
  name_record r;
  r.name = row[0];
  auto value = from_hex(row[1]);
  if (!value)
    return io("a stored value is not hex");
  r.value = std::move(*value);
  if (auto err = to_array(row[2], r.owner))
    return err;
  auto version = to_int(row[3]);
  auto time = to_int(row[4]);
  auto expiry = to_int(row[5]);
  auto deleted = to_int(row[6]);
  if (!version || !time || !expiry || !deleted)
    return io("a stored row with a number that does not parse");
  r.version = static_cast<uint64_t>(*version);
  r.time = *time;
  r.expiry = static_cast<uint32_t>(*expiry);
  r.deleted = *deleted != 0;
  if (auto err = to_array(row[7], r.sig))
    return err;
  return r;
}

std::vector<sql_param> row_params(const name_record& r, const rules_config& cfg) {
  int64_t binds_until = r.deleted ? tombstone_until(r, cfg) : r.expires_at();
  return {r.name,
          to_hex(r.value.data(), r.value.size()),
          to_hex(r.owner.data(), r.owner.size()),
          static_cast<int64_t>(r.version),
          r.time,
          static_cast<int64_t>(r.expiry),
          int64_t{r.deleted ? 1 : 0},
          to_hex(r.sig.data(), r.sig.size()),
          r.expires_at(),
          binds_until};
}

class sql_store : public name_store {
public:
  explicit sql_store(std::unique_ptr<detail::sql_conn> conn) : conn_(std::move(conn)) {
  }

  error init() {
    std::lock_guard<std::mutex> guard{mtx_};
    if (auto err = conn_->begin(true))
      return err;
    for (const char* stmt : schema)
      if (auto rows = conn_->exec(stmt, {}); !rows) {
        conn_->rollback();
        return rows.error();
      }
    return conn_->commit();
  }

  result<verdict> put(const name_record& r, int64_t now, const rules_config& cfg) override {
    // Stored as BIGINT: a version beyond it could not be compared there.
    if (r.version > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return verdict{status::invalid, "a version above 2^63 - 1"};
    std::lock_guard<std::mutex> guard{mtx_};
    // A retry follows a racing writer's commit (another server on the same
    // database): deciding again sees its row. Bounded: each retry means
    // someone else made progress.
    for (int attempt = 0; attempt < 8; ++attempt) {
      auto got = put_once(r, now, cfg);
      if (!got) {
        if (conn_->retryable())
          continue;
        return got.error();
      }
      if (got->has_value())
        return std::move(**got);
      // Raced: the row changed between our read and our write.
    }
    return io("put of '" + r.name + "' lost 8 races in a row");
  }

  result<std::optional<name_record>> lookup(const std::string& name, int64_t now) override {
    std::lock_guard<std::mutex> guard{mtx_};
    if (auto err = conn_->begin(false))
      return err;
    auto rows = conn_->exec(select_binding, {name});
    conn_->rollback(); // read only: nothing to commit
    if (!rows)
      return rows.error();
    if (rows->empty())
      return std::optional<name_record>{};
    const auto& row = rows->front();
    auto r = to_record(row);
    if (!r)
      return r.error();
    auto binds_until = row.size() > 8 ? to_int(row[8]) : result<int64_t>{0};
    if (!binds_until)
      return binds_until.error();
    bool served = r->deleted ? now <= *binds_until : is_live(*r, now);
    if (!served)
      return std::optional<name_record>{};
    return std::optional<name_record>{std::move(*r)};
  }

  result<size_t> purge(int64_t now) override {
    std::lock_guard<std::mutex> guard{mtx_};
    if (auto err = conn_->begin(true))
      return err;
    auto rows = conn_->exec(purge_rows, {now});
    if (!rows) {
      conn_->rollback();
      return rows.error();
    }
    if (auto err = conn_->commit())
      return err;
    // The keys' lock rows in a transaction of their own: a put takes its
    // key's lock row, then the name row; one transaction deleting name rows
    // and then lock rows took them the other way round, and PostgreSQL
    // aborted one of the two as a deadlock. (A lock row deleted just as its
    // key gains a name is harmless: the next put inserts it again.)
    if (auto err = conn_->begin(true))
      return err;
    if (auto owners = conn_->exec(purge_owners, {}); !owners) {
      conn_->rollback();
      return owners.error();
    }
    if (auto err = conn_->commit())
      return err;
    return rows->size();
  }

private:
  // One transaction: read, decide, write. An empty optional: a racing
  // writer changed the row between our read and our write; try again.
  result<std::optional<verdict>> put_once(const name_record& r, int64_t now,
                                          const rules_config& cfg) {
    if (auto err = conn_->begin(true))
      return err;
    auto fail = [&](error err) -> result<std::optional<verdict>> {
      conn_->rollback();
      return err;
    };
    auto owner_hex = to_hex(r.owner.data(), r.owner.size());
    if (auto locked = conn_->exec(lock_owner, {owner_hex}); !locked)
      return fail(locked.error());
    auto rows = conn_->exec(select_one, {r.name});
    if (!rows)
      return fail(rows.error());
    std::optional<name_record> held;
    if (!rows->empty()) {
      auto h = to_record(rows->front());
      if (!h)
        return fail(h.error());
      held = std::move(*h);
    }
    auto count = conn_->exec(count_owner, {owner_hex, r.name, now});
    if (!count)
      return fail(count.error());
    auto n = count->empty() || count->front().empty() ? result<int64_t>{0}
                                                      : to_int(count->front().front());
    if (!n)
      return fail(n.error());
    auto v = decide_put(held, r, static_cast<size_t>(*n), now, cfg);
    if (!v.ok()) {
      conn_->rollback();
      return std::optional<verdict>{std::move(v)};
    }
    auto params = row_params(r, cfg);
    if (held) {
      params.emplace_back(to_hex(held->owner.data(), held->owner.size()));
      params.emplace_back(static_cast<int64_t>(held->version));
    }
    auto written = conn_->exec(held ? replace_held : insert_new, params);
    if (!written)
      return fail(written.error());
    if (written->empty()) {
      conn_->rollback();
      return std::optional<verdict>{};
    }
    if (auto err = conn_->commit())
      return err;
    return std::optional<verdict>{std::move(v)};
  }

  std::mutex mtx_;
  std::unique_ptr<detail::sql_conn> conn_;
};

} // namespace

result<std::unique_ptr<name_store>> open_store(const std::string& url) {
  result<std::unique_ptr<detail::sql_conn>> conn = error{};
  if (url.rfind("sqlite:", 0) == 0)
    conn = detail::open_sqlite(url.substr(7));
  else if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0)
    conn = detail::open_postgresql(url);
  else
    return error{errc::invalid_argument,
                 "a name store '" + url + "': give sqlite:PATH or postgresql://..."};
  if (!conn)
    return conn.error();
  auto store = std::make_unique<sql_store>(std::move(*conn));
  if (auto err = store->init())
    return err;
  return std::unique_ptr<name_store>{std::move(store)};
}

} // namespace p2pd::net::names
