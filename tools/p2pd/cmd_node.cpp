// p2pd node: runs a node until SIGINT or SIGTERM. Prints what it learnt and
// its signed peer address (the lines of tools/p2p_node), answers pings
// (control.hpp), and says on stdout when peers come and go:
//   ready id=<id> port=<port> start_ms=<ms>
//   route ... / listener ... / channel ...
//   address=p2pd1_...
//   peer_up peer=<id> inbound=1 remote=<ip:port>
//   message from=<id> bytes=<n>
//   peer_end peer=<id> reason=none
//   api url=http://127.0.0.1:<port>/ token_file=<data dir>/rest_token
//     (unless --no-api; the REST API and status page, README "REST API")
#include <iostream>
#include <memory>
#include <optional>

#include "cli.hpp"
#include "node_lines.hpp"
#include "node_options.hpp"
#include "session.hpp"

#include "p2pd/actors/common/timeouts.hpp"
#include "p2pd/rest/rest_server.hpp"

namespace p2pd::cli {

namespace {

struct node_cmd_options {
  node_options node;
  uint16_t api_port = rest::default_port; ///< 0: a free port
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

  // The REST API on loopback. Its token stays in the data directory: stdout
  // may go to a journal, so the page's address with the token in it goes
  // to a terminal only.
  std::optional<rest::rest_server_info> api;
  if (!o.no_api) {
    rest::rest_spec spec;
    spec.port = o.api_port;
    if (!o.node.data_dir.empty())
      spec.data_dir = o.node.data_dir;
    auto started = rest::start_rest_server(rn.rt.system(), n.handle(), spec);
    if (!started) {
      rn.close();
      return fail("serve the REST API on port " + std::to_string(o.api_port)
                    + " (--api-port N, 0 for a free port, or --no-api)",
                  started.error());
    }
    api = std::move(*started);
    std::cout << "api url=http://127.0.0.1:" << api->port << "/ token_file=" << api->token_file
              << std::endl;
    if (progress_on_stderr())
      std::cerr << "p2pd: status page: " << api->page_url() << '\n';
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
  // Before the node, so that no request reaches a closing node. Bounded: the
  // server answers once its daemon closed its listeners (each within
  // timeouts::listener_close); one that hangs must not keep a stop signal
  // from ending the program.
  if (api)
    rn.self->request(api->server, 2 * timeouts::listener_close, caf::close_atom::value)
      .receive([](caf::ok_atom) {},
               [](caf::error& err) {
                 std::cerr << "p2pd: close the REST API: " << render(err) << '\n';
               });
  rn.close();
  return exit_ok;
}

} // namespace

void add_node(CLI::App& root, command_list& out) {
  auto o = std::make_shared<node_cmd_options>();
  auto* app = root.add_subcommand(
    "node", "run a node until SIGINT or SIGTERM: print its id and signed address, answer pings");
  add_node_options(app, o->node);
  app->add_option("--api-port", o->api_port,
                  "the REST API's port on 127.0.0.1 and ::1 (0: a free one; its bearer token "
                  "is the data directory's rest_token file)")
    ->check(CLI::Range(0, 65535))
    ->type_name("N");
  app->add_flag("--no-api", o->no_api, "serve no REST API");
  out.push_back({app, [o] { return run_node_cmd(*o); }});
}

} // namespace p2pd::cli
