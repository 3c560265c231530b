// interface [--servers FILE] [--dns-timeout MS] [--nat4 NAT] [--nat6 NAT] [NIC]:
// the seed's `await Interface().start()`; --nat4 / --nat6 give that family's
// NAT instead of probing it (the original's Interface(nat=...)), as
// TYPE[/DELTA[:STEP]], e.g. port_restricted/equal or symmetric/independent:2.
// Loads a NIC (default: the one of the default route) with the STUN and NAT
// servers of FILE (see config/servers.conf; none: offline, NAT unknown) and
// prints what it learnt: one machine-readable line per family, e.g.
//   v4 nat=port_restricted delta=equal delta_value=0 nic=10.0.1.2 ext=198.51.100.11
// then a line with the start time (name resolution included) and the full
// description. Servers whose names did not resolve are named on stderr.
// Exit 0, 1 when the NIC or the server file cannot be read, 2 on bad arguments.
#include <chrono>
#include <iostream>
#include <string>
#include <utility>

#include "args.hpp"
#include "given_nat.hpp"

#include "p2pd/api/blocking.hpp"
#include "p2pd/p2pd.hpp"

using namespace p2pd;

int main(int argc, char** argv) {
  examples::args cli{"interface", "loads a NIC (default: the default route's) and prints its NAT and "
                                  "external addresses"};
  cli.option("--servers", "FILE", "STUN and NAT servers (see config/servers.conf); none: offline")
    .option("--dns-timeout", "MS", "time allowed to resolve the servers' names (default 2000)")
    .option("--nat4", "NAT", "the IPv4 NAT, given, not probed: TYPE[/DELTA[:STEP]]")
    .option("--nat6", "NAT", "the IPv6 NAT, given, not probed: TYPE[/DELTA[:STEP]]")
    .positional("[NIC]", 0, 1);
  if (auto rc = cli.parse(argc, argv))
    return *rc;
  interface_spec spec;
  spec.refresh_interval = {};
  if (!cli.positionals().empty())
    spec.name = cli.positionals()[0];
  if (auto ms = cli.value("--dns-timeout")) {
    auto n = examples::parse_count(*ms, 1, 600000);
    if (!n)
      return cli.fail("--dns-timeout: '" + *ms + "' is not a number of milliseconds in 1..600000");
    spec.dns_timeout = std::chrono::milliseconds(*n);
  }
  for (auto [opt, fam] : {std::pair{"--nat4", net::family::v4}, {"--nat6", net::family::v6}})
    if (auto text = cli.value(opt)) {
      auto n = tools::parse_given_nat(fam, *text);
      if (!n)
        return cli.fail(std::string{opt} + ": " + n.error().what);
      spec.nats.push_back(*n);
    }
  if (auto file = cli.value("--servers")) {
    auto list = net::load_server_list(*file);
    if (!list) {
      std::cerr << "interface: " << list.error().what << '\n';
      return 1;
    }
    add_servers(spec, *list); // resolved by the actor, within spec.dns_timeout
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
