#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "caf/actor.hpp"
#include "caf/timespan.hpp"

#include "p2pd/net/addr/address.hpp"
#include "p2pd/net/http/request_parser.hpp"

namespace p2pd::rest {

/// The REST API's port by default (the original P2PD's).
inline constexpr uint16_t default_port = 12333;

/// What the REST server allows, each bound with its reason.
struct rest_limits {
  /// Request line and headers; beyond, 431 (or 414 for the line alone).
  size_t max_header_bytes = 8 * 1024;
  /// A request's body; beyond, 413 before the body is read.
  size_t max_body_bytes = 1024 * 1024;
  size_t max_headers = 64;
  /// HTTP connections at once (the page and a few scripts need a handful);
  /// one beyond is answered 503 and closed, and counted.
  size_t max_connections = 64;
  /// Named connections at once; an open beyond is answered 503.
  size_t max_names = 256;
  /// Messages and bytes kept per peer for receives; the oldest message is
  /// dropped (and counted) to make room.
  size_t max_buffered_msgs = 1024;
  size_t max_buffered_bytes = 4 * 1024 * 1024;
  /// Bytes kept for receives over all peers: the node takes up to
  /// max_connections peers (1024), which at max_buffered_bytes each would
  /// be 4 GiB. A message beyond it pushes out its own peer's oldest ones
  /// only, never another peer's; with none left to push, it is dropped
  /// (and counted).
  size_t max_buffered_total_bytes = 64 * 1024 * 1024;
  /// Receives waiting at once per peer; one beyond is answered 503.
  size_t max_waiting_receives = 64;
  /// A receive waits at most this long, whatever it asks for.
  caf::timespan max_receive_timeout = std::chrono::seconds(60);
  /// A receive that gives no timeout returns at once (0 s), as a poll.
  caf::timespan default_receive_timeout{0};
  /// An HTTP connection that sends nothing for this long (beyond a
  /// receive's wait) is closed.
  caf::timespan idle_timeout = std::chrono::seconds(60);
  /// A request must be whole this long after its first byte, or it is
  /// answered 408 and its connection closed: a client that sends a byte now
  /// and then cannot hold one of the max_connections for ever.
  caf::timespan request_deadline = std::chrono::seconds(30);
  /// The node's answer to the server's requests (/addr, /ifs, /nat, /peers,
  /// /stats, /metrics, /send, /close): a node that runs answers at once, so
  /// past this it hangs, and the client gets 504 and its connection slot
  /// back. Kept to seconds: in CAF 0.17 the timeout of a request not
  /// answered holds the server (a strong reference in the clock) until it
  /// fires, even after the server ended (an answered one is cancelled; the
  /// RestLifetime test sees the server released at once).
  caf::timespan node_timeout = std::chrono::seconds(10);
  /// A connect's answer (POST /open), answered 504 past it: the node tries
  /// its strategies in turn, each within its budget (2 + 4 + 10 + 10 s by
  /// default), so this only bounds a node that hangs. Raise it with the
  /// node's budgets.
  caf::timespan connect_timeout = std::chrono::seconds(45);

  net::http::limits http() const { return {max_header_bytes, max_body_bytes, max_headers}; }
};

/// What start_rest_server() serves, and where.
struct rest_spec {
  /// 0: a free port (tests).
  uint16_t port = default_port;
  /// Loopback addresses only: anything else is refused (the API has no
  /// TLS, and its token is the only thing between a network and the node).
  /// Empty: 127.0.0.1 and ::1 (::1 left out where the host has no IPv6).
  std::vector<net::ip_address> bind;
  /// The directory of the token file (rest_token, 0600). Default: the data
  /// directory ($P2PD_DATA_DIR, else ~/.p2pd).
  std::optional<std::string> data_dir;
  rest_limits limits;
};

/// A running REST server.
struct rest_server_info {
  /// Where it listens (the real port when spec.port was 0).
  std::vector<net::endpoint> endpoints;
  uint16_t port = 0;
  std::string token_file;
  /// The bearer token (64 hex characters): what a client sends as
  /// "Authorization: Bearer <token>".
  std::string token;
  /// The server actor: send it an exit (or caf::close_atom, which answers
  /// once its listeners are closed) to stop it. It ends with the node too.
  caf::actor server;

  /// The status page's address with the token in its fragment, which a
  /// browser never sends: "http://127.0.0.1:PORT/#token=...".
  std::string page_url() const;
};

} // namespace p2pd::rest
