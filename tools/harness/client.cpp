#include "client.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "caf/io/middleman.hpp"

namespace p2pd::harness {

namespace {

// A TCP connect to `where` within `wait`, closed at once: whether anything
// listens there.
caf::error probe_tcp(const host_port& where, std::chrono::milliseconds wait) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  auto port = std::to_string(where.port);
  if (::getaddrinfo(where.host.c_str(), port.c_str(), &hints, &res) != 0 || res == nullptr)
    return make_error(errc::invalid_argument, "agent " + where.to_string() + ": bad address");
  int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    ::freeaddrinfo(res);
    return make_error(errc::socket_failed, "agent " + where.to_string() + ": socket: "
                                             + std::strerror(errno));
  }
  int rc = ::connect(fd, res->ai_addr, res->ai_addrlen);
  ::freeaddrinfo(res);
  int err = rc == 0 ? 0 : errno;
  if (err == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    auto n = ::poll(&p, 1, static_cast<int>(wait.count()));
    if (n == 0) {
      ::close(fd);
      return make_error(errc::connect_timeout, "agent " + where.to_string() + ": no answer in "
                                                 + std::to_string(wait.count()) + " ms");
    }
    socklen_t len = sizeof(err);
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
  }
  ::close(fd);
  if (err == ECONNREFUSED)
    return make_error(errc::connect_refused,
                      "agent " + where.to_string() + ": refused (no agent listens there)");
  if (err != 0)
    return make_error(errc::connect_failed, "agent " + where.to_string() + ": "
                                              + std::strerror(err));
  return {};
}

} // namespace

caf::error agent_gone(const caf::error& reason) {
  return make_error(errc::connection_reset,
                    "the agent is gone (" + (reason ? render(reason) : std::string{"it quit"})
                      + ")");
}

caf::expected<agent_actor> connect_agent(caf::actor_system& sys, const host_port& where,
                                         std::chrono::milliseconds wait) {
  if (auto err = probe_tcp(where, wait))
    return err;
  auto hdl = sys.middleman().remote_actor<agent_actor>(where.host, where.port);
  if (!hdl)
    return make_error(errc::connect_failed,
                      "agent " + where.to_string() + ": middleman: " + render(hdl.error()));
  return *hdl;
}

} // namespace p2pd::harness
