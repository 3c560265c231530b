#include "echo_load.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <thread>
#include <utility>

namespace p2pd::bench {

namespace {

/// N clients on plain non-blocking sockets in one epoll loop; each keeps one
/// 64-byte message outstanding and sends the next when all of it came back.
/// A message is its sequence number and a filler that differs per client, so
/// a reply to the wrong client or out of order shows as corrupt.
class echo_load {
public:
  echo_load(bool udp, uint16_t port, int clients) : udp_(udp) {
    epoll_ = net::unique_fd{check(::epoll_create1(EPOLL_CLOEXEC), "epoll_create1")};
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
    net::unique_fd fd;
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
  net::unique_fd epoll_;
  std::vector<client> clients_;
  uint64_t count_ = 0;
  echo_outcome out_;
};

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

} // namespace

echo_outcome run_echo(server& srv, bool udp, int clients, const schedule& s,
                      const window_fn& on_window) {
  echo_load load{udp, srv.port(), clients};
  return load.run(s, on_window);
}

double run_bulk(server& srv, uint64_t total, seconds_d limit) {
  auto fd = connect_loopback(SOCK_STREAM, srv.port());
  use_reno(fd.get());
  net::unique_fd epfd{check(::epoll_create1(EPOLL_CLOEXEC), "epoll_create1")};
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

} // namespace p2pd::bench
