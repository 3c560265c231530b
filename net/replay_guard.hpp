#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <set>
#include <vector>

#include "p2pd/net/identity.hpp"

// Rejects messages that are too old, from the future, or seen before, in
// bounded memory.
//
// Each accepted message is remembered by (sender, message id) until it
// expires: from then on any copy of it is refused as expired anyway, so
// remembering it longer buys nothing. The ttl is capped, so an entry lives at
// most max_skew + max_ttl.
//
// When the cache is full, the entry that expires first is dropped and its
// expiry becomes the "floor": every message that expires at or before the
// floor is refused from then on (too_old). Without the floor, a flood of fresh
// messages could push a real message's id out of the cache and the message
// could then be replayed while still within its ttl. With it, a flood costs
// short-lived honest messages their delivery (counted as too_old), never
// safety. Entries removed because they expired raise the floor too, which
// keeps the guard safe when the caller's clock steps back.
//
// The guard trusts `timestamp_ms` and `ttl_ms` to be what the sender signed:
// if a relay could change them it could give an old message a new life.
// Check the signature first, or cover the fields with it.

namespace p2pd::net {

/// A message's id, chosen by its sender (16 random bytes).
using message_id = std::array<uint8_t, 16>;

/// What replay_guard::check decided.
enum class replay_verdict : uint8_t {
  accepted,    ///< fresh: pass it on
  replayed,    ///< the same (sender, id) was accepted before and has not expired
  expired,     ///< now > timestamp + ttl
  from_future, ///< timestamp > now + max_skew
  too_old,     ///< expires no later than an entry the full cache had to drop
};

/// "accepted", "replayed", ...
const char* to_string(replay_verdict x);

/// Limits of a replay_guard.
struct replay_config {
  /// How far a sender's clock may be ahead of ours.
  uint32_t max_skew_ms = 30'000;
  /// The largest ttl honoured; a larger one counts as this.
  uint32_t max_ttl_ms = 300'000;
  /// The most (sender, id) pairs remembered. 0 is allowed: then every message
  /// must expire later than every message before it.
  size_t capacity = 65'536;
};

/// How often each verdict was given, and how many entries the full cache
/// dropped.
struct replay_counters {
  uint64_t accepted = 0;
  uint64_t replayed = 0;
  uint64_t expired = 0;
  uint64_t from_future = 0;
  uint64_t too_old = 0;
  uint64_t evicted = 0; ///< entries dropped for room (each raised the floor)
};

/// See the comment at the top of this header. Not thread-safe: one owner
/// (an actor) calls it.
class replay_guard {
public:
  explicit replay_guard(const replay_config& cfg = {});

  /// Decides about a message from `sender` with id `id`, stamped
  /// `timestamp_ms` by the sender and valid for `ttl_ms`, at local time
  /// `now_ms` (both in ms on the same clock, e.g. Unix time; the guard never
  /// reads a clock itself). An accepted message is remembered. Arithmetic
  /// saturates: any int64 values are safe.
  replay_verdict check(const node_id& sender, const message_id& id, int64_t timestamp_ms,
                       uint32_t ttl_ms, int64_t now_ms);

  /// The verdicts given so far.
  const replay_counters& counters() const { return counters_; }

  /// The pairs remembered now (at most capacity).
  size_t size() const { return seen_.size(); }

  /// Messages that expire at or before this time are refused (too_old, or
  /// expired when that applies too). INT64_MIN while nothing was dropped.
  int64_t floor() const { return floor_; }

  const replay_config& config() const { return cfg_; }

private:
  struct key {
    node_id sender;
    message_id id;
    friend bool operator<(const key& x, const key& y) {
      return x.sender != y.sender ? x.sender < y.sender : x.id < y.id;
    }
  };
  struct entry {
    int64_t expiry;
    key k;
  };

  // Drops the entry that expires first and raises the floor to its expiry.
  void drop_first();

  replay_config cfg_;
  replay_counters counters_;
  int64_t floor_;
  // An ordered set, not a hash table: ids are chosen by senders, and a tree's
  // O(log n) cannot be turned into O(n) by picking colliding ids.
  std::set<key> seen_;
  // A min-heap by expiry of the same entries: entries leave only from its top
  // (expired, or dropped for room), so no other removal is needed.
  std::vector<entry> by_expiry_;
};

} // namespace p2pd::net
