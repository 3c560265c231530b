#include "p2pd/actors/mux/tcp_acceptor.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "caf/io/abstract_broker.hpp"

#include "p2pd/net/socket.hpp"

namespace p2pd::actors::mux {

namespace {

int open_spare() {
  return ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}

} // namespace

tcp_acceptor::tcp_acceptor(caf::io::network::default_multiplexer& dm, int fd,
                           size_t read_limit)
  : caf::io::doorman(caf::io::accept_handle::from_int(dm.next_endpoint_id())),
    handler_(dm, fd, *this),
    read_limit_(read_limit),
    max_accepts_(64),
    spare_fd_(open_spare()) {
  if (auto ep = net::local_endpoint(fd))
    local_ = *ep;
}

tcp_acceptor::~tcp_acceptor() {
  if (spare_fd_ >= 0)
    ::close(spare_fd_);
}

void tcp_acceptor::launch() {
  want_read(true);
}

bool tcp_acceptor::new_connection() {
  bool more = false;
  return accept_one(more);
}

void tcp_acceptor::on_event(operation op) {
  if (op != operation::read) {
    // EPOLLERR on a listening socket: it is gone; tell the broker.
    handler_.forget();
    io_failure(&handler_.backend(), operation::read);
    return;
  }
  for (size_t i = 0; i < max_accepts_ && handler_.wants(operation::read) && !detached(); ++i) {
    bool more = false;
    if (!accept_one(more)) {
      if (!detached())
        want_read(false); // the broker ran out of activity tokens
      return;
    }
    if (!more)
      return;
  }
}

// Returns false when the broker does not take more connections; sets `more`
// when another accept() may succeed right away.
bool tcp_acceptor::accept_one(bool& more) {
  more = false;
  int fd = ::accept4(handler_.fd(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0) {
    switch (errno) {
      case EAGAIN:
      case EINTR:
      case ECONNABORTED:
        more = errno != EAGAIN;
        return true;
      case EMFILE:
      case ENFILE:
        // Level-triggered epoll would report the pending connection forever:
        // free the reserved descriptor, accept, and close the connection.
        if (spare_fd_ >= 0) {
          ::close(spare_fd_);
          int shed = ::accept4(handler_.fd(), nullptr, nullptr, SOCK_CLOEXEC);
          if (shed >= 0) {
            ::close(shed);
            ++stats_.shed;
          }
          spare_fd_ = open_spare();
          more = shed >= 0;
          return true;
        }
        ++stats_.errors;
        return true;
      default:
        ++stats_.errors;
        return true;
    }
  }
  ++stats_.accepted;
  more = true;
  auto& dm = handler_.backend();
  last_ = caf::make_counted<tcp_stream>(dm, fd, read_limit_);
  auto hdl = last_->hdl();
  parent()->add_scribe(last_);
  auto ok = doorman::new_connection(&dm, hdl);
  last_.reset();
  return ok;
}

void tcp_acceptor::graceful_shutdown() {
  want_read(false);
  if (!detached())
    detach(&handler_.backend(), false);
}

std::string tcp_acceptor::addr() const {
  return local_.ip.to_string();
}

uint16_t tcp_acceptor::port() const {
  return local_.port;
}

void tcp_acceptor::add_to_loop() {
  want_read(true);
}

void tcp_acceptor::remove_from_loop() {
  want_read(false);
}

} // namespace p2pd::actors::mux
