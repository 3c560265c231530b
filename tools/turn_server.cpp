// turn_server <ip> [<user:password>...] [--users-file FILE] [--port N] [--realm R]
// [--relay-ports LO-HI] [--allow-loopback-peers]: the project's TURN server actor as a program
// (RFC 8656 UDP relays over UDP or TCP, RFC 6062 TCP relays over TCP,
// long-term credentials). Relays from <ip>
// on ports of the range (default 49152-65535; 0-0: free ports), to peers
// that are not loopback (unless allowed), multicast, link-local or itself. Prints
// "serving udp IP:PORT" and runs until SIGINT or SIGTERM.
// --users-file keeps the passwords off the command line (which `ps`
// shows): one user:password a line; blank lines and '#' lines skipped.
// Example: turn_server 127.0.0.1 alice:wonderland --port 3478
#include <fstream>
#include <iostream>
#include <string>

#include "args.hpp"
#include "stop_signals.hpp"

#include "p2pd/actors/turn_server/turn_server.hpp"
#include "p2pd/p2pd.hpp"

using namespace p2pd;

int main(int argc, char** argv) {
  examples::args cli{"turn_server", "TURN server (UDP relays; TCP relays over TCP) until SIGINT or SIGTERM"};
  cli.option("--port", "N", "port clients use (default 3478; 0: a free port)")
    .option("--realm", "R", "realm of the long-term credentials (default p2pd)")
    .option("--relay-ports", "LO-HI", "relayed ports (default 49152-65535; 0-0: free ports)")
    .flag("--allow-loopback-peers", "relay to loopback peers (tests on one host)")
    .option("--users-file", "FILE", "user:password lines (kept off the command line)")
    .positional("<ip> [<user:password>...]", 1, 256);
  if (auto rc = cli.parse(argc, argv))
    return *rc;
  turn_server_spec spec;
  auto port = cli.port("--port", 3478, true);
  if (!port)
    return examples::exit_usage;
  auto ip = net::ip_address::parse(cli.positionals()[0]);
  if (!ip)
    return cli.fail("'" + cli.positionals()[0] + "' is not an IP address");
  spec.listen = endpoint{*ip, *port};
  spec.relay_ip = *ip;
  auto add_user = [&](const std::string& u) {
    auto colon = u.find(':');
    if (colon == std::string::npos || colon == 0)
      return false;
    spec.users[u.substr(0, colon)] = u.substr(colon + 1);
    return true;
  };
  for (size_t i = 1; i < cli.positionals().size(); ++i)
    if (!add_user(cli.positionals()[i]))
      return cli.fail("'" + cli.positionals()[i] + "' is not user:password");
  if (auto f = cli.value("--users-file")) {
    std::ifstream in{*f};
    if (!in)
      return cli.fail("--users-file " + *f + ": cannot be read");
    size_t n = 0;
    for (std::string line; std::getline(in, line);) {
      ++n;
      if (!line.empty() && line.back() == '\r')
        line.pop_back();
      if (line.empty() || line[0] == '#')
        continue;
      if (!add_user(line)) // the line itself not said: it may hold a password
        return cli.fail("--users-file " + *f + ": line " + std::to_string(n)
                        + " is not user:password");
    }
  }
  spec.allow_loopback_peers = cli.has("--allow-loopback-peers");
  if (auto r = cli.value("--realm"))
    spec.realm = *r;
  if (auto r = cli.value("--relay-ports")) {
    auto dash = r->find('-');
    std::string why;
    auto lo = dash == std::string::npos ? std::nullopt
                                        : examples::parse_port(r->substr(0, dash), true, &why);
    auto hi = lo ? examples::parse_port(r->substr(dash + 1), true, &why) : std::nullopt;
    if (!lo || !hi)
      return cli.fail("--relay-ports '" + *r + "': LO-HI" + (why.empty() ? "" : ": " + why));
    spec.relay_port_min = *lo;
    spec.relay_port_max = *hi;
  }
  if (auto err = spec.check()) // what the arguments asked for cannot work
    return cli.fail(render(err));
  auto stop = examples::block_stop_signals();
  runtime rt;
  auto srv = spawn_turn_server(rt.system(), spec);
  if (!srv)
    return cli.error("spawn", srv.error());
  caf::scoped_actor self{rt.system()};
  int rc = 0;
  self->request(*srv, std::chrono::seconds(10), caf::open_atom::value)
    .receive(
      [&](pipe_info& i) { std::cout << "serving udp " << i.local.to_string() << std::endl; },
      [&](caf::error& err) { rc = cli.error("open", err); });
  if (rc != 0)
    return rc;
  examples::wait_for_stop(stop);
  caf::anon_send_exit(*srv, caf::exit_reason::user_shutdown);
  return 0;
}
