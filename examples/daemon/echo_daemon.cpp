// echo_daemon [--port N] [--nic NAME]: the seed's EchoServer daemon. A daemon
// whose handler sends every message back to its sender, listening with
// listen_all on one interface (default: loopback) for TCP and UDP on one port
// (default 10126, the seed's), until SIGINT or SIGTERM. Prints one
// "listening: <proto> <address>" line per listener, then "ready".
// Exit 0 when stopped by a signal, 1 when it cannot listen (the port is held
// by another daemon, the interface does not exist, ...), 2 on bad arguments.
// tests/examples/echo_daemon.sh checks it with TCP and UDP clients.
#include <iostream>

#include "args.hpp"
#include "stop_signals.hpp"

#include "p2pd/net/iface/interfaces.hpp"
#include "p2pd/pipes.hpp"

using namespace p2pd;

int main(int argc, char** argv) {
  examples::args cli{"echo_daemon", "echoes TCP and UDP messages until SIGINT or SIGTERM"};
  cli.option("--port", "N", "the port to listen on, TCP and UDP (default 10126)")
    .option("--nic", "NAME", "the interface to listen on (default lo)");
  if (auto rc = cli.parse(argc, argv))
    return *rc;
  auto port = cli.port("--port", 10126, false);
  if (!port)
    return examples::exit_usage;
  auto nic_name = cli.value("--nic").value_or("lo");

  auto stop = examples::block_stop_signals();

  // The user code: the seed's EchoServer, its msg_cb and listen_all.
  runtime rt;
  auto echod = rt.start_daemon([](pipe_io& io, std::string_view msg, const endpoint& from) {
    io.send(msg, from);
  });
  if (!echod)
    return cli.error("start_daemon", echod.error());
  auto table = net::list_interfaces();
  if (!table)
    return cli.error("list interfaces", table.error());
  auto nic = net::find_interface(*table, nic_name);
  if (!nic)
    return cli.error("interface " + nic_name, nic.error());
  auto servers = echod->listen_all({*nic}, {{*port, *port}}, {tcp, udp});
  if (!servers)
    return cli.error("listen on port " + std::to_string(*port), servers.error());
  for (auto& s : *servers)
    std::cout << "listening: " << net::to_string(s.proto) << ' ' << to_string(s.local) << '\n';
  std::cout << "ready" << std::endl;

  int sig = examples::wait_for_stop(stop);
  if (auto err = echod->close())
    return cli.error("close", err);
  std::cout << "stopped by " << (sig == SIGINT ? "SIGINT" : "SIGTERM") << std::endl;
  return 0;
}
