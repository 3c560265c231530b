#pragma once

// Helpers of the signalling node tests: blocking calls on a node from the
// test thread, the test thread as a node's subscriber, and waits bounded by
// timeouts (they wait on messages, never sleep).

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "caf/all.hpp"

#include "p2pd/actors/signal/node/signal_node.hpp"
#include "support/actors.hpp"
#include "support/expect.hpp"

#include "p2pd/messages/errors.hpp"
#include "p2pd/messages/signal_node.hpp"

namespace p2pd::test {

using namespace std::chrono_literals;

/// Calls on signalling nodes from outside actors; each waits at most its
/// timeout. The calling thread's actor can subscribe to nodes and then
/// receives their signal_messages.
class node_calls {
public:
  explicit node_calls(caf::actor_system& sys) : self_(sys) {}

  caf::actor me() { return caf::actor_cast<caf::actor>(self_.ptr()); }
  caf::scoped_actor& self() { return self_; }

  caf::expected<net::message_id> send(const signal_node_actor& node, const net::public_keys& to,
                                      const std::string& text, uint32_t type = 1,
                                      caf::timespan timeout = 10s) {
    caf::expected<net::message_id> out{caf::make_error(caf::sec::request_timeout)};
    self_->request(node, timeout, send_atom::value, to, type, bytes(text.begin(), text.end()))
      .receive([&](net::message_id& id) { out = id; },
               [&](caf::error& err) { out = std::move(err); });
    return out;
  }

  signal_node_info info(const signal_node_actor& node) {
    signal_node_info out;
    self_->request(node, 10s, info_atom::value)
      .receive([&](signal_node_info& i) { out = std::move(i); },
               [&](caf::error& err) { ADD_FAILURE() << "info: " << render(err); });
    return out;
  }

  signal_node_stats stats(const signal_node_actor& node) {
    signal_node_stats out;
    self_->request(node, 10s, stats_atom::value)
      .receive([&](signal_node_stats& s) { out = s; },
               [&](caf::error& err) { ADD_FAILURE() << "stats: " << render(err); });
    return out;
  }

  /// Subscribes this thread's actor to `node`.
  caf::error subscribe(const signal_node_actor& node) {
    return call(node, caf::subscribe_atom::value, me());
  }

  caf::error close(const signal_node_actor& node) {
    return call(node, caf::close_atom::value);
  }

  /// The next signal_message, waiting at most `timeout`.
  std::optional<signal_message> next(caf::timespan timeout = 5s) {
    return test::next<signal_message>(self_, timeout);
  }

  /// Receives until `want` messages came or `timeout` passed; their texts in
  /// the order they came.
  std::vector<std::string> texts(size_t want, caf::timespan timeout = 10s) {
    std::vector<std::string> out;
    if (want > 0)
      receive_until<signal_message>(self_, timeout, [&](signal_message& m) {
        out.push_back(to_string(m.plaintext));
        return out.size() >= want;
      });
    return out;
  }

  /// Waits up to `timeout` until `pred` holds for `node`'s stats. Messages
  /// that arrive meanwhile are not expected: they go to `extra`. Between two
  /// looks at the stats it waits for such a message (at most 20 ms).
  bool wait_stats(const signal_node_actor& node,
                  const std::function<bool(const signal_node_stats&)>& pred,
                  std::vector<signal_message>& extra, caf::timespan timeout = 10s,
                  signal_node_stats* last = nullptr) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto s = stats(node);
      if (last != nullptr)
        *last = s;
      if (pred(s))
        return true;
      if (std::chrono::steady_clock::now() >= deadline)
        return false;
      self_->receive([&](signal_message& m) { extra.push_back(std::move(m)); },
                     caf::after(20ms) >> [] {});
    }
  }

private:
  template <class... Ts>
  caf::error call(const signal_node_actor& node, Ts&&... xs) {
    caf::error out;
    self_->request(node, 10s, std::forward<Ts>(xs)...)
      .receive([](caf::ok_atom) {}, [&](caf::error& err) { out = std::move(err); });
    return out;
  }

  caf::scoped_actor self_;
};

/// How many times each text occurs.
inline std::map<std::string, int> count_texts(const std::vector<std::string>& texts) {
  std::map<std::string, int> out;
  for (auto& t : texts)
    ++out[t];
  return out;
}

} // namespace p2pd::test
