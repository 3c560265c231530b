// p2pd connect ADDRESS|NAME [--udp]: connects to a peer, then pipes stdin to
// it and its messages to stdout, like netcat; the connect report on stderr.
#include <memory>

#include "cli.hpp"
#include "connect_common.hpp"
#include "session.hpp"

namespace p2pd::cli {

void add_connect(CLI::App& root, command_list& out) {
  auto o = std::make_shared<connect_cmd_options>();
  auto no_stdin = std::make_shared<bool>(false);
  auto* app = root.add_subcommand(
    "connect", "connect to a peer and pipe stdin to it and its bytes to stdout, like netcat; "
               "ends when stdin ends (once the peer has every byte) or the peer closes");
  add_connect_options(app, *o);
  app->add_flag("-d,--no-stdin", *no_stdin, "do not read stdin: only receive, until the peer ends");
  out.push_back({app, [o, no_stdin] {
                   running_node rn;
                   auto c = start_and_connect(rn, *o);
                   if (!c.conn)
                     return c.rc;
                   session_spec s;
                   s.peer = c.conn->peer;
                   s.datagram = o->udp;
                   s.read_stdin = !*no_stdin;
                   s.close_wait = std::chrono::seconds(o->timeout_s);
                   auto rc = run_session(rn, s);
                   rn.close();
                   return rc;
                 }});
}

} // namespace p2pd::cli
