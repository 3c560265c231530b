#include "connect_common.hpp"

#include <iostream>

#include "cli.hpp"
#include "node_lines.hpp"

namespace p2pd::cli {

namespace {

CLI::Validator strategies_check() {
  return CLI::Validator(
    [](std::string& text) -> std::string {
      for (auto& x : tools::split(text, ','))
        if (x != "direct" && x != "reverse" && x != "punch" && x != "relay")
          return "'" + x + "' is not a strategy (direct, reverse, punch, relay)";
      return tools::split(text, ',').empty() ? "no strategy given" : "";
    },
    "");
}

node::strategy strategy_of(const std::string& x) {
  if (x == "reverse")
    return node::strategy::reverse;
  if (x == "punch")
    return node::strategy::punch;
  if (x == "relay")
    return node::strategy::relay;
  return node::strategy::direct;
}

} // namespace

void add_connect_options(CLI::App* app, connect_cmd_options& o) {
  app->add_option("target", o.target,
                  "the peer: its signed address (p2pd1_..., as p2pd node or p2pd listen print "
                  "it) or a name on the server file's name servers")
    ->required()
    ->type_name("ADDRESS|NAME");
  add_node_options(app, o.node);
  app->add_flag("--udp", o.udp,
                "sealed datagrams instead of a TLS stream (punch and relay only: needs "
                "signalling, an mqtt line in the server file); bytes may be lost");
  app->add_option("--strategies", o.strategies,
                  "connect strategies in order (default direct,reverse; with --udp "
                  "punch,relay)")
    ->check(strategies_check());
  app->add_option("--timeout", o.timeout_s, "bound of every wait in seconds (default 10)")
    ->check(CLI::Range(1, 3600))
    ->type_name("SEC");
}

connected start_and_connect(running_node& rn, const connect_cmd_options& o) {
  auto servers = load_servers(o.node.servers);
  if (!servers)
    return {std::nullopt, fail("servers", servers.error())};
  progress("starting the node");
  if (auto err = rn.start(make_node_spec(o.node, *servers)))
    return {std::nullopt, fail("start the node", err)};
  // An address is a few hundred characters: messages name its start.
  auto label = o.target.size() > 24 ? o.target.substr(0, 20) + "..." : o.target;
  node::connect_options opts;
  if (o.udp) {
    opts.kind = node::transport::datagram;
    opts.strategies = {node::strategy::punch, node::strategy::relay};
  }
  if (!o.strategies.empty()) {
    opts.strategies.clear();
    for (auto& x : tools::split(o.strategies, ','))
      opts.strategies.push_back(strategy_of(x));
  }
  progress("connecting to " + label);
  // A name is looked up by the node on the server file's name servers; the
  // record must be signed by the node its address names.
  auto conn = rn.node->connect(o.target, opts);
  if (!conn)
    return {std::nullopt, fail("connect " + label, conn.error(), exit_connect_failed)};
  tools::print_connected(std::cerr, *conn);
  return {std::move(*conn), exit_ok};
}

} // namespace p2pd::cli
