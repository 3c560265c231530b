// stun_server <ip> [<alternate ip>] [--port N] [--alt-port N]: the project's
// STUN server as a program. With an alternate IP it answers RFC 5780 / RFC
// 3489 change requests (NAT type tests) on two addresses and two ports (the
// alternate port defaults to port + 1; port 0: free ports); UDP and TCP. Runs until SIGINT or
// SIGTERM. Example: stun_server 127.0.0.1 127.0.0.2 --port 3478
#include <csignal>
#include <iostream>
#include <string>

#include "p2pd/actors/stun/stun_server.hpp"
#include "p2pd/p2pd.hpp"

using namespace p2pd;

int main(int argc, char** argv) {
  stun_server_spec spec;
  spec.addrs.primary_port = 3478;
  std::optional<uint16_t> alt_port;
  int ips = 0;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if ((arg == "--port" || arg == "--alt-port") && i + 1 < argc) {
      auto port = static_cast<uint16_t>(std::stoul(argv[++i]));
      (arg == "--port" ? spec.addrs.primary_port : alt_port.emplace()) = port;
    } else if (auto ip = net::ip_address::parse(arg); ip && ips < 2) {
      (ips++ == 0 ? spec.addrs.primary_ip : spec.addrs.alt_ip.emplace()) = *ip;
    } else {
      std::cerr << "usage: " << argv[0] << " <ip> [<alternate ip>] [--port N] [--alt-port N]\n";
      return 1;
    }
  }
  if (ips == 0) {
    std::cerr << "usage: " << argv[0] << " <ip> [<alternate ip>] [--port N] [--alt-port N]\n";
    return 1;
  }
  if (spec.addrs.alt_ip)
    spec.addrs.alt_port = alt_port.value_or(
      spec.addrs.primary_port == 0 ? 0 : static_cast<uint16_t>(spec.addrs.primary_port + 1));
  // Blocked before the runtime starts its threads, so that only sigwait sees them.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  runtime rt;
  auto srv = start_stun_server(rt, spec);
  if (!srv) {
    std::cerr << "stun_server: " << render(srv.error()) << '\n';
    return 1;
  }
  for (const auto& p : srv->pipes)
    std::cout << "serving " << net::to_string(p.proto) << ' ' << p.local.to_string() << '\n';
  std::cout << std::flush;
  int sig = 0;
  sigwait(&stop, &sig);
  return 0;
}
