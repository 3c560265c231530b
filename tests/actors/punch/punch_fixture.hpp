#pragma once

// Punches for tests: two sides' session keys, sockets bound by the test
// (in this namespace or another one) that the punch adopts through a test
// stack, and the side of a punch a test plays: an owner that opens it and
// gets its events.

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "caf/scoped_actor.hpp"

#include "p2pd/actors/punch/udp_punch.hpp"
#include "p2pd/net/crypto/session_key.hpp"
#include "p2pd/net/punch/datagram_seal.hpp"
#include "p2pd/p2pd.hpp"

#include "node/node_fixture.hpp" // open_fds, eventually
#include "support/actors.hpp"
#include "support/expect.hpp"
#include "support/sockets.hpp"
#include "support/test_stack.hpp"
#include "support/values.hpp"

namespace p2pd::test {

using namespace std::chrono_literals;

/// The keys of both sides of one punch, derived as the node derives them.
struct punch_keys {
  net::session_keys initiator;
  net::session_keys responder;
};

inline punch_keys make_punch_keys(uint64_t request = 1) {
  auto a = net::ephemeral_key::generate();
  auto b = net::ephemeral_key::generate();
  if (!a || !b)
    throw std::runtime_error{"ephemeral_key::generate failed"};
  std::array<uint8_t, 20> ida{};
  std::array<uint8_t, 20> idb{};
  ida[0] = 1;
  idb[0] = 2;
  auto ka = net::derive_session(*a, b->pub(), ida, idb, request, true);
  auto kb = net::derive_session(*b, a->pub(), ida, idb, request, false);
  if (!ka || !kb)
    throw std::runtime_error{"derive_session failed"};
  return {*ka, *kb};
}

/// A stack whose UDP pipes adopt sockets the test bound beforehand: a pipe
/// asked to bind an endpoint of `adopt` gets that socket instead (once).
/// So the test knows every port before the punch starts, and may bind them
/// in other network namespaces (a socket keeps the namespace it was made
/// in).
class adopting_stack {
public:
  adopting_stack() {
    test_stack::config cfg;
    cfg.rewrite = [fds = fds_](pipe_spec& spec) {
      if (!spec.local)
        return;
      std::lock_guard<std::mutex> guard{fds->mtx};
      auto i = fds->by_local.find(*spec.local);
      if (i == fds->by_local.end())
        return;
      spec.adopt_fd = i->second.release();
      fds->by_local.erase(i);
    };
    stack_ = std::make_shared<test_stack>(std::move(cfg));
  }

  /// Binds a UDP socket to `local` here (port 0: a free one) and returns
  /// where it is bound.
  endpoint bind(const endpoint& local) {
    return add(raw_udp(local));
  }

  /// Takes a bound socket (made elsewhere, e.g. in another namespace);
  /// returns where it is bound.
  endpoint add(net::unique_fd fd) {
    auto ep = net::local_endpoint(fd.get());
    EXPECT_TRUE(static_cast<bool>(ep)) << "not a bound socket";
    if (!ep)
      return {};
    std::lock_guard<std::mutex> guard{fds_->mtx};
    fds_->by_local[*ep] = std::move(fd);
    return *ep;
  }

  /// Sockets not adopted (yet).
  size_t unclaimed() const {
    std::lock_guard<std::mutex> guard{fds_->mtx};
    return fds_->by_local.size();
  }

  stack_ptr stack() const { return stack_; }
  const test_stack& counters() const { return *stack_; }

private:
  struct table {
    mutable std::mutex mtx;
    std::map<endpoint, net::unique_fd> by_local;
  };
  std::shared_ptr<table> fds_ = std::make_shared<table>();
  std::shared_ptr<test_stack> stack_;
};

/// A punch spec with test timing: rounds every 20 ms, a window of 2 s.
inline udp_punch_spec punch_spec(const stack_ptr& stack, std::vector<endpoint> local,
                                 std::vector<endpoint> targets, const net::session_keys& keys,
                                 bool controlling) {
  udp_punch_spec s;
  s.stack = stack;
  s.local = std::move(local);
  s.targets = std::move(targets);
  s.keys = keys;
  s.controlling = controlling;
  s.interval = 20ms;
  s.window = 2s;
  return s;
}

/// One side of a punch as a test plays it: its scoped actor owns the punch
/// (it opens it) and gets every event.
struct punch_side {
  caf::scoped_actor self;
  pipe_actor pipe;

  punch_side(caf::actor_system& sys, udp_punch_spec spec) : self(sys) {
    spec.subscribers.push_back({as_actor(self), events::all});
    pipe = spawn_udp_punch(sys, std::move(spec));
  }

  /// Requests the open; receive it with `opened()`.
  void open() { pending_ = self->request(pipe, 10s, caf::open_atom::value); }

  /// The answer to open().
  caf::expected<pipe_info> opened() {
    caf::expected<pipe_info> out{make_error(errc::io_failed, "no answer to open")};
    std::move(*pending_).receive([&](pipe_info& x) { out = std::move(x); },
                                 [&](caf::error& e) { out = std::move(e); });
    pending_.reset();
    return out;
  }

  /// A request and its answer (or the error).
  template <class T, class... Ts>
  caf::expected<T> ask(Ts&&... xs) {
    caf::expected<T> out{make_error(errc::io_failed, "no answer")};
    self->request(pipe, 5s, std::forward<Ts>(xs)...)
      .receive([&](T& x) { out = std::move(x); }, [&](caf::error& e) { out = std::move(e); });
    return out;
  }

  /// A requested send: none, or why it was refused.
  caf::error send(const std::string& text) {
    caf::error out;
    self->request(pipe, 5s, send_atom::value, to_bytes(text))
      .receive([] {}, [&](caf::error& e) { out = std::move(e); });
    return out;
  }

  pipe_stats stats() {
    auto s = ask<pipe_stats>(stats_atom::value);
    EXPECT_TRUE(static_cast<bool>(s));
    return s ? *s : pipe_stats{};
  }

  /// The next data message, within `t`.
  std::optional<pipe_msg> next_msg(caf::timespan t = 5s) { return next<pipe_msg>(self, t); }
  std::optional<pipe_end> next_end(caf::timespan t = 5s) { return next<pipe_end>(self, t); }

private:
  using handle = decltype(std::declval<caf::scoped_actor&>()->request(
    std::declval<pipe_actor&>(), caf::timespan{}, caf::open_atom::value));
  std::optional<handle> pending_;
};

/// The set-up of the loopback suites: a runtime, the descriptors open
/// before the test binds any, the adopting stack, and keys.
class punch_test : public ::testing::Test {
protected:
  runtime rt;
  size_t fds_before = open_fds();
  adopting_stack stack;
  punch_keys keys = make_punch_keys();

  /// Every descriptor the test made is gone again (CAF's threads release
  /// them after the pipes answered their close: polled, bounded).
  void expect_no_fds_left() {
    EXPECT_TRUE(eventually([&] { return open_fds() <= fds_before; }))
      << open_fds() << " descriptors open, " << fds_before << " before";
  }
};

/// Opens two sides at once (each must find the other); their answers.
inline std::pair<caf::expected<pipe_info>, caf::expected<pipe_info>> open_both(punch_side& a,
                                                                               punch_side& b) {
  a.open();
  b.open();
  auto x = a.opened();
  auto y = b.opened();
  return {std::move(x), std::move(y)};
}

} // namespace p2pd::test
