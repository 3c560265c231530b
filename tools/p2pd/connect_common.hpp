#pragma once

// What `p2pd connect` and `p2pd ping` share: the target, the connect
// options, and the connect itself with its report on stderr.

#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "node_options.hpp"

namespace p2pd::cli {

struct connect_cmd_options {
  node_options node;
  std::string target;           ///< a peer address or a name
  bool udp = false;             ///< sealed datagrams (punch, relay)
  std::string strategies;       ///< comma-separated; empty: the transport's default
  int timeout_s = 10;           ///< bound of every wait after the connect
};

/// Adds the node options, TARGET, --udp, --strategies and --timeout.
void add_connect_options(CLI::App* app, connect_cmd_options& o);

/// Starts the node and connects to the target; the connect report goes to
/// stderr (strategy, path, time and every attempt). Returns the connection,
/// or the exit code after saying why on stderr: 1 (node, servers, lookup),
/// 3 (the connect failed).
struct connected {
  std::optional<node_connection> conn;
  int rc = 0;
};
connected start_and_connect(running_node& rn, const connect_cmd_options& o);

} // namespace p2pd::cli
