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

#include "args.hpp"

#include "p2pd/actors/stun/nat_probe.hpp"
#include "p2pd/p2pd.hpp"

using namespace p2pd;

namespace {

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
  examples::args cli{"nat_probe", "classifies the NAT between this host and RFC 5780 STUN servers,\n"
                                  "  e.g. nat_probe 203.0.113.10:3478 or nat_probe [2001:db8::10]:3478"};
  cli.positional("<server-ip>:<port> [<server-ip>:<port> ...]", 1, 64);
  if (auto rc = cli.parse(argc, argv))
    return *rc;
  std::vector<endpoint> servers;
  for (const auto& arg : cli.positionals()) {
    auto server = endpoint::parse(arg);
    if (!server)
      return cli.fail("'" + arg + "' is not <ip>:<port>: " + net::to_string(server.error()));
    if (server->port == 0)
      return cli.fail("'" + arg + "' has no port (or port 0)");
    servers.push_back(*server);
  }
  runtime rt;
  auto rep = probe_nat_any(rt.system(), servers, nat_probe_spec{});
  if (!rep) {
    std::cerr << "nat_probe: " << render(rep.error()) << '\n';
    return 1;
  }
  print(*rep);
  return 0;
}
