#include "turn_plain.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "p2pd/net/turn/channel_data.hpp"

#include "sys_util.hpp"

namespace p2pd::bench {

namespace {

using std::chrono::milliseconds;

} // namespace

net::turn_config plain_turn_config(const turn_account& acct) {
  net::turn_config cfg;
  cfg.server = acct.server;
  cfg.username = acct.username;
  cfg.password = acct.password;
  // A server on this host answers in microseconds (loopback_stun_timing).
  cfg.rto = milliseconds(20);
  cfg.max_sends = 3;
  cfg.last_wait_factor = 2;
  cfg.software = "p2pd-bench";
  return cfg;
}

plain_turn_echo::plain_turn_echo(const turn_account& acct, const net::endpoint& peer)
  : session_(plain_turn_config(acct)), peer_(peer) {
  fd_ = unwrap(net::open_bound_socket(net::protocol::udp, loopback(0)));
  int buf = 4 << 20;
  ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
  ::setsockopt(fd_.get(), SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
  sockaddr_storage ss;
  auto len = acct.server.to_sockaddr(ss);
  check(::connect(fd_.get(), reinterpret_cast<sockaddr*>(&ss), len), "connect to coturn");
}

std::unique_ptr<plain_turn_echo> plain_turn_echo::start(const turn_account& acct,
                                                        const net::endpoint& peer,
                                                        std::string& why) {
  std::unique_ptr<plain_turn_echo> e{new plain_turn_echo(acct, peer)};
  auto& s = e->session_;
  s.start(net::turn_clock::now());
  if (!e->pump([&] { return s.state() == net::turn_state::allocated; }, 5000)) {
    why = "allocate: " + std::string{net::to_string(s.state())};
    for (auto& ev : s.take_events())
      if (ev.err)
        why += ": " + net::to_string(ev.err);
    return nullptr;
  }
  e->relayed_ = s.allocation()->relayed;
  const char hello[] = "hello";
  if (auto err = s.send(peer, reinterpret_cast<const uint8_t*>(hello), sizeof(hello) - 1,
                        net::turn_clock::now())) {
    why = "send: " + net::to_string(err);
    return nullptr;
  }
  if (!e->pump([&] { return s.channel_of(peer).has_value(); }, 5000)) {
    why = "no channel bound to the peer within 5 s";
    return nullptr;
  }
  e->flush(); // the hello, as ChannelData
  e->channel_ = *s.channel_of(peer);
  e->thread_ = std::thread{[p = e.get()] { p->echo_loop(); }};
  return e;
}

plain_turn_echo::~plain_turn_echo() {
  stop_ = true;
  if (thread_.joinable())
    thread_.join();
  session_.close(net::turn_clock::now());
  pump([&] { return session_.state() == net::turn_state::closed; }, 1000);
}

std::string plain_turn_echo::problems() const {
  std::string out;
  note_count(out, "send errors", send_errors_);
  note_count(out, "frames not on our channel", foreign_);
  return out;
}

void plain_turn_echo::flush() {
  for (auto& f : session_.take_output())
    if (::send(fd_.get(), f.data(), f.size(), 0) < 0)
      ++send_errors_;
}

template <class Done>
bool plain_turn_echo::pump(Done done, int limit_ms) {
  auto deadline = net::turn_clock::now() + milliseconds(limit_ms);
  std::vector<uint8_t> buf(65536);
  while (!done()) {
    flush();
    auto now = net::turn_clock::now();
    if (now >= deadline || session_.state() == net::turn_state::failed)
      return false;
    auto wake = std::min(deadline, session_.next_tick().value_or(deadline));
    auto wait = std::chrono::duration_cast<milliseconds>(wake - now).count();
    pollfd p{fd_.get(), POLLIN, 0};
    ::poll(&p, 1, static_cast<int>(std::clamp<long long>(wait, 0, 20)));
    ssize_t n;
    while ((n = ::recv(fd_.get(), buf.data(), buf.size(), MSG_DONTWAIT)) > 0)
      session_.receive(buf.data(), static_cast<size_t>(n), net::turn_clock::now());
    session_.tick(net::turn_clock::now());
  }
  flush();
  return true;
}

void plain_turn_echo::echo_loop() {
  std::vector<uint8_t> buf(65536);
  while (!stop_) {
    auto n = ::recv(fd_.get(), buf.data(), buf.size(), MSG_DONTWAIT);
    if (n < 0) {
      // Nothing there: wait for more, at most 50 ms so that stop_ is seen;
      // meanwhile keep the allocation fresh like any client.
      pollfd p{fd_.get(), POLLIN, 0};
      ::poll(&p, 1, 50);
      auto now = net::turn_clock::now();
      if (auto t = session_.next_tick(); t && *t <= now) {
        session_.tick(now);
        flush();
      }
      continue;
    }
    auto size = static_cast<size_t>(n);
    if (net::turn_frame_of(buf.data(), size) != net::turn_frame_kind::channel_data) {
      session_.receive(buf.data(), size, net::turn_clock::now()); // a response
      flush();
      continue;
    }
    // The fast path: ChannelData from the peer goes back as ChannelData.
    auto cd = net::decode_channel_data(buf.data(), size);
    if (!cd || cd->channel != channel_) {
      ++foreign_;
      continue;
    }
    auto framed = net::encode_channel_data(channel_, cd->data, cd->size, false);
    if (!framed || ::send(fd_.get(), framed->data(), framed->size(), 0) < 0)
      ++send_errors_;
  }
}

} // namespace p2pd::bench
