#pragma once

// A TURN pipe against the test's own coturn (tests/support/coturn_fixture),
// and a plain UDP socket on loopback as the peer outside p2pd.

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "support/actors.hpp"
#include "support/coturn_fixture.hpp"
#include "support/turn_account.hpp"
#include "support/expect.hpp"
#include "support/sockets.hpp"

#include "p2pd/actors/turn/turn_pipe.hpp"
#include "p2pd/api/runtime.hpp"

namespace p2pd::test {

class turn_fixture : public ::testing::Test {
protected:
  /// Starts coturn as a TURN server with `opts`; skips when it is not
  /// installed.
  void start_server(coturn_options opts = {}) {
    opts.turn = true;
    std::string why;
    server = coturn_server::start(why, opts);
    if (!server && not_installed(why))
      GTEST_SKIP() << why;
    ASSERT_TRUE(server) << why;
  }

  /// A spec for our account on the server, with loopback timing.
  turn_pipe_spec spec(net::protocol transport = net::protocol::udp) const {
    turn_pipe_spec s;
    s.server = turn_account(*server, transport);
    s.timing = loopback_stun_timing();
    s.timing.tcp_timeout = std::chrono::seconds(2);
    return s;
  }

  /// Spawns and opens a TURN pipe owned by `self`, subscribed to all events.
  caf::expected<pipe_info> open(caf::scoped_actor& self, turn_pipe_spec s,
                                turn_pipe_actor* out = nullptr) {
    s.subscribers.push_back(subscriber{as_actor(self), events::all});
    auto p = spawn_turn_pipe(rt.system(), std::move(s));
    if (out != nullptr)
      *out = p;
    caf::expected<pipe_info> got{make_error(errc::io_failed, "no answer")};
    self->request(p, std::chrono::seconds(10), caf::open_atom::value)
      .receive([&](pipe_info& i) { got = std::move(i); },
               [&](caf::error& e) { got = std::move(e); });
    return got;
  }

  /// The first pipe_msg within `timeout`.
  std::optional<pipe_msg> next_msg(caf::scoped_actor& self, caf::timespan timeout = 5s) {
    return next<pipe_msg>(self, timeout);
  }

  /// The next turn_status of kind `k` within `timeout`.
  std::optional<turn_status> next_status(caf::scoped_actor& self, turn_status::kind k,
                                         caf::timespan timeout) {
    std::optional<turn_status> out;
    receive_until<turn_status>(self, timeout, [&](turn_status& s) {
      if (s.what != k)
        return false;
      out = s;
      return true;
    });
    return out;
  }

  pipe_stats stats(caf::scoped_actor& self, const turn_pipe_actor& p) {
    pipe_stats out;
    self->request(p, std::chrono::seconds(5), stats_atom::value)
      .receive([&](pipe_stats& s) { out = s; }, [](caf::error&) {});
    return out;
  }

  // The server outlives the runtime, so that the pipes still open when a
  // test ends delete their allocations on a live server.
  std::unique_ptr<coturn_server> server;
  runtime rt;
};

} // namespace p2pd::test
