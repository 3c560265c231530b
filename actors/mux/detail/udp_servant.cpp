#include "p2pd/actors/mux/detail/udp_servant.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

#include "caf/actor_system_config.hpp"
#include "caf/config_value.hpp"
#include "caf/defaults.hpp"

namespace p2pd::actors::mux {

namespace {

// recvfrom() errors that must not kill an unconnected UDP socket: ICMP errors
// of earlier sends surface here.
bool transient_rx_error(int err) {
  switch (err) {
    case EINTR:
    case ECONNREFUSED:
    case EHOSTUNREACH:
    case ENETUNREACH:
    case EMSGSIZE:
    case ENOMEM:
    case ENOBUFS:
      return true;
    default:
      return false;
  }
}

} // namespace

udp_servant::udp_servant(caf::io::network::default_multiplexer& dm, int fd,
                         size_t read_limit, size_t max_queued)
  : caf::io::datagram_servant(caf::io::datagram_handle::from_int(dm.next_endpoint_id())),
    handler_(dm, fd, *this),
    rd_buf_(read_limit),
    read_limit_(read_limit),
    max_queued_(max_queued),
    max_reads_(caf::get_or(dm.system().config(), "middleman.max-consecutive-reads",
                           caf::defaults::middleman::max_consecutive_reads)) {
  if (max_reads_ == 0)
    max_reads_ = 1;
}

udp_servant::~udp_servant() {
  // ~event_handler (handler_) closes the socket.
}

int udp_servant::send_to(const net::endpoint& to, const char* data, size_t size) {
  sockaddr_storage ss;
  auto len = to.to_sockaddr(ss);
  if (queue_.empty()) {
    for (;;) {
      auto n = ::sendto(handler_.fd(), data, size, MSG_NOSIGNAL,
                        reinterpret_cast<sockaddr*>(&ss), len);
      if (n >= 0) {
        ++stats_.tx;
        return 0;
      }
      if (errno == EINTR)
        continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS) {
        ++stats_.tx_dropped;
        return errno;
      }
      break; // socket buffer full: queue it
    }
  }
  if (queue_.size() >= max_queued_) {
    ++stats_.tx_dropped;
    return ENOBUFS;
  }
  queue_.push_back(job{to, std::vector<char>(data, data + size)});
  ++stats_.tx_queued;
  handler_.want(operation::write, true);
  return 0;
}

void udp_servant::on_event(operation op) {
  switch (op) {
    case operation::read:
      on_read();
      break;
    case operation::write:
      drain();
      break;
    case operation::propagate_error:
      // EPOLLERR/EPOLLHUP without IN/OUT; the multiplexer drops the fd after.
      handler_.forget();
      io_failure(&handler_.backend(), operation::read);
      break;
  }
}

namespace {

bool hung_up(int fd) {
  pollfd p{fd, POLLIN, 0};
  // Not POLLERR: a pending ICMP error is transient, and recvfrom() reports it.
  return ::poll(&p, 1, 0) == 1 && (p.revents & POLLHUP) != 0;
}

} // namespace

void udp_servant::on_read() {
  auto& dm = handler_.backend();
  for (size_t i = 0; i < max_reads_; ++i) {
    if (!handler_.wants(operation::read) || detached())
      return;
    rd_buf_.resize(read_limit_);
    sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    // MSG_TRUNC: the return value is the datagram's real length, so one that
    // does not fit is recognised instead of being delivered cut short.
    auto n = ::recvfrom(handler_.fd(), rd_buf_.data(), rd_buf_.size(), MSG_TRUNC,
                        reinterpret_cast<sockaddr*>(&ss), &len);
    if (n < 0) {
      auto err = errno;
      if (err == EAGAIN || err == EWOULDBLOCK) {
        // Readable, yet nothing to read on the first try: epoll may report
        // EPOLLIN with EPOLLHUP (the socket was shut down), which CAF's
        // multiplexer passes on as a read event only, again and again.
        if (i == 0 && hung_up(handler_.fd())) {
          handler_.want(operation::read, false);
          io_failure(&dm, operation::read);
        }
        return;
      }
      if (transient_rx_error(err)) {
        ++stats_.rx_errors;
        continue;
      }
      handler_.want(operation::read, false);
      io_failure(&dm, operation::read);
      return;
    }
    auto from = net::endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
    if (!from) {
      ++stats_.rx_errors;
      continue;
    }
    if (static_cast<size_t>(n) > read_limit_) {
      ++stats_.rx_oversized;
      if (on_oversized_)
        on_oversized_(*from, static_cast<size_t>(n));
      continue;
    }
    rd_buf_.resize(static_cast<size_t>(n));
    sender_ = *from;
    ++stats_.rx;
    // Runs the broker's handler now, on this thread; false when the broker
    // ran out of activity tokens or detached us.
    if (!consume(&dm, hdl(), rd_buf_)) {
      if (!detached())
        handler_.want(operation::read, false);
      return;
    }
  }
}

void udp_servant::drain() {
  while (!queue_.empty()) {
    auto& j = queue_.front();
    sockaddr_storage ss;
    auto len = j.to.to_sockaddr(ss);
    auto n = ::sendto(handler_.fd(), j.buf.data(), j.buf.size(), MSG_NOSIGNAL,
                      reinterpret_cast<sockaddr*>(&ss), len);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
        handler_.want(operation::write, true);
        return;
      }
      ++stats_.tx_dropped;
    } else {
      ++stats_.tx;
      if (ack_writes_ && !detached())
        datagram_sent(&handler_.backend(), hdl(), static_cast<size_t>(n), std::move(j.buf));
    }
    queue_.pop_front();
  }
  handler_.want(operation::write, false);
}

bool udp_servant::new_endpoint(caf::io::network::receive_buffer&) {
  return true; // never called: there are no per-endpoint handles
}

void udp_servant::ack_writes(bool enable) {
  ack_writes_ = enable;
}

std::vector<char>& udp_servant::wr_buf(caf::io::datagram_handle) {
  queue_.push_back(job{sender_, {}});
  return queue_.back().buf;
}

void udp_servant::enqueue_datagram(caf::io::datagram_handle, std::vector<char> buf) {
  queue_.push_back(job{sender_, std::move(buf)});
}

caf::io::network::receive_buffer& udp_servant::rd_buf() {
  return rd_buf_;
}

void udp_servant::graceful_shutdown() {
  handler_.want(operation::read, false);
  if (!queue_.empty())
    drain(); // best effort: what the socket buffer does not take is dropped
  stats_.tx_dropped += queue_.size();
  queue_.clear();
  handler_.want(operation::write, false);
  detach(&handler_.backend(), false);
}

void udp_servant::flush() {
  if (!queue_.empty() && !handler_.wants(operation::write))
    drain();
}

std::string udp_servant::addr() const {
  return sender_.ip.to_string();
}

uint16_t udp_servant::port(caf::io::datagram_handle) const {
  return sender_.port;
}

uint16_t udp_servant::local_port() const {
  auto ep = net::local_endpoint(handler_.fd());
  return ep ? ep->port : 0;
}

std::vector<caf::io::datagram_handle> udp_servant::hdls() const {
  return {hdl()};
}

void udp_servant::add_endpoint(const caf::io::network::ip_endpoint&,
                               caf::io::datagram_handle) {
  // Not supported: send_to() reaches any destination.
}

void udp_servant::remove_endpoint(caf::io::datagram_handle) {
  // nop
}

void udp_servant::launch() {
  if (launched_)
    return;
  launched_ = true;
  handler_.want(operation::read, true);
}

void udp_servant::add_to_loop() {
  handler_.want(operation::read, true);
}

void udp_servant::remove_from_loop() {
  handler_.want(operation::read, false);
}

void udp_servant::detach_handles() {
  // nop: only hdl() exists
}

} // namespace p2pd::actors::mux
