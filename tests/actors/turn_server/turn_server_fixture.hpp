#pragma once

// Our TURN server actor (actors/turn_server) on loopback, a plain UDP
// socket as the peer, and a raw TURN client on a plain UDP socket for what
// the project's client never sends (indications, bad requests, a client
// that does not refresh).

#include <deque>
#include <memory>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "support/actors.hpp"
#include "support/expect.hpp"
#include "support/sockets.hpp"
#include "support/values.hpp"

#include "p2pd/actors/turn/turn_pipe.hpp"
#include "p2pd/actors/turn_server/turn_server.hpp"
#include "p2pd/api/runtime.hpp"
#include "p2pd/net/stun/stun_message.hpp"
#include "p2pd/net/turn/turn_requests.hpp"

namespace p2pd::test {

/// A TURN client on a plain UDP socket, one request at a time.
class raw_turn_client {
public:
  explicit raw_turn_client(endpoint server)
      : server_(server), fd_(raw_udp(any_port("127.0.0.1"))) {}

  endpoint local() const { return raw_local(fd_.get()); }
  int fd() const { return fd_.get(); }

  /// Sends `bytes` as they are.
  bool send_raw(const std::string& bytes) { return raw_send_to(fd_.get(), server_, bytes); }
  bool send_raw(const std::vector<uint8_t>& bytes) {
    return send_raw(std::string(bytes.begin(), bytes.end()));
  }

  /// Sends a request and waits up to 2 s for its response (other messages
  /// that come meanwhile are kept for next()).
  std::optional<net::stun_message> ask(const std::vector<uint8_t>& request) {
    auto id = net::decode_stun(request);
    if (!id || !send_raw(request))
      return std::nullopt;
    for (int i = 0; i < 64; ++i) {
      auto d = raw_recv_from(fd_.get(), std::chrono::milliseconds{2000});
      if (!d)
        return std::nullopt;
      auto m = net::decode_stun(reinterpret_cast<const uint8_t*>(d->data.data()), d->data.size());
      if (m && m->txid() == id->txid())
        return std::move(*m);
      kept_.push_back(std::move(d->data));
    }
    return std::nullopt;
  }

  /// The next message from the server (kept or new) within 2 s.
  std::optional<std::string> next(std::chrono::milliseconds wait = std::chrono::milliseconds{2000}) {
    if (!kept_.empty()) {
      auto x = std::move(kept_.front());
      kept_.pop_front();
      return x;
    }
    auto d = raw_recv_from(fd_.get(), wait);
    if (!d)
      return std::nullopt;
    return d->data;
  }

  /// Allocate: unsigned, then signed as the 401 asks. The success (or the
  /// last error) response; `auth` is kept for the requests after it.
  std::optional<net::stun_message> allocate(const std::string& user, const std::string& password,
                                            uint32_t lifetime_s = 600) {
    net::turn_allocate_params p;
    p.lifetime_s = lifetime_s;
    auto first = net::build_turn_allocate(net::stun_txid::random(), p, nullptr, "test");
    if (!first)
      return std::nullopt;
    auto r = ask(*first);
    if (!r || r->cls() != net::stun_class::error || !r->realm() || !r->nonce())
      return r;
    auto key = net::stun_key::long_term(user, *r->realm(), password);
    if (!key)
      return std::nullopt;
    auth = net::turn_auth{user, *r->realm(), *r->nonce(), *key};
    auto second = net::build_turn_allocate(net::stun_txid::random(), p, &*auth, "test");
    return second ? ask(*second) : std::nullopt;
  }

  std::optional<net::turn_auth> auth;

private:
  endpoint server_;
  net::unique_fd fd_;
  std::deque<std::string> kept_;
};

inline uint16_t error_of(const std::optional<net::stun_message>& m) {
  if (!m || m->cls() != net::stun_class::error)
    return 0;
  auto ec = m->error_code();
  return ec ? ec->code : 0;
}

class turn_server_fixture : public ::testing::Test {
protected:
  static constexpr const char* user = "alice";
  static constexpr const char* password = "wonderland";

  /// A spec for loopback: one user, free relay ports.
  static turn_server_spec base_spec() {
    turn_server_spec s;
    s.users = {{user, password}, {"bob", "builder"}};
    s.realm = "p2pd.test";
    s.relay_port_min = 0;
    s.relay_port_max = 0;
    s.allow_loopback_peers = true; // the peers are raw sockets on 127.0.0.1
    return s;
  }

  /// Spawns and opens the server, owned by the test's scoped actor.
  void start(turn_server_spec s = base_spec()) {
    auto r = spawn_turn_server(rt.system(), std::move(s));
    ASSERT_OK(r);
    server = *r;
    self->request(server, 5s, caf::open_atom::value)
      .receive([&](pipe_info& i) { addr = i.local; },
               [&](caf::error& e) { FAIL() << render(e); });
  }

  turn_server_stats stats() {
    turn_server_stats out;
    self->request(server, 5s, stats_atom::value)
      .receive([&](turn_server_stats& x) { out = x; },
               [&](caf::error& e) { ADD_FAILURE() << render(e); });
    return out;
  }

  /// The stats once `done` holds of them: asked every 20 ms, at most 150
  /// times (what clients send reaches the server on another path than the
  /// request).
  template <class F>
  turn_server_stats stats_when(F done) {
    auto s = stats();
    for (int i = 0; i < 150 && !done(s); ++i) {
      self->receive(caf::after(std::chrono::milliseconds{20}) >> [] {});
      s = stats();
    }
    return s;
  }

  /// `c`'s allocation as the fixture's user: the success, or nothing (and
  /// a failure said) when the server refused.
  std::optional<net::stun_message> allocate_ok(raw_turn_client& c) {
    auto a = c.allocate(user, password);
    if (!a || a->cls() != net::stun_class::success) {
      ADD_FAILURE() << "Allocate refused: " << error_of(a);
      return std::nullopt;
    }
    return a;
  }

  /// The project's TURN client toward our server as `u`:`pw`.
  turn_pipe_spec client_spec(const std::string& u = user, const std::string& pw = password) {
    turn_pipe_spec s;
    s.server = turn_server{addr, net::protocol::udp, u, pw};
    s.timing = loopback_stun_timing();
    s.local = any_port("127.0.0.1");
    return s;
  }

  /// Spawns and opens a TURN pipe owned by the test, subscribed to all.
  caf::expected<pipe_info> open_client(turn_pipe_spec s, turn_pipe_actor* out = nullptr) {
    s.subscribers.push_back(subscriber{as_actor(self), events::all});
    auto p = spawn_turn_pipe(rt.system(), std::move(s));
    if (out != nullptr)
      *out = p;
    caf::expected<pipe_info> got{make_error(errc::io_failed, "no answer")};
    self->request(p, 10s, caf::open_atom::value)
      .receive([&](pipe_info& i) { got = std::move(i); },
               [&](caf::error& e) { got = std::move(e); });
    return got;
  }

  std::optional<pipe_msg> next_msg(caf::timespan timeout = 5s) {
    return next<pipe_msg>(self, timeout);
  }

  runtime rt;
  caf::scoped_actor self{rt.system()};
  turn_server_actor server;
  endpoint addr;
};

} // namespace p2pd::test
