#include "p2pd/net/sock/socket.hpp"

#include <linux/sockios.h>
#include <sys/ioctl.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace p2pd::net {

namespace {

int set_int(int fd, int level, int name, int value) {
  return ::setsockopt(fd, level, name, &value, sizeof(value));
}

error set_reuse(int fd) {
  if (set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1) != 0
      || set_int(fd, SOL_SOCKET, SO_REUSEPORT, 1) != 0)
    return sys_error(errc::socket_failed, "setting SO_REUSEADDR/SO_REUSEPORT failed", errno);
  return {};
}

std::string bind_reason(int err) {
  switch (err) {
    case EADDRNOTAVAIL:
      return "address not on this host";
    case EADDRINUSE:
      return "port in use";
    case EACCES:
      return "permission denied (a privileged port?)";
    default:
      return "bind() refused";
  }
}

} // namespace

const char* to_string(protocol p) {
  return p == protocol::tcp ? "TCP" : "UDP";
}

unique_fd& unique_fd::operator=(unique_fd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = other.release();
  }
  return *this;
}

unique_fd::~unique_fd() {
  if (fd_ >= 0)
    ::close(fd_);
}

error apply_late_options(int fd, protocol proto, const socket_options& opts) {
  if (opts.broadcast && proto == protocol::udp
      && set_int(fd, SOL_SOCKET, SO_BROADCAST, 1) != 0)
    return sys_error(errc::socket_failed, "setting SO_BROADCAST failed", errno);
  if (opts.linger && proto == protocol::tcp) {
    linger l;
    l.l_onoff = 1;
    l.l_linger = *opts.linger;
    if (::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)) != 0)
      return sys_error(errc::socket_failed, "setting SO_LINGER failed", errno);
  }
  if (opts.keep_alive && proto == protocol::tcp) {
    int idle = std::max(1, *opts.keep_alive);
    if (set_int(fd, SOL_SOCKET, SO_KEEPALIVE, 1) != 0
        || set_int(fd, IPPROTO_TCP, TCP_KEEPIDLE, idle) != 0
        || set_int(fd, IPPROTO_TCP, TCP_KEEPINTVL, idle) != 0
        || set_int(fd, IPPROTO_TCP, TCP_KEEPCNT, 5) != 0)
      return sys_error(errc::socket_failed, "setting TCP keep-alive failed", errno);
  }
  if (opts.ttl) {
    int domain = 0;
    socklen_t len = sizeof(domain);
    if (::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0)
      return sys_error(errc::socket_failed, "reading the socket's family failed", errno);
    bool v6 = domain == AF_INET6;
    if (set_int(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_UNICAST_HOPS : IP_TTL, *opts.ttl) != 0)
      return sys_error(errc::socket_failed,
                       "setting the TTL to " + std::to_string(*opts.ttl) + " failed", errno);
  }
  return {};
}

result<unique_fd> open_bound_socket(protocol proto, const endpoint& local,
                                    const socket_options& opts) {
  int type = proto == protocol::tcp ? SOCK_STREAM : SOCK_DGRAM;
  unique_fd fd{::socket(to_af(local.fam()), type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)};
  if (!fd)
    return sys_error(errc::socket_failed,
                     std::string{"socket("} + to_string(local.fam()) + ", "
                       + to_string(proto) + ") failed",
                     errno);
  if (local.fam() == family::v6
      && set_int(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, opts.v6only ? 1 : 0) != 0)
    return sys_error(errc::socket_failed, "setting IPV6_V6ONLY failed", errno);
  bool reuse_after_bind = proto == protocol::udp && local.port == 0;
  if (opts.reuse_addr && !reuse_after_bind)
    if (auto err = set_reuse(fd.get()))
      return err;
  if (opts.reuse_time_wait && !opts.reuse_addr && proto == protocol::tcp
      && set_int(fd.get(), SOL_SOCKET, SO_REUSEADDR, 1) != 0)
    return sys_error(errc::socket_failed, "setting SO_REUSEADDR failed", errno);
  if (auto err = apply_late_options(fd.get(), proto, opts))
    return err;
  sockaddr_storage ss;
  auto len = local.to_sockaddr(ss);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    auto err = errno;
    return sys_error(errc::bind_failed,
                     std::string{"bind "} + to_string(proto) + " to " + local.to_string()
                       + " failed: " + bind_reason(err),
                     err);
  }
  if (opts.reuse_addr && reuse_after_bind)
    if (auto err = set_reuse(fd.get()))
      return err;
  return fd;
}

result<unique_fd> open_listener(const endpoint& local, const socket_options& opts,
                                int backlog) {
  auto with = opts;
  with.reuse_time_wait = true;
  auto fd = open_bound_socket(protocol::tcp, local, with);
  if (!fd)
    return fd;
  if (::listen(fd->get(), backlog) != 0)
    return sys_error(errc::listen_failed, "listen on " + local.to_string() + " failed",
                     errno);
  return fd;
}

size_t unacked_bytes(int fd) {
  int n = 0;
  return ::ioctl(fd, SIOCOUTQ, &n) == 0 && n > 0 ? static_cast<size_t>(n) : 0;
}

result<endpoint> local_endpoint(int fd) {
  sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0)
    return sys_error(errc::io_failed, "getsockname failed", errno);
  return endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
}

result<endpoint> peer_endpoint(int fd) {
  sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0)
    return sys_error(errc::io_failed, "getpeername failed", errno);
  return endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
}

result<protocol> socket_protocol(int fd) {
  int type = 0;
  socklen_t len = sizeof(type);
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0)
    return sys_error(errc::invalid_argument, "fd " + std::to_string(fd) + " is not a socket",
                     errno);
  if (type == SOCK_STREAM)
    return protocol::tcp;
  if (type == SOCK_DGRAM)
    return protocol::udp;
  return error{errc::invalid_argument,
               "fd " + std::to_string(fd) + " is neither a TCP nor a UDP socket"};
}

result<family> socket_family(int fd) {
  int dom = 0;
  socklen_t len = sizeof(dom);
  if (::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &len) != 0)
    return sys_error(errc::invalid_argument, "fd " + std::to_string(fd) + " is not a socket",
                     errno);
  if (dom == AF_INET)
    return family::v4;
  if (dom == AF_INET6)
    return family::v6;
  return error{errc::family_unsupported,
               "fd " + std::to_string(fd) + " is not an IPv4 or IPv6 socket"};
}

} // namespace p2pd::net
