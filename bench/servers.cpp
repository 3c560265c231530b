#include "servers.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "p2pd/api/runtime.hpp"

#include "sys_util.hpp"

namespace p2pd::bench {

namespace {

class epoll_server final : public server {
public:
  // The socket comes from p2pd::net's plain helpers (socket, bind, listen: the
  // same system calls as by hand); everything after is epoll, as the baseline.
  explicit epoll_server(service svc) : svc_(svc) {
    if (svc == service::udp_echo)
      sock_ = unwrap(net::open_bound_socket(net::protocol::udp, loopback(0)));
    else
      sock_ = unwrap(net::open_listener(loopback(0), {}, 1024));
    port_ = unwrap(net::local_endpoint(sock_.get())).port;
    epoll_ = net::unique_fd{check(::epoll_create1(EPOLL_CLOEXEC), "epoll_create1")};
    stop_ = net::unique_fd{check(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), "eventfd")};
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
    net::unique_fd fd;
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
      conns_[fd].fd = net::unique_fd{fd};
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
  net::unique_fd sock_;
  net::unique_fd epoll_;
  net::unique_fd stop_;
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
    auto res = rt.listen(proto, loopback(0), handler(svc, received_));
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
    note_count(out, "clients_shed", st->clients_shed);
    note_count(out, "dropped_unclaimed", st->dropped_unclaimed);
    note_count(out, "dropped_queue_full", st->dropped_queue_full);
    note_count(out, "dropped_oversized", st->dropped_oversized);
    note_count(out, "dropped_send", st->dropped_send);
    note_count(out, "rx_errors", st->rx_errors);
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
  std::optional<p2pd::pipe_handle> pipe_;
};

} // namespace

std::unique_ptr<server> make_epoll_server(service svc) {
  return std::make_unique<epoll_server>(svc);
}

std::unique_ptr<server> make_p2pd_server(runtime& rt, service svc) {
  return std::make_unique<p2pd_server>(rt, svc);
}

} // namespace p2pd::bench
