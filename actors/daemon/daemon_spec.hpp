#pragma once

#include <optional>
#include <string>
#include <vector>

#include "p2pd/actors/daemon/restart_budget.hpp"
#include "p2pd/actors/pipe/pipe_spec.hpp"

namespace p2pd {

/// What every listener of a daemon shares.
struct daemon_spec {
  /// Runs for each message on any listener, on the I/O thread (see msg_handler).
  msg_handler on_msg;
  /// Actors that get every listener's events.
  std::vector<subscriber> subscribers;
  /// Options of every listener; reuse_addr is always on, so that a restarted
  /// listener binds its port again at once.
  net_conf conf;
  /// TLS for every TCP listener: the server certificate and key.
  std::optional<net::tls_config> tls;
  restart_policy policy;
  /// Lock each listen port in `<data_dir>/locks`, so that two processes do
  /// not serve one port by accident (with SO_REUSEPORT both binds would
  /// succeed). The kernel drops the locks when the process dies.
  bool lock_ports = true;
  /// Default: $P2PD_DATA_DIR, else ~/.p2pd.
  std::optional<std::string> data_dir;
};

} // namespace p2pd
