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

/// Waits up to `timeout` for a node_progress event on `self` that contains
/// `what`; other messages are skipped.
inline bool progress_seen(caf::scoped_actor& self, const std::string& what,
                          caf::timespan timeout = std::chrono::seconds(5)) {
  auto end = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<caf::timespan>(end - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      return false;
    auto p = next_of<node_progress>(self, left);
    if (!p)
      return false;
    if (p->what.find(what) != std::string::npos)
      return true;
  }
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
