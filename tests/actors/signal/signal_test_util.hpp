#pragma once

// Helpers shared by the signalling tests: blocking calls on a channel from
// the test thread, and waiting for messages and conditions with bounded
// timeouts.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "caf/all.hpp"

#include "support/actors.hpp"
#include "support/expect.hpp"

#include "p2pd/messages/errors.hpp"
#include "p2pd/messages/signal.hpp"

namespace p2pd::test {

using namespace std::chrono_literals;

/// Calls on a channel from outside actors; each waits at most `timeout`.
class channel_calls {
public:
  explicit channel_calls(caf::actor_system& sys) : self_(sys) {}

  caf::actor me() { return caf::actor_cast<caf::actor>(self_.ptr()); }
  caf::scoped_actor& self() { return self_; }

  caf::error publish(const signal_channel_actor& ch, const std::string& topic,
                     const std::string& data, caf::timespan timeout = 10s) {
    return call(ch, timeout, caf::publish_atom::value, topic, bytes(data.begin(), data.end()));
  }

  caf::error subscribe(const signal_channel_actor& ch, const std::string& filter,
                       const caf::actor& target, caf::timespan timeout = 10s) {
    return call(ch, timeout, caf::subscribe_atom::value, filter, target);
  }

  caf::error close(const signal_channel_actor& ch, caf::timespan timeout = 10s) {
    return call(ch, timeout, caf::close_atom::value);
  }

  caf::error connect(const signal_channel_actor& ch, caf::timespan timeout = 10s) {
    return call(ch, timeout, caf::connect_atom::value);
  }

  signal_stats stats(const signal_channel_actor& ch) {
    signal_stats out;
    self_->request(ch, 10s, stats_atom::value)
      .receive([&](signal_stats& s) { out = std::move(s); },
               [&](caf::error& err) { ADD_FAILURE() << "stats: " << render(err); });
    return out;
  }

  /// Waits up to `timeout` for `pred` over the channel's stats; the last
  /// stats seen are in `last`.
  bool wait_stats(const signal_channel_actor& ch,
                  const std::function<bool(const signal_stats&)>& pred,
                  caf::timespan timeout = 10s, signal_stats* last = nullptr) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto s = stats(ch);
      if (last != nullptr)
        *last = s;
      if (pred(s))
        return true;
      if (std::chrono::steady_clock::now() >= deadline)
        return false;
      std::this_thread::sleep_for(5ms); // the poll interval of a bounded wait
    }
  }

  /// Like wait_stats, but asks the channel to connect now whenever it is
  /// not connected: for channels whose own reconnect backoff is made too
  /// long to fire during a test.
  bool wait_stats_connecting(const signal_channel_actor& ch,
                             const std::function<bool(const signal_stats&)>& pred,
                             caf::timespan timeout = 10s, signal_stats* last = nullptr) {
    return wait_stats(
      ch,
      [&](const signal_stats& s) {
        if (pred(s))
          return true;
        if (!s.connected)
          connect(ch);
        return false;
      },
      timeout, last);
  }

  /// The next signal_in for this actor, waiting at most `timeout`.
  std::optional<signal_in> next(caf::timespan timeout = 5s) {
    return test::next<signal_in>(self_, timeout);
  }

  /// Receives until `want` distinct payloads came, at most `timeout` in all;
  /// returns the distinct payloads seen.
  std::set<std::string> distinct(size_t want, caf::timespan timeout = 10s) {
    std::set<std::string> seen;
    if (want > 0)
      receive_until<signal_in>(self_, timeout, [&](signal_in& m) {
        seen.insert(to_string(m.data));
        return seen.size() >= want;
      });
    return seen;
  }

private:
  template <class... Ts>
  caf::error call(const signal_channel_actor& ch, caf::timespan timeout, Ts&&... xs) {
    caf::error out;
    self_->request(ch, timeout, std::forward<Ts>(xs)...)
      .receive([](caf::ok_atom) {}, [&](caf::error& err) { out = std::move(err); });
    return out;
  }

  caf::scoped_actor self_;
};

/// Every channel publishes "<from>><to>" to every other one's topic, and each
/// must receive exactly what was meant for it: `ch[i]` is `names[i]`'s
/// channel, `in[i]` subscribed to it on `topic(names[i])`.
template <class Topic>
void expect_all_reach_each_other(std::vector<std::unique_ptr<channel_calls>>& in,
                                 const std::vector<signal_channel_actor>& ch,
                                 const std::vector<std::string>& names, Topic topic) {
  for (size_t i = 0; i < names.size(); ++i)
    for (size_t j = 0; j < names.size(); ++j)
      if (i != j)
        EXPECT_OK(in[i]->publish(ch[i], topic(names[j]), names[i] + ">" + names[j]));
  for (size_t j = 0; j < names.size(); ++j) {
    std::set<std::string> want;
    for (size_t i = 0; i < names.size(); ++i)
      if (i != j)
        want.insert(names[i] + ">" + names[j]);
    EXPECT_EQ(in[j]->distinct(want.size()), want) << "at " << names[j];
  }
}

} // namespace p2pd::test
