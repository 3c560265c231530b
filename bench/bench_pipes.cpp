// bench_pipes: p2pd's pipes against a plain epoll echo server written here,
// both on loopback and driven by the same load generator.
//
//   bench_pipes           full run: 3 runs per cell, 20-s soak (about 100 s)
//   bench_pipes --quick   smoke run: short cells, 1 run, 4-s soak (CTest)
//
// Cells: TCP and UDP echo round trips/s with 1 and 50 closed-loop clients
// (64-byte messages, one outstanding per client), one-way TCP bulk MiB/s
// (256 MiB in 64 KiB writes, timed until the server has counted every byte;
// several transfers per run), and peak RSS. Each variant runs in forked
// children, so memory figures stay apart and no CAF actor system exists in
// the parent. Runs of the two variants alternate, so a load change on the
// machine hits both alike. A soak then runs TCP echo with 50 clients for 10
// windows of 2 s against each variant, with throughput and RSS per window.
//
// Exit status: 0 when everything ran, 1 when a server hung, lost, corrupted or
// refused messages, or a child failed. Missed targets are printed, not failed:
// on a shared 2-core machine they are not reproducible enough for CTest.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "p2pd/actors/runtime.hpp"

namespace {

using clk = std::chrono::steady_clock;
using seconds_d = std::chrono::duration<double>;

constexpr size_t msg_size = 64;
constexpr size_t bulk_write = 64 * 1024;
constexpr int max_transfers = 8;
constexpr int max_windows = 16;
constexpr std::array<int, 2> client_counts{1, 50};

// -- options ------------------------------------------------------------------

struct options {
  bool quick = false;
  int runs = 3;
  seconds_d warmup{0.3};
  seconds_d cell{2.0};
  uint64_t bulk_bytes = uint64_t{256} << 20;
  /// Transfers per run, each on a new connection, for a stable median.
  int bulk_transfers = 5;
  int soak_windows = 10;
  seconds_d soak_window{2.0};
};

options quick_options() {
  options o;
  o.quick = true;
  o.runs = 1;
  o.warmup = seconds_d{0.1};
  o.cell = seconds_d{0.5};
  o.bulk_transfers = 2;
  o.soak_windows = 2;
  return o;
}

// -- small system helpers -----------------------------------------------------

int check(int rc, const char* what) {
  if (rc < 0)
    throw std::system_error(errno, std::generic_category(), what);
  return rc;
}

bool would_block() {
  return errno == EAGAIN || errno == EWOULDBLOCK;
}

class unique_fd {
public:
  explicit unique_fd(int fd = -1) : fd_(fd) {}
  unique_fd(unique_fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  unique_fd& operator=(unique_fd&& other) noexcept {
    if (this != &other)
      reset(std::exchange(other.fd_, -1));
    return *this;
  }
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;
  ~unique_fd() { reset(); }

  int get() const { return fd_; }
  void reset(int fd = -1) {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = fd;
  }

private:
  int fd_;
};

sockaddr_in loopback(uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  return addr;
}

uint16_t local_port(int fd) {
  sockaddr_in addr{};
  socklen_t len = sizeof(addr);
  check(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), "getsockname");
  return ntohs(addr.sin_port);
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

// A non-blocking socket connected to 127.0.0.1:port (TCP: within 2 s).
unique_fd connect_loopback(int type, uint16_t port) {
  unique_fd fd{check(::socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), "socket")};
  auto addr = loopback(port);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    if (errno != EINPROGRESS)
      check(-1, "connect");
    pollfd p{fd.get(), POLLOUT, 0};
    if (check(::poll(&p, 1, 2000), "poll") == 0)
      throw std::runtime_error("connect to 127.0.0.1:" + std::to_string(port)
                               + " timed out");
    int err = 0;
    socklen_t len = sizeof(err);
    check(::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len), "SO_ERROR");
    if (err != 0)
      throw std::system_error(err, std::generic_category(), "connect");
  }
  if (type == SOCK_STREAM)
    set_nodelay(fd.get());
  return fd;
}

// A "Vm...:" field of /proc/self/status in KiB, -1 if missing.
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

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

// Copies `text` into a fixed buffer of a result sent between processes.
template <size_t N>
void set_text(char (&dst)[N], const std::string& text) {
  std::snprintf(dst, N, "%s", text.c_str());
}

template <size_t N>
void add_text(char (&dst)[N], const std::string& text) {
  std::string cur = dst;
  set_text(dst, cur.empty() ? text : cur + "; " + text);
}

// -- servers under test -------------------------------------------------------

enum class service { tcp_echo, tcp_sink, udp_echo };

class server {
public:
  virtual ~server() = default;
  virtual uint16_t port() const = 0;
  /// Bytes the sink has taken so far; read from the load generator's thread.
  virtual uint64_t received() const = 0;
  /// What the server counted as going wrong (drops, refused sends); empty if
  /// nothing. Call once the load has stopped.
  virtual std::string problems() = 0;
};

using server_factory = std::function<std::unique_ptr<server>(service)>;

/// The baseline: one thread, level-triggered epoll, non-blocking sockets.
class epoll_server final : public server {
public:
  explicit epoll_server(service svc) : svc_(svc) {
    bool udp = svc == service::udp_echo;
    int type = (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC;
    sock_.reset(check(::socket(AF_INET, type, 0), "socket"));
    auto addr = loopback(0);
    check(::bind(sock_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), "bind");
    if (!udp)
      check(::listen(sock_.get(), 1024), "listen");
    port_ = local_port(sock_.get());
    epoll_.reset(check(::epoll_create1(EPOLL_CLOEXEC), "epoll_create1"));
    stop_.reset(check(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), "eventfd"));
    epoll_watch(epoll_.get(), EPOLL_CTL_ADD, sock_.get(), EPOLLIN, tag(sock_.get()));
    epoll_watch(epoll_.get(), EPOLL_CTL_ADD, stop_.get(), EPOLLIN, tag(stop_.get()));
    buf_.resize(64 * 1024);
    thread_ = std::thread([this] { loop(); });
  }

  ~epoll_server() override {
    uint64_t one = 1;
    if (::write(stop_.get(), &one, sizeof(one)) != sizeof(one))
      std::perror("eventfd write");
    thread_.join();
  }

  uint16_t port() const override { return port_; }
  uint64_t received() const override { return received_.load(std::memory_order_relaxed); }
  std::string problems() override {
    return send_errors_ == 0 ? "" : std::to_string(send_errors_) + " failed sends";
  }

private:
  // Pending output of a TCP connection the kernel did not take at once.
  struct conn {
    unique_fd fd;
    std::vector<char> out;
    bool waiting = false; // for EPOLLOUT, not reading
  };

  static uint64_t tag(int fd) { return static_cast<uint64_t>(fd); }

  void loop() {
    std::array<epoll_event, 64> evs;
    for (;;) {
      int n = ::epoll_wait(epoll_.get(), evs.data(), static_cast<int>(evs.size()), -1);
      if (n < 0 && errno != EINTR)
        return;
      for (int i = 0; i < n; ++i) {
        int fd = static_cast<int>(evs[i].data.u64);
        if (fd == stop_.get())
          return;
        if (fd != sock_.get())
          on_conn(fd, evs[i].events);
        else if (svc_ == service::udp_echo)
          on_datagrams();
        else
          on_accept();
      }
    }
  }

  void on_accept() {
    for (int i = 0; i < 64; ++i) {
      int fd = ::accept4(sock_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0)
        return;
      set_nodelay(fd);
      conns_[fd].fd.reset(fd);
      epoll_watch(epoll_.get(), EPOLL_CTL_ADD, fd, EPOLLIN, tag(fd));
    }
  }

  // Reads until a short read (the socket is then most likely drained; level
  // triggering reports what came in since), at most 16 times per wakeup.
  void on_conn(int fd, uint32_t events) {
    auto i = conns_.find(fd);
    if (i == conns_.end())
      return;
    auto& c = i->second;
    if ((events & EPOLLOUT) != 0 && !write_out(c))
      return;
    if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) == 0 || !c.out.empty())
      return;
    for (int k = 0; k < 16; ++k) {
      auto n = ::recv(fd, buf_.data(), buf_.size(), 0);
      if (n < 0 && would_block())
        return;
      if (n <= 0) {
        drop(fd);
        return;
      }
      auto size = static_cast<size_t>(n);
      if (svc_ == service::tcp_sink)
        received_.fetch_add(size, std::memory_order_relaxed);
      else if (!echo(c, buf_.data(), size))
        return;
      if (size < buf_.size())
        return;
    }
  }

  // Sends `data` back; what the kernel does not take waits for EPOLLOUT, and
  // reading pauses until it is gone (backpressure). False: dropped.
  bool echo(conn& c, const char* data, size_t size) {
    c.out.insert(c.out.end(), data, data + size);
    return write_out(c);
  }

  bool write_out(conn& c) {
    size_t done = 0;
    while (done < c.out.size()) {
      auto n = ::send(c.fd.get(), c.out.data() + done, c.out.size() - done, MSG_NOSIGNAL);
      if (n < 0 && would_block())
        break;
      if (n < 0) {
        ++send_errors_;
        drop(c.fd.get());
        return false;
      }
      done += static_cast<size_t>(n);
    }
    c.out.erase(c.out.begin(), c.out.begin() + static_cast<std::ptrdiff_t>(done));
    bool wait = !c.out.empty();
    if (wait != c.waiting) {
      c.waiting = wait;
      epoll_watch(epoll_.get(), EPOLL_CTL_MOD, c.fd.get(), wait ? EPOLLOUT : EPOLLIN,
                  tag(c.fd.get()));
    }
    return true;
  }

  void drop(int fd) {
    conns_.erase(fd); // closing the socket removes it from the epoll set
  }

  void on_datagrams() {
    for (int i = 0; i < 64; ++i) {
      sockaddr_storage from{};
      socklen_t len = sizeof(from);
      auto n = ::recvfrom(sock_.get(), buf_.data(), buf_.size(), 0,
                          reinterpret_cast<sockaddr*>(&from), &len);
      if (n < 0)
        return;
      if (::sendto(sock_.get(), buf_.data(), static_cast<size_t>(n), 0,
                   reinterpret_cast<sockaddr*>(&from), len)
          < 0)
        ++send_errors_;
    }
  }

  service svc_;
  unique_fd sock_;
  unique_fd epoll_;
  unique_fd stop_;
  uint16_t port_ = 0;
  std::vector<char> buf_;
  std::unordered_map<int, conn> conns_;
  std::atomic<uint64_t> received_{0};
  std::atomic<uint64_t> send_errors_{0};
  std::thread thread_;
};

/// p2pd: a listening pipe with an inline handler (it runs on CAF's I/O thread).
/// Construct, query and destroy it on the runtime's thread only.
class p2pd_server final : public server {
public:
  p2pd_server(p2pd::runtime& rt, service svc) : rt_(rt), svc_(svc) {
    auto proto = svc == service::udp_echo ? p2pd::udp : p2pd::tcp;
    p2pd::endpoint local{p2pd::net::ip_address::loopback(p2pd::net::family::v4), 0};
    auto res = rt.listen(proto, local, handler(svc, received_));
    if (!res)
      throw std::runtime_error("p2pd listen failed: " + rt.system().render(res.error()));
    pipe_.emplace(std::move(*res));
  }

  ~p2pd_server() override {
    if (auto err = pipe_->close())
      std::cerr << "p2pd close failed: " << rt_.system().render(err) << std::endl;
  }

  uint16_t port() const override { return pipe_->local().port; }
  uint64_t received() const override { return received_->load(std::memory_order_relaxed); }

  std::string problems() override {
    auto st = pipe_->stats();
    if (!st)
      return "stats failed: " + rt_.system().render(st.error());
    std::string out;
    auto note = [&](const char* what, uint64_t n) {
      if (n != 0)
        out += (out.empty() ? "" : ", ") + std::to_string(n) + " " + what;
    };
    note("clients_shed", st->clients_shed);
    note("dropped_unclaimed", st->dropped_unclaimed);
    note("dropped_queue_full", st->dropped_queue_full);
    note("dropped_oversized", st->dropped_oversized);
    note("dropped_send", st->dropped_send);
    note("rx_errors", st->rx_errors);
    if (svc_ == service::tcp_sink && st->rx_bytes != received())
      out += (out.empty() ? "" : ", ") + std::string{"rx_bytes "}
             + std::to_string(st->rx_bytes) + " != handler's "
             + std::to_string(received());
    return out;
  }

private:
  using counter_ptr = std::shared_ptr<std::atomic<uint64_t>>;

  static p2pd::msg_handler handler(service svc, const counter_ptr& counter) {
    if (svc == service::tcp_sink)
      return [counter](p2pd::pipe_io&, std::string_view data, const p2pd::endpoint&) {
        counter->fetch_add(data.size(), std::memory_order_relaxed);
      };
    // A refused reply is counted by the pipe (dropped_send, see problems()).
    return [](p2pd::pipe_io& io, std::string_view data, const p2pd::endpoint&) {
      io.reply(data);
    };
  }

  p2pd::runtime& rt_;
  service svc_;
  counter_ptr received_ = std::make_shared<std::atomic<uint64_t>>(0);
  std::optional<p2pd::pipe> pipe_;
};

// -- the load generator -------------------------------------------------------

/// When a closed-loop run measures: after `warmup`, `windows` windows.
struct schedule {
  seconds_d warmup;
  seconds_d window;
  int windows;
};

struct echo_outcome {
  std::vector<double> rates; ///< round trips/s per window
  uint64_t resends = 0;      ///< UDP: datagrams sent again after 200 ms unanswered
  uint64_t stale = 0;        ///< UDP: answers to a message already answered
  uint64_t corrupt = 0;      ///< echoes that differ from what was sent
  uint64_t dead_clients = 0; ///< connections that failed or were closed
};

/// Called when measuring starts (index -1) and after each window.
using window_fn = std::function<void(int index, double rate)>;

/// N clients on plain non-blocking sockets in one epoll loop; each keeps one
/// 64-byte message outstanding and sends the next when all of it came back.
/// A message is its sequence number and a filler that differs per client, so
/// a reply to the wrong client or out of order shows as corrupt.
class echo_load {
public:
  echo_load(bool udp, uint16_t port, int clients) : udp_(udp) {
    epoll_.reset(check(::epoll_create1(EPOLL_CLOEXEC), "epoll_create1"));
    clients_.resize(static_cast<size_t>(clients));
    for (size_t i = 0; i < clients_.size(); ++i) {
      clients_[i].fd = connect_loopback(udp ? SOCK_DGRAM : SOCK_STREAM, port);
      epoll_watch(epoll_.get(), EPOLL_CTL_ADD, clients_[i].fd.get(), EPOLLIN, i);
    }
  }

  echo_outcome run(const schedule& s, const window_fn& on_window) {
    for (size_t i = 0; i < clients_.size(); ++i)
      start_message(i);
    auto start = clk::now();
    auto measure_from = start + std::chrono::duration_cast<clk::duration>(s.warmup);
    auto window_len = std::chrono::duration_cast<clk::duration>(s.window);
    auto next_boundary = measure_from;
    auto window_start = start;
    auto next_resend_scan = start + std::chrono::milliseconds(50);
    int window = -1; // -1: warming up
    std::array<epoll_event, 64> evs;
    while (window < s.windows) {
      int n = ::epoll_wait(epoll_.get(), evs.data(), static_cast<int>(evs.size()), 5);
      if (n < 0 && errno != EINTR)
        check(-1, "epoll_wait");
      for (int k = 0; k < n; ++k)
        on_event(evs[k].data.u64, evs[k].events);
      auto now = clk::now();
      if (now >= next_boundary) {
        double rate = static_cast<double>(count_) / seconds_d(now - window_start).count();
        if (window >= 0)
          out_.rates.push_back(rate);
        on_window(window, rate);
        ++window;
        count_ = 0;
        window_start = now;
        next_boundary = measure_from + window_len * (window + 1);
      }
      if (udp_ && now >= next_resend_scan) {
        resend_overdue(now);
        next_resend_scan = now + std::chrono::milliseconds(50);
      }
    }
    return out_;
  }

private:
  struct client {
    unique_fd fd;
    uint64_t seq = 0;
    size_t sent = 0; // TCP: bytes of the message written so far
    size_t got = 0;  // TCP: bytes of its echo read so far
    bool dead = false;
    bool want_out = false;
    clk::time_point sent_at;
    std::array<char, msg_size> out{};
    std::array<char, 2048> in{};
  };

  void start_message(size_t i) {
    auto& c = clients_[i];
    std::memcpy(c.out.data(), &c.seq, sizeof(c.seq));
    std::memset(c.out.data() + sizeof(c.seq), 'a' + static_cast<int>(i % 26),
                msg_size - sizeof(c.seq));
    c.sent = c.got = 0;
    if (udp_)
      send_datagram(c);
    else
      write_rest(i);
  }

  void send_datagram(client& c) {
    c.sent_at = clk::now();
    // A datagram the kernel refuses counts as lost: resend_overdue retries it.
    if (::send(c.fd.get(), c.out.data(), msg_size, 0) < 0 && !would_block())
      drop_client(c);
  }

  void write_rest(size_t i) {
    auto& c = clients_[i];
    while (c.sent < msg_size) {
      auto n = ::send(c.fd.get(), c.out.data() + c.sent, msg_size - c.sent, MSG_NOSIGNAL);
      if (n < 0 && would_block())
        break;
      if (n < 0) {
        drop_client(c);
        return;
      }
      c.sent += static_cast<size_t>(n);
    }
    bool want_out = c.sent < msg_size;
    if (want_out != c.want_out) {
      c.want_out = want_out;
      epoll_watch(epoll_.get(), EPOLL_CTL_MOD, c.fd.get(),
                  EPOLLIN | (want_out ? EPOLLOUT : 0u), i);
    }
  }

  void on_event(uint64_t i, uint32_t events) {
    auto& c = clients_[i];
    if (c.dead)
      return;
    if (udp_) {
      on_datagrams(i);
      return;
    }
    if ((events & EPOLLOUT) != 0)
      write_rest(i);
    if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0 && !c.dead)
      on_stream_data(i);
  }

  void on_stream_data(size_t i) {
    auto& c = clients_[i];
    auto n = ::recv(c.fd.get(), c.in.data() + c.got, msg_size - c.got, 0);
    if (n < 0 && would_block())
      return;
    if (n <= 0) {
      drop_client(c);
      return;
    }
    c.got += static_cast<size_t>(n);
    if (c.got < msg_size)
      return; // a partial echo: the rest follows
    complete(i);
  }

  void on_datagrams(size_t i) {
    auto& c = clients_[i];
    for (int k = 0; k < 16; ++k) {
      auto n = ::recv(c.fd.get(), c.in.data(), c.in.size(), 0);
      if (n < 0 && would_block())
        return;
      if (n < 0) {
        drop_client(c);
        return;
      }
      uint64_t seq = 0;
      if (static_cast<size_t>(n) == msg_size)
        std::memcpy(&seq, c.in.data(), sizeof(seq));
      if (static_cast<size_t>(n) == msg_size && seq < c.seq)
        ++out_.stale; // the answer to a resent datagram came twice
      else
        complete(i);
    }
  }

  void complete(size_t i) {
    auto& c = clients_[i];
    if (std::memcmp(c.in.data(), c.out.data(), msg_size) != 0)
      ++out_.corrupt;
    else
      ++count_;
    ++c.seq;
    start_message(i);
  }

  void resend_overdue(clk::time_point now) {
    for (auto& c : clients_)
      if (!c.dead && now - c.sent_at > std::chrono::milliseconds(200)) {
        ++out_.resends;
        send_datagram(c);
      }
  }

  void drop_client(client& c) {
    if (c.dead)
      return;
    c.dead = true;
    ++out_.dead_clients;
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, c.fd.get(), nullptr);
  }

  bool udp_;
  unique_fd epoll_;
  std::vector<client> clients_;
  uint64_t count_ = 0;
  echo_outcome out_;
};

echo_outcome run_echo(server& srv, bool udp, int clients, const schedule& s,
                      const window_fn& on_window = [](int, double) {}) {
  echo_load load{udp, srv.port(), clients};
  return load.run(s, on_window);
}

/// Makes the bulk sender use Reno. With BBR (this machine's default) a
/// loopback connection settles, at random, at about 2 or about 6 GB/s for
/// either server, which swamps the difference between the servers; Reno
/// (allowed to unprivileged users by default) runs steadily at the top rate.
void use_reno(int fd) {
  static bool warned = false;
  const char name[] = "reno";
  if (::setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, name, sizeof(name) - 1) != 0
      && !std::exchange(warned, true))
    std::fprintf(stderr, "bulk: TCP_CONGESTION reno failed (%s); default kept\n",
                 std::strerror(errno));
}

/// One client writes `total` bytes in 64 KiB writes as fast as the socket
/// takes them; timed until the server counted all of them. 0 if not within
/// `limit`.
double run_bulk(server& srv, uint64_t total, seconds_d limit) {
  auto fd = connect_loopback(SOCK_STREAM, srv.port());
  use_reno(fd.get());
  unique_fd epfd{check(::epoll_create1(EPOLL_CLOEXEC), "epoll_create1")};
  epoll_watch(epfd.get(), EPOLL_CTL_ADD, fd.get(), EPOLLOUT, 0);
  std::vector<char> chunk(bulk_write, 'b');
  auto base = srv.received();
  auto t0 = clk::now();
  auto deadline = t0 + std::chrono::duration_cast<clk::duration>(limit);
  uint64_t written = 0;
  while (written < total && clk::now() < deadline) {
    size_t off = written % bulk_write; // the rest of a write the kernel cut short
    auto n = ::send(fd.get(), chunk.data() + off, bulk_write - off, MSG_NOSIGNAL);
    if (n > 0) {
      written += static_cast<uint64_t>(n);
      continue;
    }
    if (n < 0 && !would_block())
      check(-1, "bulk send");
    epoll_event ev;
    ::epoll_wait(epfd.get(), &ev, 1, 10);
  }
  // A short sleep, not a spin: the server needs the CPU more than we do.
  while (srv.received() - base < total && clk::now() < deadline)
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  auto elapsed = seconds_d(clk::now() - t0).count();
  if (srv.received() - base != total)
    return 0;
  return static_cast<double>(total) / (1 << 20) / elapsed;
}

// -- results passed from the children ----------------------------------------

/// What one child measured: every cell once, then the peak RSS.
struct cells_result {
  double tcp_rt[2] = {}; ///< round trips/s with client_counts[0] and [1]
  double udp_rt[2] = {};
  double bulk_mib_s[max_transfers] = {};
  int bulk_n = 0;
  long peak_rss_kib = 0;
  uint64_t resends = 0;
  uint64_t stale = 0;
  uint64_t corrupt = 0;
  uint64_t dead_clients = 0;
  char problems[1024] = {};
  char error[512] = {};
};

struct soak_result {
  int windows = 0;
  double rate[max_windows] = {};
  double rss_mib[max_windows + 1] = {}; ///< at the start, then after each window
  uint64_t corrupt = 0;
  uint64_t dead_clients = 0;
  char problems[1024] = {};
  char error[512] = {};
};

// -- what a child runs --------------------------------------------------------

enum class variant { p2pd, baseline };

const char* name_of(variant v) {
  return v == variant::p2pd ? "p2pd" : "baseline";
}

/// Runs `body` with a factory of `v`'s servers. For p2pd the runtime is
/// created here, i.e. in the child, and destroyed after `body` returns.
template <class Body>
void with_servers(variant v, Body&& body) {
  if (v == variant::p2pd) {
    p2pd::runtime rt;
    server_factory make = [&rt](service s) { return std::make_unique<p2pd_server>(rt, s); };
    body(make);
  } else {
    server_factory make = [](service s) { return std::make_unique<epoll_server>(s); };
    body(make);
  }
}

std::string clients_label(int n) {
  return std::to_string(n) + (n == 1 ? " client" : " clients");
}

void note_problems(cells_result& r, const char* what, server& srv) {
  auto p = srv.problems();
  if (!p.empty())
    add_text(r.problems, std::string{what} + ": " + p);
}

void record(cells_result& r, const echo_outcome& o) {
  r.resends += o.resends;
  r.stale += o.stale;
  r.corrupt += o.corrupt;
  r.dead_clients += o.dead_clients;
}

void log_cell(variant v, int run, const std::string& cell, double value, const char* unit) {
  std::printf("  run %d  %-8s  %-24s %12.0f %s\n", run + 1, name_of(v), cell.c_str(), value,
              unit);
  std::fflush(stdout);
}

cells_result measure_cells(variant v, int run, const server_factory& make,
                           const options& o) {
  cells_result r;
  schedule s{o.warmup, o.cell, 1};
  for (bool udp : {false, true}) {
    for (size_t k = 0; k < client_counts.size(); ++k) {
      auto srv = make(udp ? service::udp_echo : service::tcp_echo);
      auto out = run_echo(*srv, udp, client_counts[k], s);
      double rate = out.rates.empty() ? 0 : out.rates.front();
      (udp ? r.udp_rt : r.tcp_rt)[k] = rate;
      record(r, out);
      auto cell = std::string{udp ? "udp" : "tcp"} + " echo, " + clients_label(client_counts[k]);
      note_problems(r, cell.c_str(), *srv);
      log_cell(v, run, cell, rate, "rt/s");
    }
  }
  for (int i = 0; i < std::min(o.bulk_transfers, max_transfers); ++i) {
    auto sink = make(service::tcp_sink);
    r.bulk_mib_s[r.bulk_n++] = run_bulk(*sink, o.bulk_bytes, seconds_d{30});
    note_problems(r, "tcp bulk", *sink);
    log_cell(v, run, "tcp bulk, transfer " + std::to_string(i + 1), r.bulk_mib_s[i], "MiB/s");
  }
  r.peak_rss_kib = proc_status_kib("VmHWM");
  return r;
}

soak_result soak(const server_factory& make, const options& o) {
  soak_result r;
  auto srv = make(service::tcp_echo);
  schedule s{o.warmup, o.soak_window, std::min(o.soak_windows, max_windows)};
  auto out = run_echo(*srv, false, client_counts[1], s, [&](int i, double rate) {
    if (i >= 0)
      r.rate[i] = rate;
    r.rss_mib[i + 1] = mib(proc_status_kib("VmRSS"));
  });
  r.windows = static_cast<int>(out.rates.size());
  r.corrupt = out.corrupt;
  r.dead_clients = out.dead_clients;
  set_text(r.problems, srv->problems());
  return r;
}

// -- children -----------------------------------------------------------------

void write_all(int fd, const void* data, size_t size) {
  auto* p = static_cast<const char*>(data);
  while (size > 0) {
    auto n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return;
    p += n;
    size -= static_cast<size_t>(n);
  }
}

// Reads one Result from `fd` within `limit`; false on EOF or timeout.
template <class Result>
bool read_result(int fd, Result& r, seconds_d limit) {
  auto deadline = clk::now() + std::chrono::duration_cast<clk::duration>(limit);
  auto* p = reinterpret_cast<char*>(&r);
  size_t got = 0;
  while (got < sizeof(Result)) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clk::now());
    if (left.count() <= 0)
      return false;
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0)
      continue;
    auto n = ::read(fd, p + got, sizeof(Result) - got);
    if (n <= 0)
      return false;
    got += static_cast<size_t>(n);
  }
  return true;
}

// Waits up to `limit` for the child to exit, then kills it. Returns a
// description of anything but a clean exit.
std::string reap(pid_t pid, seconds_d limit) {
  auto deadline = clk::now() + std::chrono::duration_cast<clk::duration>(limit);
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (clk::now() >= deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return "did not exit within " + std::to_string(static_cast<int>(limit.count()))
             + " s of reporting; killed";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (WIFSIGNALED(status))
    return "killed by signal " + std::to_string(WTERMSIG(status));
  if (WEXITSTATUS(status) != 0)
    return "exit status " + std::to_string(WEXITSTATUS(status));
  return {};
}

/// Runs `body(send)` in a forked child; `send(result)` hands the result to
/// the parent. The child's teardown after that is watched too: a hang there
/// is reported, and the child killed. Error text ends up in Result::error.
template <class Result, class Body>
Result run_in_child(const std::string& label, seconds_d limit, Body&& body) {
  static_assert(std::is_trivially_copyable_v<Result>);
  std::fflush(stdout); // else the child would print the parent's buffer again
  std::cout.flush();
  int fds[2];
  check(::pipe2(fds, O_CLOEXEC), "pipe2");
  pid_t pid = check(::fork(), "fork");
  if (pid == 0) {
    ::close(fds[0]);
    bool sent = false;
    int status = 0;
    auto send = [&](const Result& r) {
      write_all(fds[1], &r, sizeof(r));
      sent = true;
    };
    try {
      body(send);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s: %s\n", label.c_str(), e.what());
      status = 1;
      if (!sent) {
        Result r;
        set_text(r.error, e.what());
        send(r);
      }
    }
    ::close(fds[1]);
    std::fflush(stdout);
    std::cout.flush();
    ::_exit(status);
  }
  ::close(fds[1]);
  Result r;
  bool got = read_result(fds[0], r, limit);
  ::close(fds[0]);
  if (!got) {
    ::kill(pid, SIGKILL);
    set_text(r.error, label + ": no result within "
                        + std::to_string(static_cast<int>(limit.count()))
                        + " s (hang or crash)");
  }
  auto exit_problem = reap(pid, seconds_d{10});
  if (got && !exit_problem.empty())
    add_text(r.error, label + ": child " + exit_problem);
  return r;
}

cells_result run_cells_child(variant v, int run, const options& o) {
  return run_in_child<cells_result>(name_of(v), seconds_d{120}, [&](auto& send) {
    with_servers(v, [&](const server_factory& make) { send(measure_cells(v, run, make, o)); });
  });
}

soak_result run_soak_child(variant v, const options& o) {
  auto limit = o.soak_window * o.soak_windows + seconds_d{60};
  return run_in_child<soak_result>(name_of(v), limit, [&](auto& send) {
    with_servers(v, [&](const server_factory& make) { send(soak(make, o)); });
  });
}

// -- the report ---------------------------------------------------------------

double median(std::vector<double> xs) {
  if (xs.empty())
    return 0;
  std::sort(xs.begin(), xs.end());
  auto mid = xs.size() / 2;
  return xs.size() % 2 == 1 ? xs[mid] : (xs[mid - 1] + xs[mid]) / 2;
}

struct variant_runs {
  std::vector<cells_result> runs;

  double median_of(const std::function<double(const cells_result&)>& f) const {
    std::vector<double> xs;
    for (auto& r : runs)
      xs.push_back(f(r));
    return median(xs);
  }
  double median_bulk() const {
    std::vector<double> xs;
    for (auto& r : runs)
      xs.insert(xs.end(), r.bulk_mib_s, r.bulk_mib_s + r.bulk_n);
    return median(xs);
  }
  double peak_rss_mib() const {
    long peak = 0;
    for (auto& r : runs)
      peak = std::max(peak, r.peak_rss_kib);
    return mib(peak);
  }
};

std::string verdict(double ratio, double target, bool higher_is_better = true) {
  if (target <= 0)
    return "";
  bool ok = higher_is_better ? ratio >= target : ratio <= target;
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%s %.2f %s", higher_is_better ? ">=" : "<=", target,
                ok ? "ok" : "MISS");
  return buf;
}

void print_row(const char* metric, double p, double b, double target,
               bool higher_is_better = true) {
  double ratio = b > 0 ? p / b : 0;
  std::printf("| %-24s | %12.1f | %12.1f | %6.2f | %-12s |\n", metric, p, b, ratio,
              verdict(ratio, target, higher_is_better).c_str());
}

void print_cells_table(const variant_runs& p, const variant_runs& b, const options& o) {
  std::printf("\n%d-byte messages, loopback 127.0.0.1, %.1f s per cell after %.1f s "
              "warm-up, median of %d run%s; bulk: median of %d transfers of %llu MiB in "
              "%zu KiB writes\n\n",
              static_cast<int>(msg_size), o.cell.count(), o.warmup.count(), o.runs,
              o.runs == 1 ? "" : "s", o.runs * o.bulk_transfers,
              static_cast<unsigned long long>(o.bulk_bytes >> 20),
              bulk_write / 1024);
  std::printf("| %-24s | %12s | %12s | %6s | %-12s |\n", "metric", "p2pd", "baseline",
              "ratio", "target");
  std::printf("|%s|%s|%s|%s|%s|\n", std::string(26, '-').c_str(),
              std::string(14, '-').c_str(), std::string(14, '-').c_str(),
              std::string(8, '-').c_str(), std::string(14, '-').c_str());
  for (size_t k = 0; k < client_counts.size(); ++k) {
    auto label = "tcp rt/s, " + clients_label(client_counts[k]);
    print_row(label.c_str(), p.median_of([k](auto& r) { return r.tcp_rt[k]; }),
              b.median_of([k](auto& r) { return r.tcp_rt[k]; }), 0.85);
  }
  for (size_t k = 0; k < client_counts.size(); ++k) {
    auto label = "udp rt/s, " + clients_label(client_counts[k]);
    print_row(label.c_str(), p.median_of([k](auto& r) { return r.udp_rt[k]; }),
              b.median_of([k](auto& r) { return r.udp_rt[k]; }), 0.85);
  }
  print_row("tcp bulk MiB/s", p.median_bulk(), b.median_bulk(), 0.9);
  print_row("peak RSS MiB", p.peak_rss_mib(), b.peak_rss_mib(), 0, false);
}

// Prints what went wrong in a variant's runs; true if anything did.
bool print_cell_problems(variant v, const variant_runs& vr) {
  bool failed = false;
  for (size_t i = 0; i < vr.runs.size(); ++i) {
    auto& r = vr.runs[i];
    auto say = [&](const std::string& what) {
      std::printf("%s run %zu: %s\n", name_of(v), i + 1, what.c_str());
    };
    if (r.error[0] != '\0') {
      say(std::string{"ERROR "} + r.error);
      failed = true;
    }
    if (r.corrupt + r.dead_clients > 0) {
      say(std::to_string(r.corrupt) + " corrupt echoes, " + std::to_string(r.dead_clients)
          + " failed client connections");
      failed = true;
    }
    auto none = [](double x) { return x <= 0; };
    bool zero = r.bulk_n == 0 || std::any_of(r.bulk_mib_s, r.bulk_mib_s + r.bulk_n, none);
    for (size_t k = 0; k < client_counts.size(); ++k)
      zero = zero || r.tcp_rt[k] <= 0 || r.udp_rt[k] <= 0;
    if (zero && r.error[0] == '\0') {
      say("a cell measured nothing (stalled, or bulk not received within 30 s)");
      failed = true;
    }
    if (r.problems[0] != '\0') {
      say(std::string{"server counted: "} + r.problems);
      failed = true;
    }
    if (r.resends + r.stale > 0) // UDP loss on loopback: reported, not failed
      say("udp: " + std::to_string(r.resends) + " resends after 200 ms, "
          + std::to_string(r.stale) + " duplicate answers");
  }
  return failed;
}

double late_over_early(const soak_result& r) {
  return r.windows >= 2 && r.rate[0] > 0 ? r.rate[r.windows - 1] / r.rate[0] : 0;
}

double rss_growth(const soak_result& r) {
  return r.rss_mib[0] > 0 ? r.rss_mib[r.windows] / r.rss_mib[0] : 0;
}

// Prints the soak; true if it failed.
bool print_soak(const soak_result& p, const soak_result& b, const options& o) {
  std::printf("\nsoak: tcp echo, %d clients, %d windows of %.0f s after %.1f s warm-up\n\n",
              client_counts[1], o.soak_windows, o.soak_window.count(), o.warmup.count());
  std::printf("| %-9s | %12s | %9s | %12s | %9s |\n", "window", "p2pd rt/s", "RSS MiB",
              "baseline rt/s", "RSS MiB");
  std::printf("| %-9s | %12s | %9.1f | %12s | %9.1f |\n", "start", "", p.rss_mib[0], "",
              b.rss_mib[0]);
  int n = std::max(p.windows, b.windows);
  for (int i = 0; i < n; ++i) {
    auto w = o.soak_window.count();
    char label[32];
    std::snprintf(label, sizeof(label), "%.0f-%.0f s", w * i, w * (i + 1));
    std::printf("| %-9s | %12.0f | %9.1f | %12.0f | %9.1f |\n", label, p.rate[i],
                p.rss_mib[i + 1], b.rate[i], b.rss_mib[i + 1]);
  }
  std::printf("\nlate/early throughput (last window / first): p2pd %.3f, baseline %.3f  "
              "(p2pd target %s)\n",
              late_over_early(p), late_over_early(b),
              verdict(late_over_early(p), 0.95).c_str());
  std::printf("RSS end/start: p2pd %.3f (%.1f -> %.1f MiB, %+.2f), baseline %.3f (%.1f -> "
              "%.1f MiB, %+.2f)  (p2pd target %s)\n",
              rss_growth(p), p.rss_mib[0], p.rss_mib[p.windows],
              p.rss_mib[p.windows] - p.rss_mib[0], rss_growth(b), b.rss_mib[0],
              b.rss_mib[b.windows], b.rss_mib[b.windows] - b.rss_mib[0],
              verdict(rss_growth(p), 1.05, false).c_str());
  bool failed = false;
  for (auto* r : {&p, &b}) {
    const char* name = r == &p ? "p2pd" : "baseline";
    if (r->error[0] != '\0')
      std::printf("%s soak: ERROR %s\n", name, r->error);
    if (r->corrupt + r->dead_clients > 0)
      std::printf("%s soak: %llu corrupt echoes, %llu failed connections\n", name,
                  static_cast<unsigned long long>(r->corrupt),
                  static_cast<unsigned long long>(r->dead_clients));
    if (r->problems[0] != '\0')
      std::printf("%s soak: server counted: %s\n", name, r->problems);
    bool stalled = std::any_of(r->rate, r->rate + r->windows, [](double x) { return x <= 0; });
    if (stalled)
      std::printf("%s soak: a window had no round trip (stall)\n", name);
    failed = failed || r->error[0] != '\0' || r->corrupt + r->dead_clients > 0
             || r->problems[0] != '\0' || stalled || r->windows != o.soak_windows;
  }
  return failed;
}

int usage(const char* prog) {
  std::fprintf(stderr, "usage: %s [--quick]\n", prog);
  return 2;
}

} // namespace

int main(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0)
      o = quick_options();
    else
      return usage(argv[0]);
  }
  // A peer gone mid-write must show as an error, not end the benchmark.
  std::signal(SIGPIPE, SIG_IGN);
  std::printf("bench_pipes%s: %u cores, load average %s (other work skews the ratios)\n",
              o.quick ? " --quick" : "", std::thread::hardware_concurrency(),
              load_average().c_str());
  variant_runs p2pd_runs, baseline_runs;
  for (int run = 0; run < o.runs; ++run) {
    p2pd_runs.runs.push_back(run_cells_child(variant::p2pd, run, o));
    baseline_runs.runs.push_back(run_cells_child(variant::baseline, run, o));
  }
  print_cells_table(p2pd_runs, baseline_runs, o);
  std::printf("\n");
  bool failed = print_cell_problems(variant::p2pd, p2pd_runs);
  failed = print_cell_problems(variant::baseline, baseline_runs) || failed;

  std::printf("\nsoak running (%.0f s per variant) ...\n",
              (o.soak_window * o.soak_windows + o.warmup).count());
  auto p2pd_soak = run_soak_child(variant::p2pd, o);
  auto baseline_soak = run_soak_child(variant::baseline, o);
  failed = print_soak(p2pd_soak, baseline_soak, o) || failed;
  std::printf("\nload average at the end: %s\n", load_average().c_str());
  return failed ? 1 : 0;
}
