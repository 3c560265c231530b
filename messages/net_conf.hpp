#pragma once

#include <chrono>
#include <cstdint>

#include "caf/meta/type_name.hpp"
#include "caf/timespan.hpp"

#include "p2pd/actors/common/timeouts.hpp"

namespace p2pd {

/// Options of a pipe: the seed's NET_CONF, typed. Left out, with the reason:
/// sock_proto (the protocol follows from TCP/UDP), sock_only (adopt or take a
/// socket through pipe_spec instead), loop (CAF's multiplexer is the loop).
/// The default timeouts, and why, are in actors/common/timeouts.hpp.
struct net_conf {
  /// Time allowed to resolve a host name.
  caf::timespan dns_timeout = timeouts::dns;
  /// Default wait of recv and of each try of ask.
  caf::timespan recv_timeout = timeouts::recv;
  /// Time allowed for a TCP connect.
  caf::timespan con_timeout = timeouts::connect;
  /// Messages each receive queue holds; when full the oldest is dropped and
  /// counted. The seed's 0 (unbounded) is not offered: queues are bounded.
  uint32_t max_qsize = 1000;
  /// Drop a message seen before from the same sender.
  bool enable_msg_ids = false;
  /// How many message ids are remembered (oldest forgotten first).
  uint32_t max_msg_ids = 1000;
  /// SO_REUSEADDR and SO_REUSEPORT.
  bool reuse_addr = false;
  /// SO_BROADCAST (UDP).
  bool broadcast = false;
  /// Largest TCP read and largest UDP datagram delivered, in bytes; a larger
  /// datagram is dropped, counted and reported, never delivered cut short.
  uint32_t reader_limit = 65536;
  /// Close the pipe when its socket fails; off, a TCP server keeps serving
  /// after a client error and an adopted socket is handed back on failure.
  bool do_close = true;
  /// SO_LINGER seconds for TCP sockets; negative = off, 0 = close with RST.
  int32_t linger = -1;
  /// How many times ask resends a request whose reply did not come.
  uint32_t send_retry = 2;
  /// Bytes a TCP connection may have waiting for the kernel. Past half of it
  /// the connection stops reading (backpressure) until a quarter is left; a
  /// send that still does not fit is refused, counted, and ends that
  /// connection with a reset and `send_failed`, so a stream never has a gap.
  uint32_t max_write_buffer = 4 * 1024 * 1024;
  /// Clients a server tracks. A TCP client beyond makes room: the longest
  /// idle connection is reset (so idle clients cannot deny the service to
  /// new ones); UDP senders beyond replace the oldest.
  uint32_t max_clients = 4096;
  /// A TCP server resets a client that sent nothing for this long (coturn's
  /// 60 s); 0 = never. Client pipes are never timed out: the program that
  /// opened one decides when it ends.
  caf::timespan idle_timeout = timeouts::idle_client;
  /// With a pipe_spec::framer, a TCP server resets a client whose message
  /// is not complete this long after its first byte; 0 = never.
  caf::timespan msg_deadline = timeouts::msg_deadline;
  /// TLS over TCP. A client verifies the server's certificate and name by
  /// default (pipe_spec::tls to change that); a server needs pipe_spec::tls
  /// with its certificate and key.
  bool use_ssl = false;
  /// Time allowed for a TLS handshake.
  caf::timespan ssl_handshake = timeouts::tls_handshake;
  /// TCP keep-alive on every connection: the first probe after this much
  /// idle time (whole seconds); 0: off.
  caf::timespan keep_alive{0};
  /// The IP TTL (hop limit) of what the pipe sends; 0: the system's.
  uint8_t ttl = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, net_conf& x) {
  return f(caf::meta::type_name("p2pd::net_conf"), x.dns_timeout, x.recv_timeout,
           x.con_timeout, x.max_qsize, x.enable_msg_ids, x.max_msg_ids, x.reuse_addr,
           x.broadcast, x.reader_limit, x.do_close, x.linger, x.send_retry,
           x.max_write_buffer, x.max_clients, x.idle_timeout, x.msg_deadline, x.use_ssl,
           x.ssl_handshake, x.keep_alive, x.ttl);
}

} // namespace p2pd
