// The echo demo (the README's demo before nodes): echo servers (TCP and UDP
// on 127.0.0.1 and ::1) and a client per server that exchanges a few
// messages with it, printing what each did. Exits 0 when every message came
// back, 1 otherwise.
#include <chrono>
#include <iomanip>
#include <iostream>
#include <vector>

#include "args.hpp"

#include "p2pd/pipes.hpp"

using namespace p2pd;
using clk = std::chrono::steady_clock;
using millis = std::chrono::duration<double, std::milli>;

namespace {

constexpr int msgs_per_client = 3;

std::string name(net::protocol p) {
  return p == tcp ? "TCP" : "UDP";
}

// ::1 is missing where IPv6 is disabled; the demo then runs on IPv4 only.
bool ipv6_loopback_works() {
  auto sock = net::open_bound_socket(udp, {net::ip_address::loopback(net::family::v6), 0});
  if (!sock)
    std::cout << "IPv6 loopback unavailable, skipping ::1: " << to_string(sock.error()) << '\n';
  return static_cast<bool>(sock);
}

} // namespace

int main(int argc, char** argv) {
  examples::args cli{"echo_demo",
                     "echo servers and clients over TCP and UDP, IPv4 and IPv6, on loopback"};
  if (auto rc = cli.parse(argc, argv))
    return *rc;
  runtime rt;
  std::cout << std::fixed << std::setprecision(2);

  // One echo server per protocol and loopback address.
  std::vector<net::ip_address> ips{net::ip_address::loopback(net::family::v4)};
  if (ipv6_loopback_works())
    ips.push_back(net::ip_address::loopback(net::family::v6));
  auto echo = [](pipe_io& io, std::string_view msg, const endpoint&) { io.reply(msg); };
  std::vector<pipe_handle> servers;
  for (auto proto : {tcp, udp})
    for (auto& ip : ips) {
      auto server = rt.listen(proto, {ip, 0}, echo);
      if (!server)
        return cli.error("listen on " + name(proto) + ' ' + ip.to_string(), server.error());
      std::cout << "echo server: " << name(proto) << ' ' << to_string(server->local()) << '\n';
      servers.push_back(std::move(*server));
    }

  // A client per server: it sends a few messages and checks each echo. The
  // clients stay connected, so that the servers list them below.
  std::vector<pipe_handle> clients;
  int echoed = 0;
  millis total{0};
  for (auto& server : servers) {
    auto proto = server.info().proto;
    auto client = rt.connect(proto, server.local());
    if (!client)
      return cli.error("connect to " + name(proto) + ' ' + to_string(server.local()),
                       client.error());
    auto route = name(proto) + ' ' + to_string(client->local()) + " -> "
                 + to_string(server.local());
    for (int i = 1; i <= msgs_per_client; ++i) {
      auto msg = "hello " + std::to_string(i);
      auto start = clk::now();
      auto got = client->ask(msg); // sends, waits for the answer
      millis took = clk::now() - start;
      if (!got || to_string(got->data) != msg) {
        cli.error(route + " \"" + msg + '"',
                  got ? make_error(errc::io_failed, "got \"" + to_string(got->data) + "\" back")
                      : got.error());
        continue;
      }
      std::cout << route << " sent \"" << msg << "\", got \"" << msg << "\" back in "
                << took.count() << " ms\n";
      ++echoed;
      total += took;
    }
    clients.push_back(std::move(*client));
  }

  // What each server saw.
  for (auto& server : servers) {
    auto who = server.clients();
    if (!who)
      return cli.error("clients of " + to_string(server.local()), who.error());
    auto st = server.stats();
    if (!st)
      return cli.error("stats of " + to_string(server.local()), st.error());
    std::cout << name(server.info().proto) << " server " << to_string(server.local())
              << ": clients";
    for (auto& ep : *who)
      std::cout << ' ' << to_string(ep);
    std::cout << ", received " << st->rx_msgs << " msgs (" << st->rx_bytes << " B), sent "
              << st->tx_msgs << " msgs (" << st->tx_bytes << " B)\n";
  }

  auto expected = static_cast<int>(servers.size()) * msgs_per_client;
  std::cout << "summary: " << echoed << " of " << expected << " messages echoed by "
            << servers.size() << " servers, mean round trip "
            << (echoed ? total.count() / echoed : 0.0) << " ms\n";
  return echoed == expected ? 0 : 1;
}
