#include "p2pd/actors/mux/detail/tcp_acceptor.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>

#include "caf/io/abstract_broker.hpp"

#include "p2pd/net/sock/socket.hpp"

namespace p2pd::actors::mux {

namespace {

// One descriptor kept in reserve for the whole process: when accept() fails
// with EMFILE, it is given up to accept and shed the pending connection, so
// that level-triggered epoll does not report it forever. Every multiplexer
// of the process shares it.
class spare_descriptor {
public:
  // Accepts one connection on `listener` and closes it; true if it did.
  bool shed(int listener) {
    std::lock_guard<std::mutex> guard{mtx_};
    if (fd_ < 0)
      return false;
    ::close(fd_);
    int conn = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn >= 0)
      ::close(conn);
    fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    return conn >= 0;
  }

  static spare_descriptor& instance() {
    static spare_descriptor x;
    return x;
  }

private:
  spare_descriptor() : fd_(::open("/dev/null", O_RDONLY | O_CLOEXEC)) {}

  std::mutex mtx_;
  int fd_;
};

} // namespace

tcp_acceptor::tcp_acceptor(caf::io::network::default_multiplexer& dm, int fd,
                           size_t read_limit)
  : caf::io::doorman(caf::io::accept_handle::from_int(dm.next_endpoint_id())),
    handler_(dm, fd, *this),
    read_limit_(read_limit),
    max_accepts_(64) {
  if (auto ep = net::local_endpoint(fd))
    local_ = *ep;
  spare_descriptor::instance(); // reserved before descriptors can run out
}

tcp_acceptor::~tcp_acceptor() {
  // ~loop_handler closes the socket.
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
        if (spare_descriptor::instance().shed(handler_.fd())) {
          ++stats_.shed;
          more = true;
          return true;
        }
        ++stats_.errors;
        return true;
      case ENOBUFS:
      case ENOMEM:
      case EPROTO:
      case EPERM:
        ++stats_.errors; // transient or about that one connection
        return true;
      default:
        // EINVAL (the socket no longer listens), EBADF, ENOTSOCK ...: the
        // listener is broken and level-triggered epoll would report it
        // forever; the pipe ends with an error, and its supervisor decides.
        ++stats_.errors;
        handler_.want(operation::read, false);
        io_failure(&handler_.backend(), operation::read);
        return false;
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
  // The descriptor closes only when the multiplexer lets go of the handler,
  // an epoll round later; shutting the listener down refuses new connections
  // now, so a closed listener is closed when its pipe says so.
  ::shutdown(handler_.fd(), SHUT_RD);
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
