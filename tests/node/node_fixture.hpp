#pragma once

#include <dirent.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "caf/scoped_actor.hpp"

#include "p2pd/actors/signal/hub/signal_hub.hpp"
#include "p2pd/api/node.hpp"

#include "support/expect.hpp"
#include "support/values.hpp"

namespace p2pd::test {

/// Nodes on loopback in one process, signalling through one in-process hub:
/// each gets its own identity (no key files) and the loopback interface.
class node_fixture : public ::testing::Test {
protected:
  node_spec spec_for() {
    node_spec spec;
    spec.identity = std::make_shared<const net::identity>(make_identity());
    spec.interfaces = {"lo"};
    spec.hub = hub;
    spec.port = 0;
    spec.direct_budget = std::chrono::seconds(2);
    spec.reverse_budget = std::chrono::seconds(3);
    return spec;
  }

  node_handle start(node_spec spec) {
    auto n = rt.start_node(std::move(spec));
    EXPECT_OK(n);
    if (!n)
      throw std::runtime_error("node did not start");
    return std::move(*n);
  }

  node_handle start() { return start(spec_for()); }

  /// A node whose events (progress, peers, refusals, messages) go to `sub`
  /// from its start.
  node_handle start_watched(caf::scoped_actor& sub, node_spec spec) {
    spec.subscribers.push_back(caf::actor_cast<caf::actor>(sub.ptr()));
    return start(std::move(spec));
  }
  node_handle start_watched(caf::scoped_actor& sub) { return start_watched(sub, spec_for()); }

  runtime rt;
  signal_hub_actor hub = spawn_signal_hub(rt.system());
};

/// Waits up to `timeout` for a message of type T on `self`.
template <class T>
std::optional<T> next_of(caf::scoped_actor& self, caf::timespan timeout = std::chrono::seconds(5)) {
  std::optional<T> out;
  bool more = true;
  while (more && !out)
    self->receive([&](T& x) { out = std::move(x); }, [](caf::message&) {},
                  caf::after(timeout) >> [&] { more = false; });
  return out;
}

/// Waits up to `timeout` for a T on `self` for which `pred` holds; other
/// messages are skipped.
template <class T, class Pred>
std::optional<T> next_where(caf::scoped_actor& self, Pred pred,
                            caf::timespan timeout = std::chrono::seconds(5)) {
  auto end = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<caf::timespan>(end - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      return std::nullopt;
    auto x = next_of<T>(self, left);
    if (!x || pred(*x))
      return x;
  }
}

/// The next refusal of kind `what` ("hello", "request", ...) on `self`.
inline std::optional<node_refused> next_refused(caf::scoped_actor& self, const std::string& what,
                                                caf::timespan timeout = std::chrono::seconds(5)) {
  return next_where<node_refused>(self, [&](const node_refused& r) { return r.what == what; },
                                  timeout);
}

/// Whether `n` messages of type T come to `self` within `timeout`.
template <class T>
bool seen_times(caf::scoped_actor& self, size_t n, caf::timespan timeout = std::chrono::seconds(5)) {
  size_t count = 0;
  auto got = next_where<T>(self, [&](const T&) { return ++count == n; }, timeout);
  return n == 0 || got.has_value();
}

/// Waits up to `timeout` for a node_progress event on `self` that contains
/// `what`; other messages are skipped.
inline bool progress_seen(caf::scoped_actor& self, const std::string& what,
                          caf::timespan timeout = std::chrono::seconds(5)) {
  return next_where<node_progress>(
           self, [&](const node_progress& p) { return p.what.find(what) != std::string::npos; },
           timeout)
    .has_value();
}

} // namespace p2pd::test

namespace p2pd::test {

/// Open descriptors of this process.
inline size_t open_fds() {
  size_t n = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (::readdir(d) != nullptr)
      ++n;
    ::closedir(d);
  }
  return n;
}

/// Threads of this process.
inline size_t threads() {
  size_t n = 0;
  if (DIR* d = ::opendir("/proc/self/task")) {
    while (auto* e = ::readdir(d))
      if (e->d_name[0] != '.')
        ++n;
    ::closedir(d);
  }
  return n;
}

/// Polls `cond` every 20 ms for at most `limit`; whether it became true.
/// Only for what no event tells: the process's descriptors and actors,
/// which CAF's threads release after the actors have answered their close.
/// Whatever a node does is waited for by its events (next_where).
template <class F>
bool eventually(F cond, std::chrono::milliseconds limit = std::chrono::seconds(5)) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > end)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

} // namespace p2pd::test
