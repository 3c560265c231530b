#pragma once

// The netcat loop of `p2pd connect` and `p2pd listen`: stdin to one peer,
// that peer's messages to stdout, pings from anyone answered.

#include <chrono>
#include <string>

#include "node_options.hpp"

namespace p2pd::cli {

struct session_spec {
  std::string peer;                     ///< the peer's node id
  bool datagram = false;                ///< sealed datagrams: smaller chunks, losses tolerated
  bool read_stdin = true;               ///< false: only receive (until the peer ends)
  std::chrono::seconds close_wait{10};  ///< for the peer to confirm our last bytes
};

/// Runs the session until stdin ends (what is left is sent, then a ping
/// whose pong proves the peer has it all, then a bye, then the connection
/// is closed), the peer says bye or closes, or a stop signal comes. Returns
/// the exit code: 0, exit_timeout when the peer did not confirm our last
/// bytes within close_wait (or ended the session first), exit_failure when the connection broke or stdin
/// could not be read (the session ends then as at the end of stdin).
int run_session(running_node& rn, const session_spec& s);

/// If `m` is a ping, answers it with its pong and returns true.
bool answer_ping(node_handle& n, const node_msg& m);

/// Writes all of `data` to stdout; false when stdout is closed or broken.
bool write_stdout(const bytes& data);

} // namespace p2pd::cli
