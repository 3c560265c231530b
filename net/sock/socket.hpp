#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "p2pd/net/addr/address.hpp"
#include "p2pd/net/error.hpp"

namespace p2pd::net {

enum class protocol : uint8_t { tcp, udp };

const char* to_string(protocol p);

/// Options applied to a socket before bind().
struct socket_options {
  /// SO_REUSEADDR and SO_REUSEPORT: several sockets on one ip:port, shared
  /// on purpose (TCP hole punching, a port split between processes); a
  /// restart does not need it (reuse_time_wait). For a UDP socket bound to port 0 they are set
  /// after bind(): set before, the kernel may hand out a port that another
  /// such socket already holds, and the two then share it silently.
  bool reuse_addr = false;
  /// SO_REUSEADDR alone (TCP): bind a port whose old connections linger in
  /// TIME_WAIT, so that a restarted listener comes back at once, but never
  /// a port another socket listens on. open_listener() sets it.
  bool reuse_time_wait = false;
  /// SO_BROADCAST (UDP).
  bool broadcast = false;
  /// SO_LINGER on with this many seconds (TCP); 0 makes close() send RST.
  std::optional<int> linger;
  /// IPV6_V6ONLY for IPv6 sockets: an IPv6 socket does not take IPv4 too.
  bool v6only = true;
  /// TCP keep-alive (SO_KEEPALIVE): the first probe after this many idle
  /// seconds, then one every as many seconds, 5 unanswered ones ending the
  /// connection (the original's set_keep_alive). NAT mappings of an idle
  /// connection stay open, and a dead peer is noticed.
  std::optional<int> keep_alive;
  /// IP_TTL (IPv4) or IPV6_UNICAST_HOPS (IPv6) of what the socket sends: a
  /// hole punch's first packet lives just long enough to open the own NAT's
  /// mapping and dies before the peer's NAT.
  std::optional<int> ttl;
};

/// Bytes a TCP socket has sent or still has to send that the peer has not
/// acknowledged (SIOCOUTQ): it goes down as the peer takes data. 0 when
/// the kernel cannot tell.
size_t unacked_bytes(int fd);

/// Owns a file descriptor; closes it unless released.
class unique_fd {
public:
  unique_fd() = default;
  explicit unique_fd(int fd) : fd_(fd) {}
  unique_fd(unique_fd&& other) noexcept : fd_(other.release()) {}
  unique_fd& operator=(unique_fd&& other) noexcept;
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;
  ~unique_fd();

  int get() const { return fd_; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  explicit operator bool() const { return fd_ >= 0; }

private:
  int fd_ = -1;
};

/// A non-blocking, close-on-exec socket of the given family and protocol,
/// with `opts` applied and bound to `local` (port 0 = a free port). Errors name
/// the address: "bind to 10.9.9.9:0 failed: address not on this host (...)".
result<unique_fd> open_bound_socket(protocol proto, const endpoint& local,
                                    const socket_options& opts = {});

/// A listening TCP socket bound to `local`.
result<unique_fd> open_listener(const endpoint& local, const socket_options& opts = {},
                                int backlog = 1024);

/// Applies the options that can change after bind (SO_LINGER, SO_BROADCAST).
error apply_late_options(int fd, protocol proto, const socket_options& opts);

result<endpoint> local_endpoint(int fd);
result<endpoint> peer_endpoint(int fd);

/// The protocol of a socket (SO_TYPE), or an error if `fd` is not a TCP or UDP socket.
result<protocol> socket_protocol(int fd);

/// The family of a socket (SO_DOMAIN).
result<family> socket_family(int fd);

} // namespace p2pd::net
