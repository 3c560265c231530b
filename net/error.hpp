#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace p2pd::net {

/// The project's error codes. net/ is CAF-free; messages/errors.hpp turns an
/// error into a caf::error of the "p2pd" category with the same code.
enum class errc : uint8_t {
  none = 0,
  invalid_argument,     ///< malformed input: address text, port, option
  socket_failed,        ///< socket() or setsockopt() failed
  bind_failed,          ///< bind(): address not on this host, port in use
  listen_failed,
  connect_refused,      ///< the peer answered with RST
  connect_timeout,      ///< no answer within con_timeout
  connect_failed,       ///< other connect errors: unreachable, ...
  resolve_failed,       ///< a host name that does not resolve
  resolve_timeout,      ///< no answer within dns_timeout
  recv_timeout,         ///< nothing matching arrived within the timeout
  connection_reset,     ///< the peer reset the connection mid-stream
  message_too_large,    ///< a datagram larger than the read buffer, an oversized send
  pipe_closed,          ///< the pipe is closed or closing
  send_failed,          ///< the kernel refused a send
  unknown_peer,         ///< no client with that endpoint
  unknown_subscription, ///< no queue with that id
  link_rejected,        ///< a pipe link that would loop
  interface_not_found,
  family_unsupported,   ///< the interface or route has no address of that family
  netlink_failed,
  io_failed,            ///< any other socket error
  listener_failed,      ///< a listener failed more often than its restart budget allows
  port_locked,          ///< a port lock is held by another process (or another lock in this one)
  tls_failed,           ///< a TLS handshake or record failed: bad data, an alert, no common cipher
  tls_verify_failed,    ///< a TLS peer's certificate was refused: untrusted, expired, wrong host name
  malformed,            ///< received bytes that break their wire format: a STUN message with lying lengths, ...
  crypto_failed,        ///< a signature or sealed message that does not check out, or OpenSSL refused a key or operation
  bad_key_file,         ///< a key file refused: loose mode, not ours, a symlink, truncated, corrupt
  unsupported_version,  ///< a message that needs a newer reader than this build (its min_version is above ours)
  queue_full,           ///< a bounded queue of sends is full (a signalling channel's outbox): the send is refused
  ack_timeout,          ///< a send was not acknowledged in time (no PUBACK from an MQTT broker)
  channel_closed,       ///< the signalling channel is closed or closing
  subscribe_refused,    ///< a broker refused a subscription (SUBACK failure)
  not_for_us,           ///< a message addressed to another node, or an answer to no request we sent (an NTP origin that is not ours)
  forged,               ///< a message whose signature or sender key does not match the sender id it claims
  replayed,             ///< a message accepted before (same sender and message id)
  expired,              ///< a message past its ttl, or too old for the replay cache to vouch for
  from_future,          ///< a message stamped further ahead than clocks may drift
  idle_timeout,         ///< a server's client sent nothing within idle_timeout, or not a whole message within msg_deadline
  connection_shed,      ///< a server's client table was full and this connection, the longest idle, made room
  child_failed,         ///< a node's child (interface actor, signal node, daemon) failed more often than its restart budget allows
  server_refused,       ///< a server answered but will not serve: an NTP kiss-o'-death, a server whose clock is not synchronised
  punch_failed,         ///< a hole punch found no path within its window (the message says what was sent and what came)
  auth_refused,         ///< a server refused our credentials (TURN 401 after a signed request, 441)
  quota_exceeded,       ///< a server has no room for us: TURN 486 (allocation quota), 508 (capacity)
  allocation_lost,      ///< a TURN allocation the server no longer knows (437, expired, server restarted or gone)
  connection_exists,    ///< a TURN TCP allocation has a connection to that peer already (446, RFC 6062)
};

/// The code's name, e.g. "connect_refused".
const char* to_string(errc x);

/// An error value: a code and a message that says what failed and why.
struct error {
  errc code = errc::none;
  std::string what;

  error() = default;
  error(errc c, std::string msg) : code(c), what(std::move(msg)) {}

  explicit operator bool() const { return code != errc::none; }
};

/// "p2pd::connect_refused: connect to 127.0.0.1:9 failed: ..."
std::string to_string(const error& x);

/// errno as text: "ECONNREFUSED (Connection refused)".
std::string errno_text(int err);

/// An error whose message ends with the errno text: `what: ECONNREFUSED (...)`.
error sys_error(errc code, const std::string& what, int err);

/// A value or an error, for CAF-free code (actors use caf::expected).
template <class T>
class result {
public:
  result(T value) : data_(std::move(value)) {}
  result(net::error err) : data_(std::move(err)) {}

  bool has_value() const { return data_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() { return std::get<0>(data_); }
  const T& value() const { return std::get<0>(data_); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const net::error& error() const { return std::get<1>(data_); }

private:
  std::variant<T, net::error> data_;
};

} // namespace p2pd::net
