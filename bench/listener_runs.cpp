#include "listener_runs.hpp"

#include <malloc.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>
#include <thread>
#include <vector>

#include "p2pd/api/runtime.hpp"

#include "fork_child.hpp"

namespace p2pd::bench {

const char* name_of(listener_variant v) {
  switch (v) {
    case listener_variant::baseline:
      return "plain sockets";
    case listener_variant::p2pd:
      return "p2pd";
    case listener_variant::p2pd_locks:
      return "p2pd + locks";
  }
  return "?";
}

namespace {

constexpr int backlog = 1024; // what p2pd's listeners use (net::open_listener)

double since(clk::time_point t0) {
  return seconds_d{clk::now() - t0}.count();
}

/// A bound (not listening) TCP socket on 127.0.0.1:port with SO_REUSEADDR,
/// or -1 with errno set.
int bind_reuseaddr(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  int one = 1;
  sockaddr_storage addr;
  auto len = loopback(port).to_sockaddr(addr);
  if (::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0
      || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    int err = errno;
    ::close(fd);
    errno = err;
    return -1;
  }
  return fd;
}

// A port range [first, last] to search, and the ephemeral range to avoid.
std::pair<int, int> ephemeral_ports() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  int lo = 32768, hi = 60999;
  in >> lo >> hi;
  return {lo, hi};
}

std::optional<uint16_t> search_range(int n, int first, int last) {
  int base = first;
  while (base + n - 1 <= last) {
    int p = base;
    for (; p < base + n; ++p) {
      int fd = bind_reuseaddr(static_cast<uint16_t>(p));
      if (fd < 0)
        break;
      ::close(fd);
    }
    if (p == base + n)
      return static_cast<uint16_t>(base);
    base = p + 1; // the range cannot contain the port that failed
  }
  return std::nullopt;
}

// Whether something accepts TCP connections on 127.0.0.1:port.
bool accepts(uint16_t port) {
  try {
    connect_loopback(SOCK_STREAM, port);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

// The first, middle and last port of [base, base + n).
std::vector<uint16_t> sample_ports(uint16_t base, int n) {
  std::vector<uint16_t> out;
  for (int k : {0, n / 2, n - 1})
    if (out.empty() || out.back() != base + k)
      out.push_back(static_cast<uint16_t>(base + k));
  return out;
}

void check_open(listeners_result& r, uint16_t base, int n) {
  for (auto port : sample_ports(base, n)) {
    if (!accepts(port))
      add_text(r.problems, "port " + std::to_string(port) + " refused after open");
  }
}

void check_closed(listeners_result& r, uint16_t base, int n) {
  for (auto port : sample_ports(base, n)) {
    ++r.close_checks;
    if (!accepts(port))
      continue;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (accepts(port))
      add_text(r.problems, "port " + std::to_string(port)
                             + " still accepted a connection 100 ms after the close");
    else
      ++r.late_closes;
  }
}

long count_fds() {
  long n = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    ++n;
  return n - 1; // the iterator's own descriptor
}

// One open-and-close cycle: `prepare()` readies an opener (not timed),
// `open(k)` opens k listeners on [base, base + k) and returns how many it
// reports, `close()` closes them; both throw on failure. A 1-listener cycle
// first warms up the code paths (their pages would count as RSS), then the
// measured cycle, then `extra_cycles` more to tell a leak from what the
// allocator keeps.
template <class Prepare, class Open, class Close>
listeners_result measure(int n, uint16_t base, int extra_cycles, Prepare prepare, Open open,
                         Close close) {
  listeners_result r;
  r.n = n;
  r.rss_start_kib = proc_status_kib("VmRSS");
  auto t0 = clk::now();
  prepare();
  r.start_s = since(t0);
  open(1);
  check_open(r, base, 1);
  close();
  check_closed(r, base, 1);

  prepare();
  r.rss_before_kib = proc_status_kib("VmRSS");
  t0 = clk::now();
  r.opened = open(n);
  r.open_s = since(t0);
  r.rss_open_kib = proc_status_kib("VmRSS");
  r.fds_open = count_fds();
  if (r.opened != n)
    add_text(r.problems, "opened " + std::to_string(r.opened) + " listeners, not "
                           + std::to_string(n));
  check_open(r, base, n);
  t0 = clk::now();
  close();
  r.close_s = since(t0);
  check_closed(r, base, n);
  r.rss_closed_kib = proc_status_kib("VmRSS");
  std::this_thread::sleep_for(std::chrono::milliseconds(100)); // for deferred cleanup
  ::malloc_trim(0);
  r.rss_trimmed_kib = proc_status_kib("VmRSS");

  for (int i = 0; i < extra_cycles; ++i) {
    prepare();
    t0 = clk::now();
    open(n);
    if (i == 0)
      r.reopen_s = since(t0);
    close();
  }
  check_closed(r, base, n);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ::malloc_trim(0);
  r.extra_cycles = extra_cycles;
  r.rss_cycles_kib = proc_status_kib("VmRSS");
  return r;
}

listeners_result run_baseline(int n, uint16_t base, int extra_cycles) {
  std::vector<int> fds;
  fds.reserve(static_cast<size_t>(n));
  auto close_all = [&fds] {
    for (int fd : fds)
      ::close(fd);
    fds.clear();
  };
  auto open = [&](int k) {
    for (int i = 0; i < k; ++i) {
      int fd = bind_reuseaddr(static_cast<uint16_t>(base + i));
      if (fd < 0 || ::listen(fd, backlog) != 0) {
        int err = errno;
        if (fd >= 0)
          ::close(fd);
        close_all();
        throw std::system_error(err, std::generic_category(),
                                "listener on port " + std::to_string(base + i));
      }
      fds.push_back(fd);
    }
    return static_cast<int>(fds.size());
  };
  return measure(n, base, extra_cycles, [] {}, open, close_all);
}

net::route loopback_route() {
  net::route rt;
  rt.interface = "lo";
  rt.fam = net::family::v4;
  rt.nic_ips.push_back(net::ip_range::single(net::ip_address::loopback(net::family::v4)));
  return rt;
}

// A new daemon per cycle (close ends a daemon); listen_all of one target
// (127.0.0.1) and one port range, TCP only.
template <class Send>
void run_p2pd(listener_variant v, int n, uint16_t base, const std::string& data_dir,
              int extra_cycles, Send& send) {
  runtime rt;
  std::optional<p2pd::daemon_handle> d;
  auto prepare = [&] {
    daemon_spec spec;
    spec.lock_ports = v == listener_variant::p2pd_locks;
    if (spec.lock_ports)
      spec.data_dir = data_dir;
    auto started = rt.start_daemon(std::move(spec));
    if (!started)
      throw std::runtime_error("start_daemon: " + render(started.error()));
    if (auto ls = started->listeners(); !ls) // the daemon is up once it answers
      throw std::runtime_error("listeners: " + render(ls.error()));
    d = std::move(*started);
  };
  auto open = [&](int k) {
    auto ls = d->listen_all({loopback_route()}, {{base, static_cast<uint16_t>(base + k - 1)}},
                            {tcp}, net::family_choice::v4, true);
    if (!ls)
      throw std::runtime_error("listen_all of " + std::to_string(k)
                               + " listeners: " + render(ls.error()));
    return static_cast<int>(ls->size());
  };
  auto close = [&] {
    if (auto err = d->close())
      throw std::runtime_error("close: " + render(err));
    d.reset();
  };
  send(measure(n, base, extra_cycles, prepare, open, close));
  // The runtime's teardown after this is watched by run_in_child.
}

} // namespace

std::optional<uint16_t> find_free_port_range(int n) {
  auto [eph_lo, eph_hi] = ephemeral_ports();
  if (auto base = search_range(n, 10000, eph_lo - 1))
    return base;
  if (auto base = search_range(n, eph_hi + 1, 65535))
    return base;
  return search_range(n, 1024, 9999);
}

fd_limit raise_fd_limit(uint64_t want) {
  fd_limit out;
  rlimit rl{};
  check(::getrlimit(RLIMIT_NOFILE, &rl), "getrlimit");
  out.soft_before = rl.rlim_cur;
  out.hard_before = rl.rlim_max;
  if (rl.rlim_cur < want) {
    rlimit up = rl;
    up.rlim_cur = want;
    if (up.rlim_max < want)
      up.rlim_max = want; // allowed for root (CAP_SYS_RESOURCE), up to fs.nr_open
    if (::setrlimit(RLIMIT_NOFILE, &up) != 0) {
      out.note = std::string{"cannot raise the hard limit to "} + std::to_string(want) + ": "
                 + std::strerror(errno) + "; using the hard limit";
      up.rlim_max = rl.rlim_max;
      up.rlim_cur = rl.rlim_max;
      ::setrlimit(RLIMIT_NOFILE, &up);
    }
  }
  check(::getrlimit(RLIMIT_NOFILE, &rl), "getrlimit");
  out.soft = rl.rlim_cur;
  out.hard = rl.rlim_max;
  return out;
}

uint64_t fds_needed(listener_variant v, int n) {
  // A listener; a port lock is an open file too. (The descriptor p2pd keeps
  // in reserve for EMFILE is one per process, inside the slack.)
  auto per = v == listener_variant::p2pd_locks ? 2u : 1u;
  return per * static_cast<uint64_t>(n) + 1024;
}

int max_listeners(listener_variant v, uint64_t fd_limit) {
  auto per = fds_needed(v, 1) - fds_needed(v, 0);
  auto slack = fds_needed(v, 0);
  if (fd_limit <= slack)
    return 0;
  auto n = (fd_limit - slack) / per;
  return static_cast<int>(n >= 100 ? n / 100 * 100 : n);
}

listeners_result run_listeners_child(listener_variant v, int n, uint16_t base,
                                     const std::string& data_dir, int extra_cycles) {
  auto limit = seconds_d{30.0 + n * 0.005 * (2 + extra_cycles)};
  auto label = std::string{name_of(v)} + ", " + std::to_string(n) + " listeners";
  return run_in_child<listeners_result>(label, limit, [&](auto& send) {
    if (v == listener_variant::baseline)
      send(run_baseline(n, base, extra_cycles));
    else
      run_p2pd(v, n, base, data_dir, extra_cycles, send);
  });
}

} // namespace p2pd::bench
