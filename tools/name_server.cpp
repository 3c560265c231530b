// name_server <ip> --db sqlite:PATH|postgresql://... [--port N] [--udp-only |
// --tcp-only] [--max-names-per-key N]: the name service of issue 16 as a
// program. Stores signed name records (proto/names.proto) and answers
// put, delete and lookup requests over UDP and TCP (length-prefixed) on one
// port, until SIGINT or SIGTERM. --ip-limit and --key-limit set the rate
// limits (BURST/PER_S). Example:
//   name_server 127.0.0.1 --port 5300 --db sqlite:/var/lib/p2pd/names.db
#include <iostream>
#include <string>

#include "args.hpp"
#include "stop_signals.hpp"

#include "p2pd/api/names.hpp"
#include "p2pd/p2pd.hpp"

using namespace p2pd;

int main(int argc, char** argv) {
  examples::args cli{"name_server", "signed name records over UDP and TCP until SIGINT or SIGTERM"};
  cli.option("--db", "URL", "sqlite:PATH (created if missing) or postgresql://... (required)")
    .option("--port", "N", "port for UDP and TCP (default 5300; 0: a free port)")
    .option("--max-names-per-key", "N", "names one key may hold (default 16)")
    .option("--ip-limit", "BURST/PER_S", "requests per source IP (default 20/5)")
    .option("--key-limit", "BURST/PER_S", "puts and deletions per key (default 10/1)")
    .flag("--udp-only", "no TCP listener")
    .flag("--tcp-only", "no UDP listener")
    .positional("<ip>", 1, 1);
  if (auto rc = cli.parse(argc, argv))
    return *rc;
  auto db = cli.value("--db");
  if (!db)
    return cli.fail("--db is required");
  if (cli.has("--udp-only") && cli.has("--tcp-only"))
    return cli.fail("--udp-only and --tcp-only exclude each other");
  auto port = cli.port("--port", 5300, true);
  if (!port)
    return examples::exit_usage;
  auto ip = net::ip_address::parse(cli.positionals().front());
  if (!ip)
    return cli.fail("'" + cli.positionals().front() + "' is not an IP address");
  name_server_spec spec;
  if (auto n = cli.value("--max-names-per-key")) {
    auto count = examples::parse_count(*n, 1, 1000000);
    if (!count)
      return cli.fail("--max-names-per-key '" + *n + "' is not a number in 1..1000000");
    spec.rules.max_names_per_key = static_cast<uint32_t>(*count);
  }
  // "BURST/PER_S": two counts.
  auto limit = [&](const char* opt, double& burst, double& per_s) {
    auto v = cli.value(opt);
    if (!v)
      return true;
    auto slash = v->find('/');
    auto b = examples::parse_count(v->substr(0, slash), 1, 1000000);
    auto r = slash == std::string::npos ? std::nullopt
                                        : examples::parse_count(v->substr(slash + 1), 1, 1000000);
    if (!b || !r)
      return false;
    burst = static_cast<double>(*b);
    per_s = static_cast<double>(*r);
    return true;
  };
  if (!limit("--ip-limit", spec.limits.ip_burst, spec.limits.ip_per_s))
    return cli.fail("--ip-limit takes BURST/PER_S, two numbers in 1..1000000");
  if (!limit("--key-limit", spec.limits.key_burst, spec.limits.key_per_s))
    return cli.fail("--key-limit takes BURST/PER_S, two numbers in 1..1000000");
  auto store = net::names::open_store(*db);
  if (!store && store.error().code == errc::invalid_argument)
    return cli.fail(store.error().what); // the URL itself: a usage error
  if (!store)
    return cli.error("cannot open " + *db, store.error());
  spec.store = std::move(*store);
  auto stop = examples::block_stop_signals();
  runtime rt;
  bool both = !cli.has("--udp-only") && !cli.has("--tcp-only");
  // With both, UDP listens on the port TCP got (port 0: a free one), so
  // that one port serves.
  auto first = cli.has("--udp-only") ? net::protocol::udp : net::protocol::tcp;
  daemon_spec base;
  base.lock_ports = false; // no data directory: the bind itself keeps others off
  auto srv = start_name_server(rt, spec, {{first, endpoint{*ip, *port}}}, base);
  if (!srv)
    return cli.error("cannot serve", srv.error());
  if (both) {
    auto udp_port = srv->listeners.front().local.port;
    auto more = srv->daemon->listen_specific({{net::protocol::udp, endpoint{*ip, udp_port}}});
    if (!more)
      return cli.error("cannot serve UDP", more.error());
    srv->listeners.insert(srv->listeners.end(), more->begin(), more->end());
  }
  for (const auto& l : srv->listeners)
    std::cout << "serving " << net::to_string(l.proto) << ' ' << l.local.to_string() << '\n';
  std::cout << std::flush;
  examples::wait_for_stop(stop);
  return 0;
}
