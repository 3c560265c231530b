#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <set>
#include <vector>

#include "p2pd/net/crypto/identity.hpp"

// Rejects messages that are too old, from the future, or seen before, in
// bounded memory, so that no sender can push another sender's messages out.
//
// Each sender has a cache of its own: an accepted message is remembered by
// its id until it expires (from then on any copy is refused as expired
// anyway). When a sender's cache is full, its entry that expires first is
// dropped and that expiry becomes the sender's floor: the sender's messages
// that expire at or before it are refused (too_old). Without the floor a
// flood could push a real message's id out and the message could be replayed
// within its ttl; with it, a flood costs the flooder its own deliveries and
// nobody else's. All caches share one budget of entries as well; over it,
// the sender holding the most entries gives one up, so a genuine burst (a
// few hundred messages in flight, arriving out of order through several
// brokers) fits, and only the largest cache, a flooder's, pays.
//
// The table of senders is bounded too. When it is full the sender seen least
// lately is forgotten, strangers before known peers (those the node marked,
// e.g. because it sent to them), and the latest expiry it had raises the
// floor for every sender not in the table. A flood of minted identities thus
// delays only senders the node has not heard from lately, never its peers.
//
// A message stamped before `not_before_ms` (the node's start) is refused:
// the guard lives in memory, and without this a message captured before a
// restart could be accepted again within its ttl.
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
  too_old,     ///< stamped before the start, or expires no later than a floor
};

/// "accepted", "replayed", ...
const char* to_string(replay_verdict x);

/// Limits of a replay_guard. The defaults match what nodes send (a 60 s ttl,
/// a few messages per peer and second).
struct replay_config {
  /// How far a sender's clock may be ahead of ours.
  uint32_t max_skew_ms = 30'000;
  /// The largest ttl honoured; a larger one counts as this.
  uint32_t max_ttl_ms = 60'000;
  /// The most message ids remembered per sender.
  size_t per_sender = 4096;
  /// The most message ids remembered over all senders (about 100 bytes
  /// each); over it, the sender with the most gives one up.
  size_t max_entries = 65536;
  /// The most senders remembered.
  size_t max_senders = 1024;
  /// Messages stamped before this (Unix ms) are refused as too_old.
  int64_t not_before_ms = INT64_MIN;
};

/// How often each verdict was given, and what the bounds cost.
struct replay_counters {
  uint64_t accepted = 0;
  uint64_t replayed = 0;
  uint64_t expired = 0;
  uint64_t from_future = 0;
  uint64_t too_old = 0;
  uint64_t evicted = 0;         ///< ids dropped for room (each raised its sender's floor)
  uint64_t senders_evicted = 0; ///< senders forgotten for room (each raised the strangers' floor)
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

  /// Marks a sender as a known peer: it is forgotten only when the table
  /// holds no stranger. Known or not, its messages pass the same checks.
  void mark_known(const node_id& sender);

  /// The verdicts given so far.
  const replay_counters& counters() const { return counters_; }

  /// The ids remembered now, over all senders.
  size_t size() const { return entries_; }

  /// The senders remembered now.
  size_t senders() const { return senders_.size(); }

  /// The floor of `sender`: its messages that expire at or before it are
  /// refused. For a sender not in the table, the strangers' floor.
  int64_t floor(const node_id& sender) const;

  /// The floor of senders not in the table (INT64_MIN while none was forgotten).
  int64_t strangers_floor() const { return strangers_floor_; }

  const replay_config& config() const { return cfg_; }

private:
  struct entry {
    int64_t expiry;
    message_id id;
  };
  struct sender_state {
    int64_t floor;
    int64_t last_expiry; ///< the latest expiry it ever had remembered
    bool known = false;
    // An ordered set, not a hash table: ids are chosen by senders, and a
    // tree's O(log n) cannot be turned into O(n) by picking colliding ids.
    std::set<message_id> ids;
    // A min-heap by expiry of the same ids: ids leave only from its top.
    std::vector<entry> by_expiry;
    std::list<node_id>::iterator lru; ///< in strangers_ or known_
  };

  sender_state& touch(const node_id& sender);
  void forget_one_sender();
  // Drops the sender's id that expires first and raises its floor to it.
  void drop_first(sender_state& s);
  // drop_first for room, counted, with the ids the new floor covers.
  void evict_from(sender_state& s);

  replay_config cfg_;
  replay_counters counters_;
  int64_t strangers_floor_;
  size_t entries_ = 0;
  std::map<node_id, sender_state> senders_;
  std::list<node_id> strangers_; ///< least lately seen first
  std::list<node_id> known_;     ///< least lately seen first
};

} // namespace p2pd::net
