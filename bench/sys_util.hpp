#pragma once

// Small system helpers of the benchmark: errno checks, socket and epoll
// one-liners, readers of /proc, a median.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "p2pd/net/addr/address.hpp"
#include "p2pd/net/error.hpp"
#include "p2pd/net/sock/socket.hpp"

namespace p2pd::bench {

using clk = std::chrono::steady_clock;
using seconds_d = std::chrono::duration<double>;

/// Throws std::system_error with errno if `rc` < 0; returns `rc` otherwise.
int check(int rc, const char* what);

bool would_block();

/// The value of a p2pd::net call; its error as std::runtime_error.
template <class T>
T unwrap(net::result<T> res) {
  if (!res)
    throw std::runtime_error(net::to_string(res.error()));
  return std::move(*res);
}

/// 127.0.0.1:port.
net::endpoint loopback(uint16_t port);

void set_nodelay(int fd);

void epoll_watch(int epfd, int op, int fd, uint32_t events, uint64_t tag);

/// A non-blocking socket connected to 127.0.0.1:port (TCP: within 2 s).
net::unique_fd connect_loopback(int type, uint16_t port);

/// A "Vm...:" field of /proc/self/status in KiB, -1 if missing.
long proc_status_kib(const std::string& key);

double mib(long kib);

/// Appends "n what" to a ", "-separated list of problems when n is not 0.
void note_count(std::string& out, const char* what, uint64_t n);

/// The median; 0 for none.
double median(std::vector<double> xs);

/// The first three fields of /proc/loadavg.
std::string load_average();

/// Copies `text` into a fixed buffer of a result sent between processes.
template <size_t N>
void set_text(char (&dst)[N], const std::string& text) {
  std::snprintf(dst, N, "%s", text.c_str());
}

/// Appends `text` to such a buffer, "; "-separated.
template <size_t N>
void add_text(char (&dst)[N], const std::string& text) {
  std::string cur = dst;
  set_text(dst, cur.empty() ? text : cur + "; " + text);
}

} // namespace p2pd::bench
