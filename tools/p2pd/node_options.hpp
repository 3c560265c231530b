#pragma once

// What every command that starts a node shares: its options (--servers,
// --data-dir, --interfaces, --port, --nat4/--nat6), the node spec made from
// them, and a running node with the pieces a command loop needs (stop
// signals, an actor that gets the node's events, progress on stderr).

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "stop_signals.hpp"

#include "caf/scoped_actor.hpp"

#include "p2pd/node.hpp"
#include "p2pd/p2pd.hpp"

namespace p2pd::cli {

/// Sent by stop_watch to the command's actor when SIGINT or SIGTERM came.
using stop_signal_atom = caf::atom_constant<caf::atom("p2pdstop")>;

/// The options of a command that starts a node.
struct node_options {
  std::string servers;     ///< server file (config/servers.conf)
  std::string data_dir;    ///< empty: $P2PD_DATA_DIR, else ~/.p2pd
  std::string interfaces;  ///< comma-separated names; empty: the filter's
  uint16_t port = 0;       ///< 0: derived from the node id
  std::string nat4, nat6;  ///< given NATs, TYPE[/DELTA[:STEP]]
};

/// Adds --servers (alias --config), --data-dir, --interfaces, --port,
/// --nat4 and --nat6 to `app`.
void add_node_options(CLI::App* app, node_options& o);

/// The server file's entries; none without a file.
net::result<std::vector<net::server_entry>> load_servers(const std::string& file);

/// The node spec of `o` with the server file's servers.
node_spec make_node_spec(const node_options& o, const std::vector<net::server_entry>& servers);

/// Waits on a thread of its own for SIGINT or SIGTERM (blocked by
/// block_stop_signals before the runtime started its threads) and tells
/// `target` with (stop_signal_atom, signal number). Polls every 100 ms so
/// that its destructor can end it.
class stop_watch {
public:
  stop_watch(sigset_t set, caf::actor target);
  ~stop_watch();
  stop_watch(const stop_watch&) = delete;
  stop_watch& operator=(const stop_watch&) = delete;

private:
  std::shared_ptr<std::atomic<bool>> quit_;
  std::thread thread_;
};

/// A started node and what a command's loop needs around it. Create it
/// first thing in a command: it blocks the stop signals before the runtime
/// starts its threads.
struct running_node {
  running_node();
  ~running_node();
  running_node(const running_node&) = delete;
  running_node& operator=(const running_node&) = delete;

  /// Starts the node of `spec`; `self` gets its events from the start, and
  /// its progress goes to stderr when that is a terminal.
  caf::error start(node_spec spec);

  /// Closes the node (its connections first); says on stderr what failed.
  void close();

  sigset_t stop_set;
  runtime rt;
  caf::scoped_actor self;
  std::optional<stop_watch> watch;
  std::optional<node_handle> node;
  int64_t start_ms = 0;

private:
  caf::actor printer_; ///< progress on stderr; ended with the node
};

} // namespace p2pd::cli
