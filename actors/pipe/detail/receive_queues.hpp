#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <unordered_map>

#include "caf/error.hpp"
#include "caf/expected.hpp"
#include "caf/response_promise.hpp"

#include "p2pd/messages/pipe.hpp"

namespace re2 {
class RE2;
} // namespace re2

namespace p2pd::actors {

/// A pipe's receive queues (the seed's subscriptions with recv): each holds
/// the messages that match its filter, up to a bound, and the recv requests
/// waiting for one. Requests are answered through their response promises.
class receive_queues {
public:
  explicit receive_queues(size_t max_qsize) : max_qsize_(max_qsize == 0 ? 1 : max_qsize) {}

  /// The id of the queue with an equal filter, created if there is none. The
  /// first "any" queue is the default queue; a queue created later starts
  /// with the matching messages the default queue holds. Errors: the
  /// filter's expression does not compile (errc::invalid_argument).
  caf::expected<uint64_t> find_or_add(const msg_filter& f);
  /// A queue of its own that no other request shares (ask); it goes away
  /// once its request is answered or expires. Errors as find_or_add.
  caf::expected<uint64_t> add_private(const msg_filter& f);
  bool contains(uint64_t id) const { return queues_.count(id) > 0; }
  /// Removes a queue; its waiting requests fail with `reason`.
  bool remove(uint64_t id, const caf::error& reason);

  /// Offers a message to every matching queue; true if one matched. Counts
  /// what full queues push out in `dropped`.
  bool push(const char* data, size_t size, const endpoint& from, const pipe_actor& pipe,
            uint64_t& dropped);

  /// Answers `rp` with the queue's oldest message if there is one (returns
  /// 0); otherwise parks it and returns a waiter id for its timeout.
  uint64_t recv(uint64_t queue, caf::response_promise rp);

  /// A parked request ran out of time: answers it with `reason` unless a
  /// message came first. Returns false if it was answered already.
  bool expire(uint64_t queue, uint64_t waiter, const caf::error& reason);

  /// True if that request is still waiting.
  bool waiting(uint64_t queue, uint64_t waiter) const;

  /// Fails every waiting request (the pipe closed); queued messages stay.
  void fail_all(const caf::error& reason);

  /// True if no queue has a request waiting.
  bool idle() const;

private:
  struct waiter {
    uint64_t id;
    caf::response_promise rp;
  };
  struct queue {
    msg_filter filter;
    std::shared_ptr<const re2::RE2> re; ///< filter.expr compiled; null when empty

    bool matches(const char* data, size_t size, const endpoint& from) const;
    std::deque<pipe_msg> msgs;
    std::deque<waiter> waiters;
    bool shared = true;
  };

  size_t max_qsize_;
  uint64_t next_id_ = 1;
  uint64_t default_id_ = 0;
  std::unordered_map<uint64_t, queue> queues_;
};

} // namespace p2pd::actors
