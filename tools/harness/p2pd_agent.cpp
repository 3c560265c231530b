// p2pd_agent: the harness's agent. It publishes a typed actor (agent.hpp)
// with CAF's middleman on --listen (one address: loopback, or a lab
// namespace's address with --tls-dir; never a wildcard) and runs one P2P node at a time
// for a controller (p2pd_harness) that knows the shared token.
//
// stdout, for scripts and tests:
//   listening 127.0.0.1:41234 name=a1
// Exit: 0 after a quit request or SIGINT/SIGTERM; 1 the port could not be
// published (in use, no such address); 2 bad arguments.
#include <signal.h>

#include <chrono>
#include <iostream>
#include <thread>

#include "args.hpp"
#include "stop_signals.hpp"

#include "caf/io/middleman.hpp"
#include "caf/openssl/publish.hpp"
#include "caf/scoped_actor.hpp"

#include "agent.hpp"
#include "host_port.hpp"
#include "messages.hpp"
#include "node_lines.hpp"
#include "tls.hpp"
#include "token.hpp"

#include "p2pd/p2pd.hpp"

using namespace p2pd;

int main(int argc, char** argv) {
  examples::args cli{"p2pd_agent",
                     "the harness's agent: runs P2P nodes for a controller (p2pd_harness), "
                     "over CAF's middleman"};
  cli.option("--listen", "HOST:PORT", "where the middleman listens (an IP address; port 0: a free one)")
    .option("--name", "NAME", "the agent's name in reports (default: HOST:PORT)")
    .option("--token-file", "FILE", "the shared token (default $P2PD_HARNESS_TOKEN)")
    .option("--data-dir", "DIR", "where the node keeps its key (DIR/node)")
    .option("--servers", "FILE", "the nodes' server file (default none: offline)")
    .option("--interfaces", "NAMES", "the nodes' NICs, comma-separated (default: the filter's)")
    .option("--max-wait", "SEC", "bound of every request (default 120)")
    .option("--tls-dir", "DIR", "TLS for the middleman: DIR/cert.pem, key.pem, ca.pem (the "
                                "controller's certificate must be signed by ca.pem)")
    .flag("--insecure", "allow a non-loopback --listen without --tls-dir (the token then "
                        "crosses the network in clear)");
  if (auto rc = cli.parse(argc, argv))
    return *rc;
  auto listen = cli.value("--listen");
  if (!listen)
    return cli.fail("--listen is needed");
  std::string why;
  auto where = harness::parse_host_port(*listen, true, why);
  if (!where)
    return cli.fail("--listen: " + why);
  // Without TLS the token crosses the network in clear: only loopback,
  // unless asked for.
  auto host_ip = net::ip_address::parse(where->host);
  bool loopback = host_ip && host_ip->is_loopback();
  if (!loopback && !cli.has("--tls-dir") && !cli.has("--insecure"))
    return cli.fail("--listen " + where->host + " is not loopback: give --tls-dir (or "
                    "--insecure to send the token in clear)");
  auto data_dir = cli.value("--data-dir");
  if (!data_dir)
    return cli.fail("--data-dir is needed");
  auto token = harness::load_token(cli.value("--token-file").value_or(""));
  if (!token)
    return cli.fail(render(token.error()));
  harness::agent_config cfg;
  cfg.token = *token;
  cfg.data_dir = *data_dir;
  cfg.servers = cli.value("--servers").value_or("");
  if (auto names = cli.value("--interfaces"))
    cfg.interfaces = tools::split(*names, ',');
  if (auto w = cli.value("--max-wait")) {
    auto n = examples::parse_count(*w, 1, 3600);
    if (!n)
      return cli.fail("--max-wait: '" + *w + "' is not a number of seconds in 1..3600");
    cfg.max_wait = std::chrono::seconds(*n);
  }

  auto stop = examples::block_stop_signals();
  p2pd::config sys_cfg;
  harness::register_harness_types(sys_cfg);
  auto tls = cli.value("--tls-dir");
  if (tls)
    if (auto err = harness::use_tls(sys_cfg, *tls))
      return cli.fail(what_of(err));
  caf::actor_system sys{sys_cfg};
  cfg.name = cli.value("--name").value_or(where->to_string());
  auto name = cfg.name;
  auto agent = harness::spawn_agent(sys, std::move(cfg));
  // The agent takes exit messages only from actors of this process (not
  // anonymous ones): this one sends them.
  caf::scoped_actor self{sys};
  auto port = tls ? caf::openssl::publish(agent, where->port, where->host.c_str(), false)
                  : sys.middleman().publish(agent, where->port, where->host.c_str(), false);
  if (!port) {
    self->send_exit(agent, caf::exit_reason::user_shutdown);
    return cli.error("publish on " + where->to_string(), port.error());
  }
  where->port = *port;
  std::cout << "listening " << where->to_string() << " name=" << name << (tls ? " tls" : "")
            << std::endl;

  // Until the agent quits (a controller's quit) or a stop signal comes.
  self->monitor(agent);
  bool ended = false;
  timespec tick{0, 200'000'000};
  while (!ended) {
    if (::sigtimedwait(&stop, nullptr, &tick) > 0) {
      std::cerr << "p2pd_agent: stop signal\n";
      self->send_exit(agent, caf::exit_reason::user_shutdown);
    }
    self->receive([&](caf::down_msg&) { ended = true; },
                  caf::after(std::chrono::milliseconds(0)) >> [] {});
  }
  // The quit's answer is on its way through the middleman: let it go.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::cout << "ended" << std::endl;
  return 0;
}
