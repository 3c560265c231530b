#pragma once

// Plain sockets, outside p2pd: peers that misbehave on purpose, free ports,
// whether a port can be bound, and finding this process's own sockets. No
// GoogleTest and no CAF here: the server fixtures (and the benchmark that
// starts mosquitto like the tests do) use these too.

#include <dirent.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <string>

#include "p2pd/net/addr/address.hpp"
#include "p2pd/net/iface/interfaces.hpp"
#include "p2pd/net/sock/socket.hpp"

namespace p2pd::test {

/// An int socket option's value, -1 if it cannot be read.
inline int sockopt_int(int fd, int level, int name) {
  int v = -1;
  socklen_t len = sizeof v;
  if (::getsockopt(fd, level, name, &v, &len) != 0)
    return -1;
  return v;
}

/// A blocking TCP connection from a plain socket (a peer outside p2pd);
/// empty if it could not connect.
inline net::unique_fd raw_connect(const net::endpoint& to) {
  net::unique_fd fd{::socket(net::to_af(to.fam()), SOCK_STREAM | SOCK_CLOEXEC, 0)};
  sockaddr_storage ss;
  auto len = to.to_sockaddr(ss);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0)
    return net::unique_fd{};
  return fd;
}

/// Up to `n` bytes read from a plain stream socket within `timeout`: what
/// came ("" on nothing; less when the peer ended).
inline std::string raw_read(int fd, size_t n, std::chrono::milliseconds timeout) {
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (out.size() < n) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
    pollfd p{fd, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) != 1)
      break;
    char buf[4096];
    auto got = ::recv(fd, buf, std::min(sizeof(buf), n - out.size()), 0);
    if (got <= 0)
      break;
    out.append(buf, static_cast<size_t>(got));
  }
  return out;
}

/// Writes all of `text` to a plain stream socket (no SIGPIPE).
inline bool raw_write(int fd, const std::string& text) {
  return ::send(fd, text.data(), text.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(text.size());
}

/// A plain TCP listener on 127.0.0.1 (a free port, put in `bound`); empty
/// if it could not listen.
inline net::unique_fd raw_listener(net::endpoint& bound) {
  net::unique_fd fd{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  net::endpoint local{net::ip_address::loopback(net::family::v4), 0};
  sockaddr_storage ss;
  auto len = local.to_sockaddr(ss);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0 || ::listen(fd.get(), 4) != 0)
    return {};
  auto ep = net::local_endpoint(fd.get());
  bound = ep ? *ep : net::endpoint{};
  return fd;
}

/// A connection accepted on a plain listener within `timeout`; empty if none came.
inline net::unique_fd raw_accept(int fd, std::chrono::milliseconds timeout) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1)
    return {};
  return net::unique_fd{::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC)};
}

/// A UDP socket from a plain socket, bound to `local`.
inline net::unique_fd raw_udp(const net::endpoint& local) {
  net::unique_fd fd{::socket(net::to_af(local.fam()), SOCK_DGRAM | SOCK_CLOEXEC, 0)};
  sockaddr_storage ss;
  auto len = local.to_sockaddr(ss);
  ::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len);
  return fd;
}

inline bool raw_send_to(int fd, const net::endpoint& to, const std::string& data) {
  sockaddr_storage ss;
  auto len = to.to_sockaddr(ss);
  return ::sendto(fd, data.data(), data.size(), 0, reinterpret_cast<sockaddr*>(&ss), len)
         == static_cast<ssize_t>(data.size());
}

/// A datagram and its sender.
struct raw_datagram {
  std::string data;
  net::endpoint from;
};

/// Waits up to `timeout` for a datagram on a plain UDP socket.
inline std::optional<raw_datagram> raw_recv_from(int fd, std::chrono::milliseconds timeout) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1)
    return std::nullopt;
  char buf[65536];
  sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  auto n = ::recvfrom(fd, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&ss), &len);
  if (n < 0)
    return std::nullopt;
  auto from = net::endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
  if (!from)
    return std::nullopt;
  return raw_datagram{std::string(buf, static_cast<size_t>(n)), *from};
}

/// The local endpoint of a plain socket.
inline net::endpoint raw_local(int fd) {
  auto ep = net::local_endpoint(fd);
  return ep ? *ep : net::endpoint{};
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

/// A port that is free right now (bound, read, released); 0 if none.
inline uint16_t free_port(net::protocol proto, const char* ip = "127.0.0.1") {
  auto fd = net::open_bound_socket(proto, net::endpoint{*net::ip_address::parse(ip), 0});
  return fd ? net::local_endpoint(fd->get())->port : 0;
}

/// True if a plain socket can bind `local` now. With `reuse_addr` it sets
/// SO_REUSEADDR (a restarted server's bind, which a connection in TIME_WAIT
/// does not stop) but never SO_REUSEPORT, with which it could share the port
/// with a listener still open.
inline bool bindable(net::protocol proto, const net::endpoint& local, bool reuse_addr = false) {
  net::unique_fd fd{::socket(net::to_af(local.fam()),
                             (proto == net::protocol::tcp ? SOCK_STREAM : SOCK_DGRAM)
                               | SOCK_CLOEXEC,
                             0)};
  if (!fd)
    return false;
  int on = 1;
  if (reuse_addr && ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0)
    return false;
  sockaddr_storage ss;
  auto len = local.to_sockaddr(ss);
  return ::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) == 0;
}

/// The socket of this process bound to `local` whose SO_TYPE is `type` (and,
/// for SOCK_STREAM, that listens), found in /proc/self/fd; -1 if none.
inline int find_own_socket(const net::endpoint& local, int type) {
  int found = -1;
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr)
    return -1;
  while (auto* e = ::readdir(dir)) {
    if (e->d_name[0] == '.')
      continue;
    int fd = std::atoi(e->d_name);
    int got = 0;
    socklen_t len = sizeof(got);
    if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &got, &len) != 0 || got != type)
      continue;
    int listening = 0;
    len = sizeof(listening);
    if (type == SOCK_STREAM
        && (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening))
      continue;
    if (auto ep = net::local_endpoint(fd); ep && *ep == local) {
      found = fd;
      break;
    }
  }
  ::closedir(dir);
  return found;
}

/// The listening TCP socket of this process bound to `local`; -1 if none.
inline int find_listening_fd(const net::endpoint& local) {
  return find_own_socket(local, SOCK_STREAM);
}

/// The UDP socket of this process bound to `local`; -1 if none.
inline int find_udp_fd(const net::endpoint& local) {
  return find_own_socket(local, SOCK_DGRAM);
}

} // namespace p2pd::test
