// A daemon with 1,000 TCP listeners on one port range: all open, all accept,
// and close() gives every port back. (How fast they open is measured by the
// benchmark, not here.)
#include <sys/resource.h>

#include <fstream>
#include <random>
#include <set>

#include "actors/daemon/daemon_test_util.hpp"

#include "p2pd/net/sock/port_lock.hpp"

using namespace p2pd;
using namespace p2pd::test;

namespace {

constexpr uint16_t listener_count = 1000;

// Each listener holds a socket, a spare descriptor for EMFILE and a lock
// file; clients and the runtime need some more.
bool enough_descriptors(rlim_t want) {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0)
    return false;
  if (lim.rlim_cur >= want)
    return true;
  if (lim.rlim_max != RLIM_INFINITY && lim.rlim_max < want)
    return false;
  lim.rlim_cur = want;
  return ::setrlimit(RLIMIT_NOFILE, &lim) == 0;
}

// The first port the kernel hands out for outgoing connections: a range
// below it is not taken by our own clients while the test runs.
uint16_t ephemeral_low() {
  std::ifstream f{"/proc/sys/net/ipv4/ip_local_port_range"};
  unsigned low = 32768;
  f >> low;
  return static_cast<uint16_t>(low);
}

// True if a listening TCP socket can be opened on 127.0.0.1:port with
// SO_REUSEADDR (as the daemon's listeners bind: a connection of an earlier
// test in TIME_WAIT does not stop it, a socket using the port does).
bool listenable(uint16_t port) {
  net::unique_fd fd{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  int on = 1;
  if (!fd || ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0)
    return false;
  sockaddr_storage ss;
  auto len = at("127.0.0.1", port).to_sockaddr(ss);
  return ::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) == 0
         && ::listen(fd.get(), 1) == 0;
}

// True if every port of [first, first + n) is listenable now.
bool range_free(uint16_t first, uint16_t n) {
  for (uint32_t p = first; p < uint32_t{first} + n; ++p)
    if (!listenable(static_cast<uint16_t>(p)))
      return false;
  return true;
}

// Sends `text` over a new plain TCP connection and reads the echo; closes
// with a reset, so that the test leaves no connection in TIME_WAIT behind.
bool raw_echo(const endpoint& to, const std::string& text) {
  auto fd = raw_connect(to);
  if (!fd)
    return false;
  timeval tv{5, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  if (::send(fd.get(), text.data(), text.size(), MSG_NOSIGNAL)
      != static_cast<ssize_t>(text.size()))
    return false;
  std::string got;
  char buf[256];
  while (got.size() < text.size()) {
    auto n = ::recv(fd.get(), buf, sizeof(buf), 0);
    if (n <= 0)
      break;
    got.append(buf, static_cast<size_t>(n));
  }
  reset_close(std::move(fd));
  return got == text;
}

// A random free range of n ports from 20000 up to the ephemeral ports (or
// 50000 if those start higher); 0 if three tries found none.
uint16_t free_range(uint16_t n) {
  uint32_t hi = std::max<uint32_t>(ephemeral_low(), 21000 + n);
  hi = std::min<uint32_t>(hi, 50000);
  std::mt19937 rng{std::random_device{}()};
  std::uniform_int_distribution<uint32_t> pick{20000, hi - n};
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto first = static_cast<uint16_t>(pick(rng));
    if (range_free(first, n))
      return first;
  }
  return 0;
}

} // namespace

TEST(DaemonScale, ThousandTcpListenersOnOneRangeOpenAcceptAndReleaseTheirPorts) {
  ASSERT_TRUE(enough_descriptors(4 * listener_count + 256))
    << "RLIMIT_NOFILE is too low for " << listener_count << " listeners";
  auto first = free_range(listener_count);
  ASSERT_NE(first, 0) << "no free range of " << listener_count << " ports found";
  uint16_t last = first + listener_count - 1;
  temp_dir dir;
  runtime rt;
  auto d = rt.start_daemon(daemon_in(dir));
  ASSERT_OK(d);
  auto ls = d->listen_all({loopback_route(net::family::v4)}, {{first, last}}, {tcp},
                          net::family_choice::v4, true);
  ASSERT_OK(ls);
  ASSERT_EQ(ls->size(), listener_count);
  std::set<uint16_t> ports;
  for (auto& l : *ls)
    ports.insert(l.local.port);
  EXPECT_EQ(ports.size(), listener_count);
  EXPECT_EQ(*ports.begin(), first);
  EXPECT_EQ(*ports.rbegin(), last);
  auto now = d->listeners();
  ASSERT_OK(now);
  EXPECT_EQ(now->size(), listener_count);
  // All accept: an echo over a plain connection to each.
  std::vector<uint16_t> silent;
  for (uint32_t p = first; p <= last; ++p) {
    auto port = static_cast<uint16_t>(p);
    if (!raw_echo(at("127.0.0.1", port), "port " + std::to_string(port)))
      silent.push_back(port);
  }
  EXPECT_TRUE(silent.empty()) << silent.size() << " listeners did not echo, the first on port "
                              << silent.front();
  EXPECT_OK(d->close());
  // Every port is free again, and unlocked.
  size_t still_bound = 0;
  size_t still_locked = 0;
  for (uint32_t p = first; p <= last; ++p) {
    auto port = static_cast<uint16_t>(p);
    if (!listenable(port))
      ++still_bound;
    if (!net::port_lock::acquire(dir.path(), net::family::v4, tcp,
                                 *net::ip_address::parse("127.0.0.1"), port))
      ++still_locked;
  }
  EXPECT_EQ(still_bound, 0u);
  EXPECT_EQ(still_locked, 0u);
}
