#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "p2pd/net/crypto/identity.hpp"
#include "p2pd/net/error.hpp"
#include "p2pd/net/util/digits.hpp"

// A record of the name service (issue 16): a name, the value it stands for
// (a peer address, or small bytes), and who owns it, signed by the owner's
// Ed25519 key. Servers store and hand out records but cannot forge them: a
// client checks every signature itself, so a lying server can only hide a
// record or hand out an older one, never make one up.

namespace p2pd::net::names {

/// The limits of a record (the rules of names_rules.hpp check them).
inline constexpr size_t max_name = 253;       ///< DNS's limit on a whole name
inline constexpr size_t max_label = 63;       ///< DNS's limit on one label
inline constexpr size_t max_value = 1024;     ///< a peer address is a few hundred bytes
inline constexpr uint32_t min_expiry_s = 60;
inline constexpr uint32_t max_expiry_s = 30 * 24 * 3600;

using owner_key = std::array<uint8_t, 32>;
using signature = std::array<uint8_t, 64>;

/// One signed name record. A record with `deleted` set is the owner's
/// signed deletion (a tombstone): it frees the name, and because its version
/// is above every earlier record's, no earlier record can be replayed.
struct name_record {
  std::string name;
  std::vector<uint8_t> value;
  owner_key owner{};
  /// Grows with every change the owner makes; a server refuses a record
  /// whose version is not above the one it holds.
  uint64_t version = 0;
  /// Unix seconds when the owner signed it.
  int64_t time = 0;
  /// Seconds after `time` that the record lives.
  uint32_t expiry = 0;
  bool deleted = false;
  names::signature sig{};

  /// Unix seconds at which the record expires.
  int64_t expires_at() const { return time + static_cast<int64_t>(expiry); }

  friend bool operator==(const name_record& x, const name_record& y) {
    return x.name == y.name && x.value == y.value && x.owner == y.owner && x.version == y.version
           && x.time == y.time && x.expiry == y.expiry && x.deleted == y.deleted && x.sig == y.sig;
  }
  friend bool operator!=(const name_record& x, const name_record& y) { return !(x == y); }
};

/// The bytes the signature covers (under sign_purpose::name_record, whose
/// context string "p2pd/name-record/v1" separates it from every other
/// signature of the identity): each field in a fixed order, variable ones
/// behind their length, so that no two records share an encoding. Not the
/// protobuf bytes: those are not canonical, and a server re-encodes records.
std::vector<uint8_t> signed_bytes(const name_record& r);

/// A record for `name` -> `value` owned by `me`, signed.
name_record make_record(const identity& me, std::string name, std::vector<uint8_t> value,
                        uint64_t version, int64_t time, uint32_t expiry, bool deleted = false);

/// Signs `r` in place with `me`, whose key becomes the owner.
void sign_record(name_record& r, const identity& me);

/// Whether the signature is the owner's over signed_bytes(r).
bool verify_record(const name_record& r);

/// The lowercase hex of `bytes`: keys in messages and in the database
/// (net/util/digits.hpp's).
using net::to_hex;
/// Parses lowercase or uppercase hex; errc::malformed otherwise.
result<std::vector<uint8_t>> from_hex(std::string_view text);

} // namespace p2pd::net::names
