// interface [--servers FILE] [NIC]: the seed's `await Interface().start()`.
// Loads a NIC (default: the one of the default route) with the STUN and NAT
// servers of FILE (see config/servers.conf; none: offline, NAT unknown) and
// prints what it learnt: one machine-readable line per family, e.g.
//   v4 nat=port_restricted delta=equal delta_value=0 nic=10.0.1.2 ext=198.51.100.11
// then a line with the start time and the full description.
#include <chrono>
#include <iostream>
#include <string>

#include "p2pd/p2pd.hpp"

using namespace p2pd;

int main(int argc, char** argv) {
  interface_spec spec;
  spec.refresh_interval = {};
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--servers" && i + 1 < argc) {
      auto list = net::load_server_list(argv[++i]);
      if (!list) {
        std::cerr << "interface: " << list.error().what << '\n';
        return 1;
      }
      add_servers(spec, *list); // resolved by the actor, within spec.dns_timeout
    } else if (!arg.empty() && arg[0] != '-' && spec.name.empty()) {
      spec.name = arg;
    } else {
      std::cerr << "usage: " << argv[0] << " [--servers FILE] [NIC]\n";
      return 1;
    }
  }
  runtime rt;
  auto t0 = std::chrono::steady_clock::now();
  auto li = load_interface(rt.system(), spec);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
              std::chrono::steady_clock::now() - t0).count();
  if (!li) {
    std::cerr << "interface: " << render(li.error()) << '\n';
    return 1;
  }
  const auto& s = li->state;
  for (const auto& u : s.unresolved)
    std::cerr << "interface: unresolved server " << u << '\n';
  for (auto fam : {net::family::v4, net::family::v6}) {
    auto* r = s.route(fam);
    if (!r)
      continue;
    auto n = s.nat(fam);
    std::cout << (fam == net::family::v4 ? "v4" : "v6") << " nat=" << net::to_string(n.nat)
              << " delta=" << net::to_string(n.delta) << " delta_value=" << n.delta_value
              << " nic=" << (r->nic() ? r->nic()->to_string() : "none")
              << " ext=" << (r->ext() ? r->ext()->to_string() : "none") << '\n';
  }
  std::cout << "start_ms=" << ms << '\n' << s.to_string();
  return 0;
}
