#pragma once

// The STUN server as a program (tools/stun_server, p2pd stun-server): opens
// it, prints one "serving udp|tcp IP:PORT" line per socket on stdout and
// serves until SIGINT or SIGTERM.

#include <iostream>
#include <string>

#include "args.hpp"
#include "stop_signals.hpp"

#include "p2pd/api/blocking.hpp"
#include "p2pd/actors/stun/stun_server.hpp"
#include "p2pd/p2pd.hpp"

namespace p2pd::tools {

/// Serves `spec` until stopped: exit 0, or 1 with "program: why" on stderr
/// when the server cannot open (a port in use, an address not ours).
inline int serve_stun_until_stopped(const stun_server_spec& spec, const std::string& program) {
  auto stop = examples::block_stop_signals();
  runtime rt;
  auto srv = start_stun_server(rt, spec);
  if (!srv) {
    std::cerr << program << ": " << render(srv.error()) << '\n';
    return examples::exit_failure;
  }
  for (const auto& p : srv->pipes)
    std::cout << "serving " << net::to_string(p.proto) << ' ' << p.local.to_string() << '\n';
  std::cout << std::flush;
  examples::wait_for_stop(stop);
  return 0;
}

} // namespace p2pd::tools
