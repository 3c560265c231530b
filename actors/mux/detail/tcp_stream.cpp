#include "p2pd/actors/mux/detail/tcp_stream.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "caf/actor_system_config.hpp"
#include "caf/config_value.hpp"
#include "caf/defaults.hpp"

#include "p2pd/net/sock/socket.hpp"

namespace p2pd::actors::mux {

tcp_stream::tcp_stream(caf::io::network::default_multiplexer& dm, int fd,
                       size_t read_limit)
  : caf::io::scribe(caf::io::connection_handle::from_int(dm.next_endpoint_id())),
    handler_(dm, fd, *this),
    read_limit_(read_limit == 0 ? 1 : read_limit),
    max_reads_(caf::get_or(dm.system().config(), "middleman.max-consecutive-reads",
                           caf::defaults::middleman::max_consecutive_reads)) {
  if (max_reads_ == 0)
    max_reads_ = 1;
  if (auto ep = net::peer_endpoint(fd))
    peer_ = *ep;
  if (auto ep = net::local_endpoint(fd))
    local_ = *ep;
}

tcp_stream::~tcp_stream() {
  // ~event_handler (handler_) closes the socket.
}

void tcp_stream::configure_read(caf::io::receive_policy::config config) {
  read_limit_ = config.second == 0 ? 1 : config.second;
  read_size_ = std::min(read_size_, read_limit_);
  if (!closing_ && !paused_)
    want(operation::read, true);
}

void tcp_stream::ack_writes(bool enable) {
  ack_writes_ = enable;
}

std::vector<char>& tcp_stream::wr_buf() {
  return wr_buf_;
}

std::vector<char>& tcp_stream::rd_buf() {
  return rd_buf_;
}

void tcp_stream::flush() {
  if (wr_buf_.empty() || last_error_ != 0)
    return;
  if (out_pos_ == out_.size()) {
    out_.clear();
    out_pos_ = 0;
    out_.swap(wr_buf_);
  } else {
    out_.insert(out_.end(), wr_buf_.begin(), wr_buf_.end());
    wr_buf_.clear();
  }
  if (!handler_.wants(operation::write))
    on_write(false); // write now; EPOLLOUT only if the kernel buffer is full
  check_high();
}

bool tcp_stream::check_high() {
  if (high_ == 0 || paused_ || pending() <= high_)
    return false;
  paused_ = true;
  want(operation::read, false);
  return true;
}

void tcp_stream::on_event(operation op) {
  switch (op) {
    case operation::read:
      on_read();
      break;
    case operation::write:
      on_write(true);
      break;
    case operation::propagate_error: {
      int err = 0;
      socklen_t len = sizeof(err);
      ::getsockopt(handler_.fd(), SOL_SOCKET, SO_ERROR, &err, &len);
      handler_.forget();
      fail(err != 0 ? err : ECONNRESET);
      break;
    }
  }
}

void tcp_stream::on_read() {
  auto& dm = handler_.backend();
  for (size_t i = 0; i < max_reads_; ++i) {
    if (!handler_.wants(operation::read) || detached())
      return;
    // CAF's scribe delivers rd_buf_ cut to the bytes read, so each read grows
    // it again, zero-filling the growth: the read size follows the traffic
    // instead of always being reader_limit (64 KiB of memset per small message).
    auto ask = std::min(read_size_, read_limit_);
    rd_buf_.resize(ask);
    auto n = ::recv(handler_.fd(), rd_buf_.data(), ask, 0);
    if (n > 0) {
      auto got = static_cast<size_t>(n);
      if (got == ask)
        read_size_ = std::min(read_size_ * 2, read_limit_);
      else if (got < ask / 4)
        read_size_ = std::max(read_size_ / 2, min_read_size);
      if (!consume(&dm, rd_buf_.data(), got)) {
        if (!detached())
          want(operation::read, false); // passive until add_to_loop()
        return;
      }
      if (paused_ || check_high())
        return; // the replies to what was read wait for the peer to read

      if (got < ask)
        return; // drained; epoll is level-triggered and reports what comes next
      continue;
    }
    if (n == 0) {
      fail(0); // orderly close by the peer
      return;
    }
    if (errno == EINTR)
      continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
      return;
    fail(errno);
    return;
  }
}

void tcp_stream::on_write(bool from_loop) {
  if (from_loop && last_error_ != 0) {
    fail(last_error_);
    return;
  }
  size_t written = 0;
  while (out_pos_ < out_.size()) {
    auto n = ::send(handler_.fd(), out_.data() + out_pos_, out_.size() - out_pos_,
                    MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        want(operation::write, true);
        break;
      }
      auto err = errno;
      out_.clear();
      out_pos_ = 0;
      if (from_loop) {
        fail(err);
      } else {
        // Called from a broker handler: reporting now would re-enter the
        // broker. The next epoll round reports it (the socket is writable).
        last_error_ = err;
        want(operation::write, true);
      }
      return;
    }
    out_pos_ += static_cast<size_t>(n);
    written += static_cast<size_t>(n);
  }
  if (out_pos_ == out_.size()) {
    out_.clear();
    out_pos_ = 0;
    want(operation::write, false);
  }
  if (paused_ && pending() <= low_) {
    paused_ = false;
    if (!closing_ && last_error_ == 0 && !detached())
      want(operation::read, true);
  }
  if (ack_writes_ && written > 0 && from_loop && !detached())
    data_transferred(&handler_.backend(), written, pending());
}

void tcp_stream::fail(int err) {
  if (last_error_ == 0)
    last_error_ = err;
  want(operation::read, false);
  want(operation::write, false);
  if (!detached())
    io_failure(&handler_.backend(), operation::read); // -> connection_closed_msg
}

void tcp_stream::graceful_shutdown() {
  closing_ = true;
  want(operation::read, false);
  if (!wr_buf_.empty() && last_error_ == 0)
    flush();
  // What the kernel did not take by now is dropped: a peer that never reads
  // must not keep the socket, and the actor system, alive.
  out_.clear();
  out_pos_ = 0;
  want(operation::write, false);
  // With SO_LINGER 0 the close is meant to be abortive (RST); a FIN first
  // would let the peer see an orderly end.
  linger l{};
  socklen_t len = sizeof(l);
  bool abortive = ::getsockopt(handler_.fd(), SOL_SOCKET, SO_LINGER, &l, &len) == 0
                  && l.l_onoff != 0 && l.l_linger == 0;
  if (!abortive)
    ::shutdown(handler_.fd(), SHUT_WR);
  if (!detached())
    detach(&handler_.backend(), false);
}

std::string tcp_stream::addr() const {
  return peer_.ip.to_string();
}

uint16_t tcp_stream::port() const {
  return peer_.port;
}

void tcp_stream::add_to_loop() {
  if (!closing_ && !paused_ && last_error_ == 0)
    want(operation::read, true);
}

void tcp_stream::remove_from_loop() {
  want(operation::read, false);
}

} // namespace p2pd::actors::mux
