// p2pd listen: starts a node, prints its address on stderr ("address=..."
// as the first fact; stdout carries only the peer's bytes, so that
// `p2pd listen | cmd` works like `nc -l | cmd`) and in --address-file,
// waits for one peer to connect, then pipes that peer's bytes to stdout and
// stdin to the peer until either side ends. Pings are answered from anyone.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>

#include "cli.hpp"
#include "control.hpp"
#include "node_lines.hpp"
#include "node_options.hpp"
#include "session.hpp"

namespace p2pd::cli {

namespace {

struct listen_options {
  node_options node;
  std::string address_file;
  int timeout_s = 0; ///< for the first peer; 0: no bound
  bool no_stdin = false;
  bool udp = false;
};

// Writes `text` to `path` as a whole: a temporary file renamed over it, so
// that a script that waits for the file never reads half an address.
bool write_whole_file(const std::string& path, const std::string& text) {
  auto tmp = path + ".tmp" + std::to_string(::getpid());
  {
    std::ofstream f{tmp, std::ios::trunc};
    if (!(f << text << '\n') || !f.flush())
      return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

int run_listen(const listen_options& o) {
  running_node rn;
  auto servers = load_servers(o.node.servers);
  if (!servers)
    return fail("servers", servers.error());
  progress("starting the node");
  if (auto err = rn.start(make_node_spec(o.node, *servers)))
    return fail("start the node", err);
  auto& n = *rn.node;
  std::cerr << "address=" << n.address() << std::endl;
  if (!o.address_file.empty() && !write_whole_file(o.address_file, n.address()))
    return fail("address file", "cannot write " + o.address_file);
  progress("waiting for a peer");

  // The first peer that comes is the session's: by a connection (inbound,
  // or punched, which both sides open) or by its first bytes.
  std::string peer;
  std::string remote;
  int rc = -1;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(o.timeout_s);
  bool datagram = o.udp;
  while (peer.empty() && rc < 0) {
    auto left = o.timeout_s == 0 ? std::chrono::milliseconds(500)
                                 : std::chrono::duration_cast<std::chrono::milliseconds>(
                                     deadline - std::chrono::steady_clock::now());
    if (left.count() < 0)
      left = std::chrono::milliseconds(0);
    rn.self->receive(
      [&](node_peer_up& up) {
        peer = up.conn.peer;
        remote = to_string(up.conn.remote);
        datagram = datagram || up.conn.report.kind == node::transport::datagram;
      },
      [&](node_msg& m) {
        if (answer_ping(n, m))
          return;
        peer = m.peer;
        remote = to_string(m.from);
        if (!looks_like_control({reinterpret_cast<const char*>(m.data.data()), m.data.size()}))
          write_stdout(m.data);
      },
      [&](stop_signal_atom, int) { rc = exit_ok; },
      [](caf::message&) {},
      caf::after(left) >> [&] {
        if (o.timeout_s != 0 && std::chrono::steady_clock::now() >= deadline) {
          std::cerr << "p2pd: no peer connected within " << o.timeout_s << " s\n";
          rc = exit_timeout;
        }
      });
  }
  if (peer.empty()) {
    rn.close();
    return rc;
  }
  std::cerr << "peer_up peer=" << peer << " remote=" << remote << std::endl;
  session_spec s;
  s.peer = peer;
  s.datagram = datagram;
  s.read_stdin = !o.no_stdin;
  s.close_wait = std::chrono::seconds(o.timeout_s == 0 ? 10 : o.timeout_s);
  rc = run_session(rn, s);
  rn.close();
  return rc;
}

} // namespace

void add_listen(CLI::App& root, command_list& out) {
  auto o = std::make_shared<listen_options>();
  auto* app = root.add_subcommand(
    "listen", "start a node, print its address on stderr, wait for one peer, then pipe its "
              "bytes to stdout and stdin to it, like nc -l");
  add_node_options(app, o->node);
  app->add_option("--address-file", o->address_file,
                  "also write the node's address to FILE (whole, by a rename)")
    ->type_name("FILE");
  app->add_option("--timeout", o->timeout_s,
                  "seconds to wait for a peer (default: no bound), and for it to confirm our "
                  "last bytes (default 10)")
    ->check(CLI::Range(1, 86400))
    ->type_name("SEC");
  app->add_flag("-d,--no-stdin", o->no_stdin, "do not read stdin: only receive, until the peer ends");
  app->add_flag("--udp", o->udp, "send datagram-sized chunks (a peer that connects with --udp "
                                 "is recognised without it)");
  out.push_back({app, [o] { return run_listen(*o); }});
}

} // namespace p2pd::cli
