// stun_server <ip> [<alternate ip>] [--port N] [--alt-port N]: the project's
// STUN server as a program. With an alternate IP it answers RFC 5780 / RFC
// 3489 change requests (NAT type tests) on two addresses and two ports (the
// alternate port defaults to port + 1; port 0: free ports); UDP and TCP. Runs until SIGINT or
// SIGTERM. Example: stun_server 127.0.0.1 127.0.0.2 --port 3478
#include <iostream>
#include <string>

#include "args.hpp"
#include "stun_serving.hpp"

#include "p2pd/p2pd.hpp"

using namespace p2pd;

int main(int argc, char** argv) {
  examples::args cli{"stun_server", "RFC 5780 STUN server over UDP and TCP until SIGINT or SIGTERM"};
  cli.option("--port", "N", "primary port (default 3478; 0: a free port)")
    .option("--alt-port", "N", "alternate port (default: port + 1)")
    .positional("<ip> [<alternate ip>]", 1, 2);
  if (auto rc = cli.parse(argc, argv))
    return *rc;
  stun_server_spec spec;
  auto port = cli.port("--port", 3478, true);
  if (!port)
    return examples::exit_usage;
  spec.addrs.primary_port = *port;
  std::optional<uint16_t> alt_port;
  if (cli.has("--alt-port")) {
    alt_port = cli.port("--alt-port", 0, true);
    if (!alt_port)
      return examples::exit_usage;
  }
  for (size_t i = 0; i < cli.positionals().size(); ++i) {
    const auto& text = cli.positionals()[i];
    auto ip = net::ip_address::parse(text);
    if (!ip)
      return cli.fail("'" + text + "' is not an IP address");
    (i == 0 ? spec.addrs.primary_ip : spec.addrs.alt_ip.emplace()) = *ip;
  }
  if (spec.addrs.primary_port == 65535 && spec.addrs.alt_ip && !alt_port)
    return cli.fail("--port 65535 leaves no port + 1: give --alt-port");
  if (spec.addrs.alt_ip)
    spec.addrs.alt_port = alt_port.value_or(
      spec.addrs.primary_port == 0 ? 0 : static_cast<uint16_t>(spec.addrs.primary_port + 1));
  return tools::serve_stun_until_stopped(spec, "stun_server");
}
