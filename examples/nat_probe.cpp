// nat_probe <server-ip>:<port>: classifies the NAT between this host and an
// RFC 5780 STUN server (tests I, II, III, I') and its port allocation (delta).
// Prints one machine-readable line, then a human one:
//   nat=port_restricted delta=equal delta_value=0 mapped=198.51.100.15:40000
// Exit 0 on success, 1 on error.
#include <iostream>
#include <string>

#include "p2pd/actors/stun/nat_probe.hpp"
#include "p2pd/p2pd.hpp"

using namespace p2pd;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " <server-ip>:<port>\n";
    return 1;
  }
  auto server = endpoint::parse(argv[1]);
  if (!server) {
    std::cerr << "nat_probe: " << net::to_string(server.error()) << '\n';
    return 1;
  }
  runtime rt;
  nat_probe_spec spec;
  spec.server = *server;
  auto rep = probe_nat(rt, spec);
  if (!rep) {
    std::cerr << "nat_probe: " << render(rep.error()) << '\n';
    return 1;
  }
  std::cout << "nat=" << net::to_string(rep->nat) << " delta=" << net::to_string(rep->delta.type)
            << " delta_value=" << rep->delta.value
            << " mapped=" << (rep->mapped ? rep->mapped->to_string() : std::string{"none"});
  if (rep->mapped_ports)
    std::cout << " mapped_ports=" << rep->mapped_ports->first << '-' << rep->mapped_ports->last;
  std::cout << '\n';
  const auto& t = rep->tests;
  std::cout << "NAT " << net::to_string(rep->nat) << ", port allocation "
            << net::to_string(rep->delta.type);
  if (rep->delta.value != 0)
    std::cout << " (step " << rep->delta.value << ')';
  std::cout << "; from " << rep->local.to_string() << " via " << server->to_string()
            << " (alternate "
            << (rep->alternate ? rep->alternate->to_string() : std::string{"none"})
            << "): test I " << net::to_string(t.test1.reply) << ", II "
            << net::to_string(t.test2.reply) << ", III " << net::to_string(t.test3.reply)
            << ", I' " << net::to_string(t.test1_alt.reply);
  if (t.test1_alt.mapped)
    std::cout << " -> " << t.test1_alt.mapped->to_string();
  std::cout << "; " << rep->samples.size() << " delta samples (local->mapped:";
  for (const auto& s : rep->samples)
    std::cout << ' ' << s.local_port << "->" << s.mapped_port;
  std::cout << ")\n";
  for (const auto& n : rep->notes)
    std::cout << "note: " << n << '\n';
  return 0;
}
