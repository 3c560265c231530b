#pragma once

#include <optional>
#include <string>
#include <vector>

#include "p2pd/actors/daemon/restart_budget.hpp"
#include "p2pd/actors/pipe/pipe_spec.hpp"

namespace p2pd {
class net_stack;
} // namespace p2pd

namespace p2pd {

/// What every listener of a daemon shares.
struct daemon_spec {
  /// Runs for each message on any listener, on the I/O thread (see msg_handler).
  msg_handler on_msg;
  /// Actors that get every listener's events.
  std::vector<subscriber> subscribers;
  /// Options of every listener. reuse_addr (SO_REUSEPORT) is off unless set
  /// here: only then may other sockets share a listener's port. A restarted
  /// listener binds its port again at once without it (TCP listeners set
  /// SO_REUSEADDR, which TIME_WAIT needs; UDP has none).
  net_conf conf;
  /// TLS for every TCP listener: the server certificate and key.
  std::optional<net::tls_config> tls;
  /// A ready TLS context for every TCP listener instead (a node's, from
  /// tls_context::make_node; see pipe_spec::tls_context).
  std::shared_ptr<net::tls_context> tls_context;
  /// TCP listeners frame messages by length (pipe_spec::length_prefixed).
  bool length_prefixed = false;
  /// How listeners are spawned; null: spawn_pipe (the host's network).
  std::shared_ptr<const net_stack> stack;
  restart_policy policy;
  /// Lock each listen port in `<data_dir>/locks`: a process of the same
  /// data directory that holds the port is named with its pid, which bind()
  /// cannot do, and with reuse_addr the lock is what keeps two such
  /// processes apart. The kernel drops the locks when the process dies.
  bool lock_ports = true;
  /// Default: $P2PD_DATA_DIR, else ~/.p2pd.
  std::optional<std::string> data_dir;
};

} // namespace p2pd
