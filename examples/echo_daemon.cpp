// The seed's EchoServer daemon: a daemon whose handler sends every message
// back to its sender, listening with listen_all on the loopback interface for
// TCP and UDP on a port range. To check itself, a TCP and a UDP client then
// each exchange a message with it. Loopback only; exits 1 on any failure.
#include <algorithm>
#include <iostream>

#include "args.hpp"

#include "p2pd/p2pd.hpp"
#include "p2pd/net/interfaces.hpp"

using namespace p2pd;

static int fail(const std::string& what, const caf::error& err) {
  std::cerr << what << ": " << render(err) << '\n';
  return 1;
}

// The seed listened on the fixed port 10126; two ports from a free one keep
// the example from colliding with whatever else runs on this host.
static uint16_t free_port() {
  auto sock = net::open_bound_socket(tcp, {net::ip_address::loopback(net::family::v4), 0});
  return sock ? net::local_endpoint(sock->get())->port : 10126;
}

// A client of `server` sends `msg` and returns the echo.
static caf::expected<std::string> exchange(runtime& rt, const listener_info& server,
                                           const std::string& msg) {
  auto client = rt.connect(server.proto, server.local);
  if (!client)
    return client.error();
  if (auto err = client->send(msg))
    return err;
  auto out = client->recv();
  client->close();
  if (!out)
    return out.error();
  return to_string(out->data);
}

int main(int argc, char** argv) {
  examples::args cli{"echo_daemon", "an echo daemon on loopback"};
  if (auto rc = cli.parse(argc, argv))
    return *rc;
  // The user code: the seed's EchoServer, its msg_cb and listen_all.
  runtime rt;
  auto echod = rt.start_daemon([](pipe_io& io, std::string_view msg, const endpoint& from) {
    io.send(msg, from);
  });
  if (!echod)
    return fail("start_daemon", echod.error());
  auto table = net::list_interfaces();
  if (!table)
    return fail("list interfaces", make_error(table.error()));
  auto lo = net::find_interface(*table, "lo");
  if (!lo)
    return fail("find interface", make_error(lo.error()));
  auto port = free_port();
  auto servers = echod->listen_all({*lo}, {{port, uint16_t(port + 1)}}, {tcp, udp});
  if (!servers)
    return fail("listen_all", servers.error());
  for (auto& s : *servers)
    std::cout << "listening: " << net::to_string(s.proto) << ' ' << to_string(s.local) << '\n';

  // The check: one TCP and one UDP client, each on the first listener of its
  // protocol.
  int failures = 0;
  for (auto proto : {tcp, udp}) {
    auto s = std::find_if(servers->begin(), servers->end(),
                          [proto](auto& l) { return l.proto == proto; });
    if (s == servers->end()) {
      std::cerr << "no " << net::to_string(proto) << " listener\n";
      ++failures;
      continue;
    }
    std::string msg = std::string{"hello over "} + net::to_string(proto);
    auto got = exchange(rt, *s, msg);
    if (!got) {
      failures += fail(std::string{net::to_string(proto)} + " client", got.error());
      continue;
    }
    std::cout << net::to_string(proto) << " client -> " << to_string(s->local) << ": sent \""
              << msg << "\", got \"" << *got << "\" back\n";
    failures += *got != msg;
  }

  if (auto err = echod->close())
    return fail("close", err);
  std::cout << (failures == 0 ? "ok" : "FAILED") << '\n';
  return failures == 0 ? 0 : 1;
}
