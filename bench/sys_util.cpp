#include "sys_util.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <system_error>

namespace p2pd::bench {

int check(int rc, const char* what) {
  if (rc < 0)
    throw std::system_error(errno, std::generic_category(), what);
  return rc;
}

bool would_block() {
  return errno == EAGAIN || errno == EWOULDBLOCK;
}

net::endpoint loopback(uint16_t port) {
  return {net::ip_address::loopback(net::family::v4), port};
}

void set_nodelay(int fd) {
  int one = 1;
  check(::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), "TCP_NODELAY");
}

void epoll_watch(int epfd, int op, int fd, uint32_t events, uint64_t tag) {
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = tag;
  check(::epoll_ctl(epfd, op, fd, &ev), "epoll_ctl");
}

net::unique_fd connect_loopback(int type, uint16_t port) {
  net::unique_fd fd{check(::socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), "socket")};
  sockaddr_storage addr;
  auto len = loopback(port).to_sockaddr(addr);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    if (errno != EINPROGRESS)
      check(-1, "connect");
    pollfd p{fd.get(), POLLOUT, 0};
    if (check(::poll(&p, 1, 2000), "poll") == 0)
      throw std::runtime_error("connect to 127.0.0.1:" + std::to_string(port)
                               + " timed out");
    int err = 0;
    socklen_t err_len = sizeof(err);
    check(::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &err_len), "SO_ERROR");
    if (err != 0)
      throw std::system_error(err, std::generic_category(), "connect");
  }
  if (type == SOCK_STREAM)
    set_nodelay(fd.get());
  return fd;
}

long proc_status_kib(const std::string& key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.size() > key.size() && line.compare(0, key.size(), key) == 0
        && line[key.size()] == ':')
      return std::strtol(line.c_str() + key.size() + 1, nullptr, 10);
  return -1;
}

double mib(long kib) {
  return static_cast<double>(kib) / 1024.0;
}

void note_count(std::string& out, const char* what, uint64_t n) {
  if (n != 0)
    out += (out.empty() ? "" : ", ") + std::to_string(n) + " " + what;
}

double median(std::vector<double> xs) {
  if (xs.empty())
    return 0;
  std::sort(xs.begin(), xs.end());
  auto mid = xs.size() / 2;
  return xs.size() % 2 == 1 ? xs[mid] : (xs[mid - 1] + xs[mid]) / 2;
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

} // namespace p2pd::bench
