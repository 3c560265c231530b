#pragma once

// Helpers shared by the daemon tests: daemons whose port locks live in a
// temporary directory, loopback targets, echo round trips, killing a
// listener, waiting (in round trips, bounded in time) for restarts, and
// finding a listener's socket in /proc/self/fd.

#include <dirent.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "pipe_test_util.hpp"
#include "support/temp_dir.hpp"

#include "p2pd/net/iface/interfaces.hpp"

namespace p2pd::test {

/// A daemon spec whose port locks go to `dir`.
inline daemon_spec daemon_in(const temp_dir& dir, msg_handler on_msg = echo_handler(),
                             restart_policy policy = {}) {
  daemon_spec spec;
  spec.on_msg = std::move(on_msg);
  spec.policy = policy;
  spec.data_dir = dir.path();
  return spec;
}

/// A route on loopback for one family (the "lo" interface's address).
inline net::route loopback_route(net::family f) {
  net::route r;
  r.interface = "lo";
  r.fam = f;
  r.nic_ips.push_back(net::ip_range::single(net::ip_address::loopback(f)));
  return r;
}

inline endpoint at(const char* ip, uint16_t port) {
  return endpoint{*net::ip_address::parse(ip), port};
}

/// A port that is free right now (bound, read, released).
inline uint16_t free_port(net::protocol proto, const char* ip = "127.0.0.1") {
  auto fd = net::open_bound_socket(proto, any_port(ip));
  return fd ? net::local_endpoint(fd->get())->port : 0;
}

/// True if a plain socket can bind `local` now. With `reuse_addr` it sets
/// SO_REUSEADDR (a restarted server's bind, which a connection in TIME_WAIT
/// does not stop) but never SO_REUSEPORT, with which it could share the port
/// with a listener still open.
inline bool bindable(net::protocol proto, const endpoint& local, bool reuse_addr = false) {
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

/// One request and its echo over a new client.
inline caf::expected<pipe_msg> echo_once(runtime& rt, net::protocol proto, const endpoint& to,
                                         const std::string& text) {
  auto c = rt.connect(proto, to);
  if (!c)
    return c.error();
  if (auto err = c->send(text))
    return err;
  return c->recv(5s);
}

/// Kills `p` with exit_reason::kill and waits until it is gone; returns the
/// reason it ended with (nothing if no down_msg came within 5 s).
inline std::optional<caf::error> kill_and_wait(runtime& rt, const pipe_actor& p) {
  caf::scoped_actor killer{rt.system()};
  killer->monitor(p);
  killer->send_exit(p, caf::exit_reason::kill);
  auto dm = next<caf::down_msg>(killer);
  if (!dm)
    return std::nullopt;
  return dm->reason;
}

/// Asks the daemon for its listeners (each ask a round trip) until `pred`
/// holds for the list, for at most `timeout`. Returns the last list seen if
/// it satisfied `pred`, else nothing.
inline std::optional<std::vector<listener_info>>
await_listeners(p2pd::daemon_handle& d, const std::function<bool(const std::vector<listener_info>&)>& pred,
                std::chrono::steady_clock::duration timeout = 10s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto ls = d.listeners();
    if (!ls)
      return std::nullopt;
    if (pred(*ls))
      return std::move(*ls);
  }
  return std::nullopt;
}

/// Waits until every listener has been restarted at least `n` times.
inline bool await_restarts(p2pd::daemon_handle& d, uint64_t n) {
  return static_cast<bool>(await_listeners(d, [n](auto& ls) {
    return std::all_of(ls.begin(), ls.end(), [n](auto& l) { return l.restarts >= n; });
  }));
}

/// The listener with id `id` in `ls`, if any.
inline std::optional<listener_info> by_id(const std::vector<listener_info>& ls, uint64_t id) {
  for (auto& l : ls)
    if (l.id == id)
      return l;
  return std::nullopt;
}

/// The listening TCP socket of this process bound to `local`, found in
/// /proc/self/fd (SO_ACCEPTCONN and getsockname); -1 if none.
inline int find_listening_fd(const endpoint& local) {
  int found = -1;
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr)
    return -1;
  while (auto* e = ::readdir(dir)) {
    if (e->d_name[0] == '.')
      continue;
    int fd = std::atoi(e->d_name);
    int listening = 0;
    socklen_t len = sizeof(listening);
    if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening)
      continue;
    if (auto ep = net::local_endpoint(fd); ep && *ep == local) {
      found = fd;
      break;
    }
  }
  ::closedir(dir);
  return found;
}

/// The UDP socket of this process bound to `local`, found in /proc/self/fd
/// (SO_TYPE and getsockname); -1 if none.
inline int find_udp_fd(const endpoint& local) {
  int found = -1;
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr)
    return -1;
  while (auto* e = ::readdir(dir)) {
    if (e->d_name[0] == '.')
      continue;
    int fd = std::atoi(e->d_name);
    int type = 0;
    socklen_t len = sizeof(type);
    if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_DGRAM)
      continue;
    if (auto ep = net::local_endpoint(fd); ep && *ep == local) {
      found = fd;
      break;
    }
  }
  ::closedir(dir);
  return found;
}

} // namespace p2pd::test
