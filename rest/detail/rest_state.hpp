#pragma once

// The REST server actor's state (rest/rest_server.cpp runs the HTTP side,
// rest/rest_routes.cpp the API). Internal: not installed.

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string_view>
#include <string>
#include <unordered_map>
#include <vector>

#include "caf/event_based_actor.hpp"
#include "caf/stateful_actor.hpp"

#include "p2pd/messages/daemon.hpp"
#include "p2pd/net/http/request_parser.hpp"
#include "p2pd/net/http/response.hpp"
#include "p2pd/node/node_messages.hpp"
#include "p2pd/rest/rest_server.hpp"
#include "p2pd/rest/rest_spec.hpp"

namespace p2pd::rest::detail {

using rest_tmo_atom = caf::atom_constant<caf::atom("p2resttmo")>;
using rest_sweep_atom = caf::atom_constant<caf::atom("p2restswp")>;

/// One HTTP client connection (a client of one of the listener pipes).
struct http_conn {
  uint64_t id = 0;
  pipe_actor pipe;
  endpoint peer;
  net::http::request_parser parser;
  /// A request is being answered later (a connect, a waiting receive): the
  /// next pipelined one waits, so that answers go out in order.
  bool busy = false;
  bool keep_alive = true;
  /// pump() runs for it: an answer given inside it does not pump again (a
  /// pipelined burst would otherwise recurse once per request).
  bool pumping = false;
  int64_t request_ms = 0;  ///< when the request being read began (request_deadline)
};

/// A message from a peer, kept for a receive.
struct kept_msg {
  bytes data;
};

/// A receive waiting for a message.
struct waiter {
  uint64_t id = 0;
  uint64_t conn = 0;     ///< the HTTP connection to answer
  std::string name;      ///< the named connection asked for
  bool binary = false;   ///< raw bytes (GET /binary) or JSON (GET /recv)
  /// Its weak timer (arm_receive_timeout): ended by cancel() once the
  /// receive is answered otherwise, or the server ends.
  caf::actor timer;

  void cancel();
};

/// One peer node as the server sees it: its connections, the messages it
/// sent that no receive took yet, and what went each way.
struct peer_state {
  std::vector<node_connection> conns;
  std::deque<kept_msg> inbox;
  size_t inbox_bytes = 0;
  std::deque<waiter> waiting;
  uint64_t msgs_in = 0, bytes_in = 0, msgs_out = 0, bytes_out = 0;
  uint64_t dropped = 0;  ///< pushed out of a full inbox
};

/// A connection opened under a name through the API.
struct named_conn {
  /// Which open made it: a connect that answers late touches its own
  /// open's entry only, not one opened under the same name after a close.
  uint64_t gen = 0;
  std::string peer;      ///< node id; empty while the connect runs
  std::string address;   ///< what it was opened to (an address, a name, an id)
  bool opening = true;
  bool inbound = false;  ///< bound to a peer that had connected to us
  connect_report report;
  int64_t opened_ms = 0;
};

struct state {
  node_actor node;
  rest_spec spec;
  std::string token;
  uint16_t port = 0;
  daemon_actor daemon;
  caf::actor sweeper;  ///< a weak ticker: request deadlines

  uint64_t next_id = 1;
  /// By (listener pipe, client endpoint), and by id for answers given later.
  std::map<std::pair<caf::actor_id, endpoint>, http_conn> conns;
  std::unordered_map<uint64_t, std::pair<caf::actor_id, endpoint>> by_id;

  std::map<std::string, peer_state> peers;
  size_t inbox_total = 0;  ///< the bytes of every peer's inbox (max_buffered_total_bytes)
  std::map<std::string, named_conn> names;
  rest_stats stats;

  ~state();

  http_conn* conn(uint64_t id);
  int64_t now_ms() const;
};

using server_actor = caf::stateful_actor<state>;

/// Sends `r` on connection `id` (if it is still there) and, unless it stays
/// open, closes it; then parses the next pipelined request.
void answer(server_actor* self, uint64_t id, net::http::response r);

/// A JSON answer with `status`; an error's: {"error": why}.
net::http::response json_response(int status, const std::string& json_text);
net::http::response error_response(int status, const std::string& why);
/// answer() with error_response().
void fail(server_actor* self, uint64_t id, int status, const std::string& why);
/// The status for a request of the server's that the node failed with
/// `err`: 504 when it did not answer in time (limits.node_timeout,
/// limits.connect_timeout), else `otherwise`.
int node_error_status(const caf::error& err, int otherwise);
/// Why the node failed a request, in words: "did not answer within N ms"
/// for a timeout of `limit`.
std::string node_error_text(const caf::error& err, caf::timespan limit);

/// The named connections' endpoints (rest_named.cpp); each answers `id`
/// at once or later.
void post_open(server_actor* self, uint64_t id, const std::string& name, const std::string& to);
void post_send(server_actor* self, uint64_t id, const std::string& name, std::string body);
void get_recv(server_actor* self, uint64_t id, const std::string& name,
              const net::http::request& req, bool binary);
void post_close(server_actor* self, uint64_t id, const std::string& name);
/// One named connection, or all of them when `name` is empty.
void get_cons(server_actor* self, uint64_t id, const std::string& name);

/// Serves one request of connection `id`: answers at once with answer(), or
/// marks the connection busy and answers later.
void route(server_actor* self, uint64_t id, net::http::request& req);

/// The node's events (subscription): messages kept for receives, peers.
void on_node_msg(server_actor* self, node_msg& m);
void on_peer_up(server_actor* self, node_peer_up& up);
void on_peer_end(server_actor* self, node_peer_end& end);
/// Answers `waiter_id` of `peer` after `t` unless a message comes first:
/// the timer it returns holds the server weakly.
caf::actor arm_receive_timeout(server_actor* self, caf::timespan t, const std::string& peer,
                               uint64_t waiter_id);
/// The server actor (start_rest_server spawns it).
caf::behavior rest_server(server_actor* self, node_actor node, rest_spec spec, std::string token);
/// Answers receive `w` with `data` from `peer`.
void deliver(server_actor* self, const std::string& peer, const waiter& w, const bytes& data);
/// Opens `conn_name` to `address` (a peer address, or a name the node
/// looks up) and answers `id`.
void connect_to(server_actor* self, uint64_t id, const std::string& conn_name,
                std::string address);
/// A waiting receive's time is up.
void on_receive_timeout(server_actor* self, const std::string& peer, uint64_t waiter_id);
/// Takes the oldest message kept of `ps` (which has one).
kept_msg take_kept(state& st, peer_state& ps);
/// Forgets `peer` once nothing needs it: no connection and no name (its
/// messages not received go with it: nothing could take them).
void drop_if_unused(state& st, const std::string& peer);
/// Connection `id` is gone: its waiting receives are dropped.
void forget_waiters(server_actor* self, uint64_t id);

/// The page's files embedded at build time (rest/page/, rest_page.cmake):
/// the file for `path` ("/", "/page.js", "/page.css") and its content type.
struct page_file {
  std::string_view body;
  std::string_view type;
};
std::optional<page_file> page_file_for(std::string_view path);

} // namespace p2pd::rest::detail
