#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "caf/actor.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/atom.hpp"
#include "caf/error.hpp"
#include "caf/meta/type_name.hpp"
#include "caf/replies_to.hpp"
#include "caf/typed_actor.hpp"

#include "p2pd/actors/names/name_client.hpp"
#include "p2pd/messages/daemon.hpp"
#include "p2pd/messages/interface.hpp"
#include "p2pd/messages/pipe.hpp"
#include "p2pd/node/connect/plan.hpp"
#include "p2pd/node/metrics/node_metrics.hpp"
#include "p2pd/node/node_stats.hpp"

// The node's typed interface and what it sends. The core's interfaces live
// in messages/; a layer above the core keeps its own beside its actor (the
// core cannot include node/).

namespace p2pd {

using connect_atom = caf::atom_constant<caf::atom("p2connect")>;
using children_atom = caf::atom_constant<caf::atom("p2children")>;

/// What became of one attempt of a connect.
struct attempt_report {
  std::string attempt;  ///< node::attempt::to_string()
  std::string outcome;  ///< "won", "cancelled", "not tried", or the error
  int64_t ms = 0;       ///< from the connect's start to this outcome
};

/// How a connect went.
struct connect_report {
  std::string peer;                      ///< the peer's node id
  node::strategy how = node::strategy::direct;
  node::path_kind path = node::path_kind::external;
  net::family fam = net::family::v4;
  node::transport kind = node::transport::stream;
  endpoint local;
  endpoint remote;
  int64_t ms = 0;                        ///< the whole connect
  /// Already connected (or being connected): the existing connection.
  bool shared = false;
  std::vector<attempt_report> attempts;

  /// "direct IPv4 same-host 127.0.0.1:40001 in 3 ms (2 attempts)".
  std::string to_string() const;
};

/// A connection between two nodes: an ordinary pipe whose messages are the
/// application's. To answer, send (bytes, `remote`) to `pipe` (a node's
/// listener serves many peers, so the endpoint says which).
struct node_connection {
  pipe_actor pipe;
  endpoint remote;
  std::string peer;       ///< the peer's node id, as its certificate proved
  bool inbound = false;   ///< the peer connected to us
  connect_report report;  ///< outbound only
};

/// A message from a peer, as subscribers get it.
struct node_msg {
  bytes data;
  std::string peer;  ///< the sender's node id
  pipe_actor pipe;   ///< answer here, to `from`
  endpoint from;
};

/// A peer connection came up (after the hello) or ended.
struct node_peer_up {
  node_connection conn;
};
struct node_peer_end {
  std::string peer;
  pipe_actor pipe;
  endpoint from;
  caf::error reason;  ///< none for an orderly close
};

/// Something the node refused (also counted in node_stats): a peer that
/// failed authentication or sent no, a bad or an unasked hello; a
/// signalling request that was malformed, unasked or over the limit; a peer
/// address that did not parse or verify.
struct node_refused {
  std::string what;   ///< "auth", "hello", "reverse", "request" or "address"
  std::string peer;   ///< the node id, when known
  caf::error reason;
};

/// A step of the node's start, for a program to show progress.
struct node_progress {
  std::string what;  ///< "interface lo loaded", "signalling online", "listening on ..."
};

/// Who a node is and where it listens.
struct node_info {
  std::string id;
  std::string address;  ///< the signed peer address, text form
  uint16_t port = 0;
  std::vector<listener_info> listeners;
};

/// A child of the node (its supervision tree, one level deep).
struct node_child {
  std::string name;    ///< "interface lo", "signal node", "daemon"
  caf::actor actor;    ///< null while its restart waits for its backoff
  uint32_t restarts = 0;
};

/// A P2P node (node/node_actor.hpp). Requests answer with the value shown
/// or a caf::error of the p2pd category.
///
/// - ready: answers once the node listens and its signalling is online.
/// - info: its id, signed address and listeners (from the start on; the
///   address has no routes until the interfaces are loaded).
/// - connect (peer address[, options]): a connection to that node, made by
///   the first strategy that works, with a report of every attempt; an
///   existing one to the same node is shared. Given a name instead of an
///   address, the node looks it up on its name servers, keeps the newest
///   record whose signature checks and whose owner is the node its address
///   names (errc::forged otherwise), asks that node for its current address
///   over signalling, then connects; the report starts with the lookup and
///   the address request.
/// - name register / delete (name): the node signs a record of the name
///   with its key and its address (or a deletion) and sends it to every
///   name server; it keeps a registered name current. name_publish says
///   which servers stored it.
/// - name lookup (name): name_lookup from the node's name servers.
/// - send (peer id, bytes): on the connection to that peer.
/// - subscribe / unsubscribe (actor): node_msg, node_peer_up,
///   node_peer_end, node_refused and node_progress.
/// - close (peer id): closes the connections with that peer.
/// - children: the interface actors, signal node and daemon it supervises.
/// - stats: the node's own counters.
/// - metrics: node_metrics, its counters with its pipes' and signal node's,
///   gathered within timeouts::metrics_gather (node/metrics/prometheus.hpp
///   writes them for /metrics).
/// - close (ends connections, listeners, signalling and interface
///   actors, then answers).
using node_actor = caf::typed_actor<
  caf::replies_to<ready_atom>::with<node_info>,
  caf::replies_to<info_atom>::with<node_info>,
  caf::replies_to<connect_atom, std::string>::with<node_connection>,
  caf::replies_to<connect_atom, std::string, node::connect_options>::with<node_connection>,
  caf::replies_to<send_atom, std::string, bytes>::with<caf::ok_atom>,
  caf::replies_to<caf::subscribe_atom, caf::actor>::with<caf::ok_atom>,
  caf::replies_to<caf::unsubscribe_atom, caf::actor>::with<caf::ok_atom>,
  caf::replies_to<stats_atom>::with<node_stats>,
  caf::replies_to<metrics_atom>::with<node_metrics>,
  caf::replies_to<children_atom>::with<std::vector<node_child>>,
  caf::replies_to<name_register_atom, std::string>::with<name_publish>,
  caf::replies_to<name_delete_atom, std::string>::with<name_publish>,
  caf::replies_to<name_lookup_atom, std::string>::with<name_lookup>,
  caf::replies_to<caf::close_atom, std::string>::with<caf::ok_atom>,
  caf::replies_to<caf::close_atom>::with<caf::ok_atom>>;

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, attempt_report& x) {
  return f(caf::meta::type_name("p2pd::attempt_report"), x.attempt, x.outcome, x.ms);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, connect_report& x) {
  return f(caf::meta::type_name("p2pd::connect_report"), x.peer, x.how, x.path, x.fam, x.kind, x.local,
           x.remote, x.ms, x.shared, x.attempts);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_connection& x) {
  return f(caf::meta::type_name("p2pd::node_connection"), x.pipe, x.remote, x.peer, x.inbound,
           x.report);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_msg& x) {
  return f(caf::meta::type_name("p2pd::node_msg"), x.data, x.peer, x.pipe, x.from);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_peer_up& x) {
  return f(caf::meta::type_name("p2pd::node_peer_up"), x.conn);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_peer_end& x) {
  return f(caf::meta::type_name("p2pd::node_peer_end"), x.peer, x.pipe, x.from, x.reason);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_refused& x) {
  return f(caf::meta::type_name("p2pd::node_refused"), x.what, x.peer, x.reason);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_progress& x) {
  return f(caf::meta::type_name("p2pd::node_progress"), x.what);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_info& x) {
  return f(caf::meta::type_name("p2pd::node_info"), x.id, x.address, x.port, x.listeners);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_child& x) {
  return f(caf::meta::type_name("p2pd::node_child"), x.name, x.actor, x.restarts);
}

/// Adds the node's message types to `cfg` (p2pd::config does).
void register_node_types(caf::actor_system_config& cfg);

} // namespace p2pd

namespace p2pd::node {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, connect_options& x) {
  return f(caf::meta::type_name("p2pd::connect_options"), x.kind, x.strategies, x.families,
           x.max_per_strategy);
}

} // namespace p2pd::node
