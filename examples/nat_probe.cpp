// nat_probe <server-ip>:<port> [<server-ip>:<port> ...]: classifies the NAT
// between this host and an RFC 5780 STUN server (tests I, II, III, I') and its
// port allocation (delta). With several servers, the next is tried while the
// last could not tell (down, or unable to run every test).
// Prints one machine-readable line, then a human one, then any notes:
//   nat=port_restricted delta=equal delta_value=0 mapped=198.51.100.15:40000 mapped_ports=...
// Exit 0 on success, 1 when the probe failed (no server answered at all:
// "server unreachable"), 2 on bad arguments.
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "p2pd/actors/stun/nat_probe.hpp"
#include "p2pd/p2pd.hpp"

using namespace p2pd;

namespace {

constexpr int exit_usage = 2;

void usage(std::ostream& out, const char* argv0) {
  out << "usage: " << argv0 << " <server-ip>:<port> [<server-ip>:<port> ...]\n"
      << "  e.g. " << argv0 << " 203.0.113.10:3478 or " << argv0 << " [2001:db8::10]:3478\n";
}

int bad_usage(const char* argv0, const std::string& why) {
  std::cerr << "nat_probe: " << why << '\n';
  usage(std::cerr, argv0);
  return exit_usage;
}

void print(const nat_report& rep) {
  std::cout << "nat=" << net::to_string(rep.nat) << " delta=" << net::to_string(rep.delta.type)
            << " delta_value=" << rep.delta.value
            << " mapped=" << (rep.mapped ? rep.mapped->to_string() : std::string{"none"});
  if (rep.mapped_ports)
    std::cout << " mapped_ports=" << rep.mapped_ports->first << '-' << rep.mapped_ports->last;
  std::cout << '\n';
  const auto& t = rep.tests;
  std::cout << "NAT " << net::to_string(rep.nat) << ", port allocation "
            << net::to_string(rep.delta.type);
  if (rep.delta.value != 0)
    std::cout << " (step " << rep.delta.value << ')';
  std::cout << "; from " << rep.local.to_string() << " via " << rep.server.to_string()
            << " (alternate "
            << (rep.alternate ? rep.alternate->to_string() : std::string{"none"})
            << "): test I " << net::to_string(t.test1.reply) << ", II "
            << net::to_string(t.test2.reply) << ", III " << net::to_string(t.test3.reply)
            << ", I' ";
  if (rep.test1_alt_to)
    std::cout << "to " << rep.test1_alt_to->to_string() << ' ';
  std::cout << net::to_string(t.test1_alt.reply);
  if (t.test1_alt.mapped)
    std::cout << " -> " << t.test1_alt.mapped->to_string();
  std::cout << "; " << rep.samples.size() << " delta samples (local->mapped:";
  for (const auto& s : rep.samples)
    std::cout << ' ' << s.local_port << "->" << s.mapped_port;
  std::cout << ")\n";
  for (const auto& n : rep.notes)
    std::cout << "note: " << n << '\n';
}

} // namespace

int main(int argc, char** argv) {
  std::vector<endpoint> servers;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg{argv[i]};
    if (arg == "-h" || arg == "--help") {
      usage(std::cout, argv[0]);
      return 0;
    }
    if (!arg.empty() && arg[0] == '-')
      return bad_usage(argv[0], "unknown option '" + std::string{arg} + "'");
    auto server = endpoint::parse(argv[i]);
    if (!server)
      return bad_usage(argv[0], "'" + std::string{arg}
                                  + "' is not <ip>:<port>: " + net::to_string(server.error()));
    if (server->port == 0)
      return bad_usage(argv[0], "'" + std::string{arg} + "' has no port (or port 0)");
    servers.push_back(*server);
  }
  if (servers.empty())
    return bad_usage(argv[0], "no server given");
  runtime rt;
  auto rep = probe_nat_any(rt.system(), servers, nat_probe_spec{});
  if (!rep) {
    std::cerr << "nat_probe: " << render(rep.error()) << '\n';
    return 1;
  }
  print(*rep);
  return 0;
}
