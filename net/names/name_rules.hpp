#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "p2pd/net/error.hpp"
#include "p2pd/net/names/name_record.hpp"

// The name service's rules, apart from any I/O: the server and both storage
// back ends decide with these, so that SQLite and PostgreSQL agree.

namespace p2pd::net::names {

/// What a server answers; also the codec's wire enum (proto/names.proto).
enum class status : uint8_t {
  ok = 1,
  not_found,           ///< no live record of that name
  taken,               ///< another key holds the name (first come, first served)
  stale_version,       ///< the version is not above the held one (an old record replayed)
  stale_time,          ///< the record's time is too far from the server's clock
  forged,              ///< the signature does not check with the record's owner key
  invalid,             ///< a name, value or expiry outside the rules
  too_many_names,      ///< the key holds as many names as a key may
  rate_limited,        ///< the address or key sent too much
  busy,                ///< the server's queue of database calls is full
  internal,            ///< the database failed
  malformed,           ///< the request did not decode
  unsupported_version, ///< the request needs a newer protocol
};

/// The status's name, e.g. "taken".
const char* to_string(status s);

/// A decision and why.
struct verdict {
  names::status code = status::ok;
  std::string why;
  bool ok() const { return code == status::ok; }
};

/// What a server enforces beyond the fixed limits of name_record.hpp.
struct rules_config {
  /// Names one key may hold at once.
  uint32_t max_names_per_key = 16;
  /// How far a record's time may be from the server's clock. Bounds how
  /// long a record can be replayed at all: a deletion's tombstone is kept at
  /// least that long, after which any record signed before it is stale.
  int64_t max_skew_s = 300;
};

/// Checks a name: labels of lowercase a-z, 0-9 and '-' (not at a label's
/// ends), 1..63 characters each, separated by '.', at most 253 in all. One
/// spelling per name: no upper case, so that "Alice" cannot pose as "alice".
/// Errors: errc::invalid_argument saying what is wrong.
error check_name(std::string_view name);

/// Checks a record on its own: its name, value size, expiry bounds, time
/// against `now` (Unix seconds) and its signature.
verdict check_record(const name_record& r, int64_t now, const rules_config& cfg);

/// The last second (Unix, inclusive) at which tombstone `t` binds its name
/// and is served to lookups: max_skew_s after it was signed (until then a
/// record signed before it could be replayed), and at least until its own
/// expiry, which its owner signs as long as its records live (the node and
/// the CLI do): so a server that missed the deletion cannot bring back an
/// older record while that record lives, because another server still
/// serves the tombstone that outranks it.
int64_t tombstone_until(const name_record& t, const rules_config& cfg);

/// Whether `held` still binds its name at `now`: a live record until it
/// expires, a tombstone until tombstone_until().
bool binds(const name_record& held, int64_t now, const rules_config& cfg);

/// Whether `held` is a record a lookup returns at `now`.
bool is_live(const name_record& held, int64_t now);

/// Decides a put (or a deletion, `incoming.deleted`) of a record that passed
/// check_record, given what the store holds for its name and how many live
/// names its owner holds (this name excluded). Storage calls it inside the
/// transaction that writes, so that racing puts see each other.
verdict decide_put(const std::optional<name_record>& held, const name_record& incoming,
                   size_t other_names_of_owner, int64_t now, const rules_config& cfg);

} // namespace p2pd::net::names
