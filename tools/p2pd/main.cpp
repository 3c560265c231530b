// p2pd: one program for a p2pd node and its tools (README.md, "The p2pd
// program"). Each subcommand lives in a cmd_*.cpp of its own; this file
// builds the CLI11 app, parses, and runs the command that was chosen.
// Exit codes: 0 ok, 1 a failure at run time, 2 bad arguments, 3 a connect
// failed, 4 a wait ran out.
#include <iostream>

#include "cli.hpp"
#include "man_page.hpp"

using namespace p2pd::cli;

int main(int argc, char** argv) {
  CLI::App app{"peer-to-peer connectivity: NAT check, nodes, connects, pings, names", "p2pd"};
  app.footer("Exit codes: 0 ok, 1 a failure at run time, 2 bad arguments, 3 a connect "
             "failed, 4 a wait ran out.");
  bool man = false;
  app.add_flag("--man", man, "write the manual page (roff) to stdout")->group("");
  app.require_subcommand(0, 1);
  command_list commands;
  add_netcheck(app, commands);
  add_node(app, commands);
  add_connect(app, commands);
  add_listen(app, commands);
  add_ping(app, commands);
  add_id(app, commands);
  add_name(app, commands);
  add_stun_server(app, commands);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e) == 0 ? exit_ok : exit_usage;
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e) == 0 ? exit_ok : exit_usage;
  } catch (const CLI::ParseError& e) {
    app.exit(e); // the message and "Run with --help for more information."
    return exit_usage;
  }
  if (man) {
    write_man_page(app, std::cout);
    return exit_ok;
  }
  for (auto& c : commands)
    if (c.app->parsed())
      return c.run();
  std::cerr << app.help() << "p2pd: a command is required\n";
  return exit_usage;
}
