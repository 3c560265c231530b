#pragma once

// The servers under test: p2pd's pipes and the epoll baseline, behind one
// interface so that the load generator drives both alike.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace p2pd {
class runtime;
} // namespace p2pd

namespace p2pd::bench {

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
std::unique_ptr<server> make_epoll_server(service svc);

/// p2pd: a listening pipe with an inline handler (it runs on CAF's I/O thread).
/// Construct, query and destroy it on the runtime's thread only.
std::unique_ptr<server> make_p2pd_server(runtime& rt, service svc);

} // namespace p2pd::bench
