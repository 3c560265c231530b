// p2pd stun-server IP [ALT_IP] [--port N] [--alt-port N]: the project's STUN
// server (tools/stun_server) until SIGINT or SIGTERM.
#include <iostream>
#include <memory>

#include "cli.hpp"
#include "stun_serving.hpp"


namespace p2pd::cli {

namespace {

struct stun_server_options {
  std::vector<std::string> ips;
  uint16_t port = 3478;
  int alt_port = -1; ///< -1: port + 1
};

int run_stun_server(const CLI::App& app, const stun_server_options& o) {
  stun_server_spec spec;
  spec.addrs.primary_port = o.port;
  for (size_t i = 0; i < o.ips.size(); ++i) {
    auto ip = net::ip_address::parse(o.ips[i]);
    if (!ip)
      return usage_error(app, "'" + o.ips[i] + "' is not an IP address");
    (i == 0 ? spec.addrs.primary_ip : spec.addrs.alt_ip.emplace()) = *ip;
  }
  if (o.port == 65535 && spec.addrs.alt_ip && o.alt_port < 0)
    return usage_error(app, "--port 65535 leaves no port + 1: give --alt-port");
  if (spec.addrs.alt_ip)
    spec.addrs.alt_port = o.alt_port >= 0 ? static_cast<uint16_t>(o.alt_port)
                         : o.port == 0 ? 0 : static_cast<uint16_t>(o.port + 1);
  return tools::serve_stun_until_stopped(spec, "p2pd stun-server");
}

} // namespace

void add_stun_server(CLI::App& root, command_list& out) {
  auto o = std::make_shared<stun_server_options>();
  auto* app = root.add_subcommand(
    "stun-server", "an RFC 5780 STUN server over UDP and TCP until SIGINT or SIGTERM; with an "
                   "alternate IP it answers change requests (NAT type tests)");
  app->add_option("ip", o->ips, "the primary IP, then optionally the alternate IP")
    ->required()
    ->expected(1, 2)
    ->type_name("IP");
  app->add_option("--port", o->port, "primary port (default 3478; 0: a free port)")
    ->check(CLI::Range(0, 65535))
    ->type_name("N");
  app->add_option("--alt-port", o->alt_port, "alternate port (default: port + 1)")
    ->check(CLI::Range(0, 65535))
    ->type_name("N");
  out.push_back({app, [app, o] { return run_stun_server(*app, *o); }});
}

} // namespace p2pd::cli
