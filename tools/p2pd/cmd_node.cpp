// p2pd node: runs a node until SIGINT or SIGTERM. Prints what it learnt and
// its signed peer address (the lines of tools/p2p_node), answers pings
// (control.hpp), and says on stdout when peers come and go:
//   ready id=<id> port=<port> start_ms=<ms>
//   route ... / listener ... / channel ...
//   address=p2pd1_...
//   peer_up peer=<id> inbound=1 remote=<ip:port>
//   message from=<id> bytes=<n>
//   peer_end peer=<id> reason=none
#include <iostream>
#include <memory>

#include "cli.hpp"
#include "node_lines.hpp"
#include "node_options.hpp"
#include "session.hpp"

namespace p2pd::cli {

namespace {

struct node_cmd_options {
  node_options node;
  uint16_t api_port = 0; ///< 0: the REST server's default
  bool no_api = false;
};

int run_node_cmd(const node_cmd_options& o) {
  running_node rn;
  auto servers = load_servers(o.node.servers);
  if (!servers)
    return fail("servers", servers.error());
  if (auto err = rn.start(make_node_spec(o.node, *servers)))
    return fail("start the node", err);
  auto& n = *rn.node;
  tools::print_node_facts(std::cout, std::cerr, "p2pd", n.info(), rn.start_ms);
  std::cout << "address=" << n.address() << std::endl;

  if (!o.no_api) {
    // REST API: wired by the lead after merging the rest branch
    // (p2pd::rest::start_rest_server(rn.rt.system(), n.handle(), spec) with
    // spec's port from o.api_port, 0 meaning its default).
  }

  bool stop = false;
  while (!stop) {
    rn.self->receive(
      [&](node_msg& m) {
        if (answer_ping(n, m))
          return;
        std::cout << "message from=" << m.peer << " bytes=" << m.data.size() << std::endl;
      },
      [&](node_peer_up& up) {
        std::cout << "peer_up peer=" << up.conn.peer << " inbound=" << up.conn.inbound
                  << " remote=" << to_string(up.conn.remote) << std::endl;
      },
      [&](node_peer_end& end) {
        std::cout << "peer_end peer=" << end.peer
                  << " reason=" << (end.reason ? render(end.reason) : "none") << std::endl;
      },
      [&](stop_signal_atom, int sig) {
        progress(std::string{"stopping ("} + (sig == SIGINT ? "SIGINT" : "SIGTERM") + ")");
        stop = true;
      },
      [](caf::message&) {});
  }
  rn.close();
  return exit_ok;
}

} // namespace

void add_node(CLI::App& root, command_list& out) {
  auto o = std::make_shared<node_cmd_options>();
  auto* app = root.add_subcommand(
    "node", "run a node until SIGINT or SIGTERM: print its id and signed address, answer pings");
  add_node_options(app, o->node);
  app->add_option("--api-port", o->api_port, "the REST API's port (not served by this build yet)")
    ->check(CLI::Range(1, 65535))
    ->type_name("N");
  app->add_flag("--no-api", o->no_api, "serve no REST API (none is served by this build yet)");
  out.push_back({app, [o] { return run_node_cmd(*o); }});
}

} // namespace p2pd::cli
