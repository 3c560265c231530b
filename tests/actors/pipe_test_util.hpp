#pragma once

// Helpers shared by the pipe tests: loopback endpoints, an echo handler, a
// subscriber actor for the test thread, and raw sockets for peers that
// misbehave on purpose.

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "caf/all.hpp"

#include "p2pd/net/iface/interfaces.hpp"
#include "p2pd/p2pd.hpp"

namespace p2pd::test {

using namespace std::chrono_literals;

inline endpoint any_port(const char* ip) {
  return endpoint{*net::ip_address::parse(ip), 0};
}

/// An IPv4 address no interface of this host has (binding to it must fail):
/// documentation and benchmarking addresses, checked against the host's own.
inline std::string foreign_ipv4() {
  auto table = net::list_interfaces();
  for (auto candidate : {"192.0.2.1", "198.51.100.254", "203.0.113.254", "198.18.0.1"}) {
    auto ip = *net::ip_address::parse(candidate);
    bool local = false;
    if (table)
      for (auto& nic : table->interfaces)
        for (auto& a : nic.addrs)
          local = local || a.ip == ip;
    if (!local)
      return candidate;
  }
  return "198.18.0.1";
}

inline msg_handler echo_handler() {
  return [](pipe_io& io, std::string_view data, const endpoint&) { io.reply(data); };
}

inline caf::actor as_actor(caf::scoped_actor& self) {
  return caf::actor_cast<caf::actor>(self.ptr());
}

/// Waits up to `timeout` for a message of type T; nullopt if none came.
template <class T>
std::optional<T> next(caf::scoped_actor& self, caf::timespan timeout = 5s) {
  std::optional<T> out;
  self->receive([&](T& x) { out = std::move(x); },
                caf::after(timeout) >> [] {});
  return out;
}

/// Receives messages of type T, calling `done` on each, until it returns true
/// or `timeout` has passed in all. False on timeout.
template <class T, class F>
bool receive_until(caf::scoped_actor& self, caf::timespan timeout, F done) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = deadline - std::chrono::steady_clock::now();
    if (left <= left.zero())
      return false;
    auto m = next<T>(self, std::chrono::duration_cast<caf::timespan>(left));
    if (!m)
      return false;
    if (done(*m))
      return true;
  }
}

/// A blocking TCP connection from a plain socket (a peer outside p2pd).
inline net::unique_fd raw_connect(const endpoint& to) {
  net::unique_fd fd{::socket(net::to_af(to.fam()), SOCK_STREAM | SOCK_CLOEXEC, 0)};
  sockaddr_storage ss;
  auto len = to.to_sockaddr(ss);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0)
    return net::unique_fd{};
  return fd;
}

/// A UDP socket from a plain socket, bound to a free loopback port.
inline net::unique_fd raw_udp(const endpoint& local) {
  net::unique_fd fd{::socket(net::to_af(local.fam()), SOCK_DGRAM | SOCK_CLOEXEC, 0)};
  sockaddr_storage ss;
  auto len = local.to_sockaddr(ss);
  ::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len);
  return fd;
}

inline bool raw_send_to(int fd, const endpoint& to, const std::string& data) {
  sockaddr_storage ss;
  auto len = to.to_sockaddr(ss);
  return ::sendto(fd, data.data(), data.size(), 0, reinterpret_cast<sockaddr*>(&ss), len)
         == static_cast<ssize_t>(data.size());
}

/// Waits up to `timeout` for the peer to end a raw connection, reading and
/// dropping what it sends; true once it ended (orderly or with a reset).
inline bool raw_wait_closed(int fd, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      return false;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0)
      continue;
    auto n = ::recv(fd, buf, sizeof(buf), 0);
    if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
      return true;
  }
}

/// Bounds a plain socket's blocking reads and writes, so that a test whose
/// peer never answers fails instead of hanging.
inline void set_timeouts(int fd, std::chrono::seconds t) {
  timeval tv{static_cast<time_t>(t.count()), 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/// Closes with SO_LINGER 0: the peer sees a reset, not an orderly close.
inline void reset_close(net::unique_fd fd) {
  linger l{1, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_LINGER, &l, sizeof(l));
}

} // namespace p2pd::test

#define ASSERT_OK(expr)                                                                  \
  do {                                                                                   \
    auto&& assert_ok_res = (expr);                                                       \
    ASSERT_TRUE(assert_ok_res) << ::p2pd::render(assert_ok_res.error());                \
  } while (false)

#define EXPECT_NO_ERR(expr)                                                              \
  do {                                                                                   \
    auto assert_no_err = (expr);                                                         \
    EXPECT_FALSE(assert_no_err) << ::p2pd::render(assert_no_err);                       \
  } while (false)

#define EXPECT_ERRC(err_expr, code)                                                      \
  do {                                                                                   \
    auto expect_errc_err = (err_expr);                                                   \
    EXPECT_EQ(::p2pd::code_of(expect_errc_err), code) << ::p2pd::render(expect_errc_err); \
  } while (false)
