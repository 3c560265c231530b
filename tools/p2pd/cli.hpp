#pragma once

// The p2pd program's commands: each cmd_*.cpp adds one subcommand to the
// CLI11 app and says what runs when it was given. Exit codes are the tools'
// (tools/args.hpp): 0 ok, 1 a failure at run time, 2 bad arguments, 3 a
// connect failed, 4 a wait ran out.

#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "args.hpp"

#include "p2pd/messages/errors.hpp"
#include "p2pd/net/error.hpp"

namespace p2pd::cli {

using examples::exit_connect_failed;
using examples::exit_failure;
using examples::exit_timeout;
using examples::exit_usage;
constexpr int exit_ok = 0;

/// A subcommand and what runs when the command line chose it.
struct command {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

using command_list = std::vector<command>;

void add_id(CLI::App& root, command_list& out);
void add_stun_server(CLI::App& root, command_list& out);
void add_netcheck(CLI::App& root, command_list& out);
void add_node(CLI::App& root, command_list& out);
void add_connect(CLI::App& root, command_list& out);
void add_listen(CLI::App& root, command_list& out);
void add_ping(CLI::App& root, command_list& out);
void add_name(CLI::App& root, command_list& out);

/// Prints "p2pd: what: why" on stderr; returns `rc`.
inline int fail(const std::string& what, const std::string& why, int rc = exit_failure) {
  std::cerr << "p2pd: " << what << ": " << why << '\n';
  return rc;
}
inline int fail(const std::string& what, const caf::error& err, int rc = exit_failure) {
  return fail(what, render(err), rc);
}
inline int fail(const std::string& what, const net::error& err, int rc = exit_failure) {
  return fail(what, make_error(err), rc);
}

/// A bad argument found after parsing (a value CLI11 could not check):
/// "p2pd: why" and a pointer to --help on stderr; exit_usage.
inline int usage_error(const CLI::App& app, const std::string& why) {
  std::cerr << "p2pd " << app.get_name() << ": " << why << "\nRun with --help for more information.\n";
  return exit_usage;
}

/// Whether progress lines go to stderr: only when it is a terminal, so
/// that scripts get the facts and errors alone.
bool progress_on_stderr();

/// "p2pd: <what>" on stderr when progress_on_stderr().
void progress(const std::string& what);

} // namespace p2pd::cli
