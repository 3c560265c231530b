#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>

#include "p2pd/net/crypto/identity.hpp"
#include "p2pd/net/crypto/replay_guard.hpp"

namespace p2pd::actors {

/// The messages a node delivered lately, by (sender, message id), to tell a
/// redundant copy (another broker's, a resend) from a replay: the replay
/// guard refuses both alike. CAF-free, bounded: at most `capacity` entries,
/// each forgotten `window_ms` after its delivery or when room is needed
/// (oldest first). Not thread-safe: one owner (the node) calls it.
class delivered_ids {
public:
  delivered_ids(size_t capacity, int64_t window_ms);

  /// Remembers that (sender, id) was delivered at `now_ms`.
  void add(const net::node_id& sender, const net::message_id& id, int64_t now_ms);

  /// Whether (sender, id) was delivered at most window_ms before `now_ms`.
  bool recent(const net::node_id& sender, const net::message_id& id, int64_t now_ms) const;

  size_t size() const { return at_.size(); }

private:
  struct key {
    net::node_id sender;
    net::message_id id;
    friend bool operator<(const key& x, const key& y) {
      return x.sender != y.sender ? x.sender < y.sender : x.id < y.id;
    }
  };

  void prune(int64_t now_ms);

  size_t capacity_;
  int64_t window_ms_;
  // A tree, not a hash table: ids are chosen by senders (see replay_guard).
  std::map<key, int64_t> at_;
  // Insertion order, for forgetting the oldest first.
  std::deque<key> order_;
};

} // namespace p2pd::actors
