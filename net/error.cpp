#include "p2pd/net/error.hpp"

#include <cerrno>
#include <cstring>

namespace p2pd::net {

const char* to_string(errc x) {
  switch (x) {
    case errc::none: return "none";
    case errc::invalid_argument: return "invalid_argument";
    case errc::socket_failed: return "socket_failed";
    case errc::bind_failed: return "bind_failed";
    case errc::listen_failed: return "listen_failed";
    case errc::connect_refused: return "connect_refused";
    case errc::connect_timeout: return "connect_timeout";
    case errc::connect_failed: return "connect_failed";
    case errc::resolve_failed: return "resolve_failed";
    case errc::resolve_timeout: return "resolve_timeout";
    case errc::recv_timeout: return "recv_timeout";
    case errc::connection_reset: return "connection_reset";
    case errc::message_too_large: return "message_too_large";
    case errc::pipe_closed: return "pipe_closed";
    case errc::send_failed: return "send_failed";
    case errc::unknown_peer: return "unknown_peer";
    case errc::unknown_subscription: return "unknown_subscription";
    case errc::link_rejected: return "link_rejected";
    case errc::interface_not_found: return "interface_not_found";
    case errc::family_unsupported: return "family_unsupported";
    case errc::netlink_failed: return "netlink_failed";
    case errc::io_failed: return "io_failed";
    case errc::listener_failed: return "listener_failed";
    case errc::port_locked: return "port_locked";
    case errc::tls_failed: return "tls_failed";
    case errc::tls_verify_failed: return "tls_verify_failed";
    case errc::malformed: return "malformed";
    case errc::crypto_failed: return "crypto_failed";
    case errc::bad_key_file: return "bad_key_file";
    case errc::unsupported_version: return "unsupported_version";
    case errc::queue_full: return "queue_full";
    case errc::ack_timeout: return "ack_timeout";
    case errc::channel_closed: return "channel_closed";
    case errc::subscribe_refused: return "subscribe_refused";
    case errc::not_for_us: return "not_for_us";
    case errc::forged: return "forged";
    case errc::replayed: return "replayed";
    case errc::expired: return "expired";
    case errc::from_future: return "from_future";
    case errc::idle_timeout: return "idle_timeout";
    case errc::connection_shed: return "connection_shed";
    case errc::child_failed: return "child_failed";
    case errc::server_refused: return "server_refused";
    case errc::punch_failed: return "punch_failed";
    case errc::auth_refused: return "auth_refused";
    case errc::quota_exceeded: return "quota_exceeded";
    case errc::allocation_lost: return "allocation_lost";
    case errc::connection_exists: return "connection_exists";
  }
  return "unknown";
}

std::string to_string(const error& x) {
  std::string out = "p2pd::";
  out += to_string(x.code);
  if (!x.what.empty()) {
    out += ": ";
    out += x.what;
  }
  return out;
}

std::string errno_text(int err) {
  const char* name = strerrorname_np(err);
  std::string out = name != nullptr ? name : "E" + std::to_string(err);
  out += " (";
  out += strerror(err);
  out += ')';
  return out;
}

error sys_error(errc code, const std::string& what, int err) {
  return error{code, what + ": " + errno_text(err)};
}

} // namespace p2pd::net
