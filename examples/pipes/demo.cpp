// The demo: an echo daemon (TCP and UDP servers on 127.0.0.1 and ::1) and
// clients that exchange messages with each server, printing what they did.
// Exits 0 when every message came back, 1 otherwise.
#include <chrono>
#include <iomanip>
#include <iostream>
#include <vector>

#include "args.hpp"

#include "p2pd/p2pd.hpp"

using namespace p2pd;
using clk = std::chrono::steady_clock;
using millis = std::chrono::duration<double, std::milli>;

namespace {

constexpr int msgs_per_client = 3;
int failures = 0;

int fail(const std::string& what, const caf::error& err) {
  std::cout << "FAILED: " << what << ": " << render(err) << '\n';
  return ++failures;
}

std::string name(net::protocol p) { return p == tcp ? "TCP" : "UDP"; }

// ::1 is missing where IPv6 is disabled; the demo then runs on IPv4 only.
bool ipv6_loopback_works() {
  auto sock = net::open_bound_socket(udp, {net::ip_address::loopback(net::family::v6), 0});
  if (!sock)
    std::cout << "IPv6 loopback unavailable, skipping ::1: " << to_string(sock.error()) << '\n';
  return static_cast<bool>(sock);
}

// Sends `msg` and waits for the echo.
caf::expected<std::string> round_trip(pipe_handle& cli, const std::string& msg) {
  if (auto err = cli.send(msg))
    return err;
  auto out = cli.recv();
  if (!out)
    return out.error();
  return to_string(out->data);
}

} // namespace

int main(int argc, char** argv) {
  // No arguments: a stray one is refused rather than ignored.
  examples::args cli{"demo", "echo servers and clients over TCP and UDP, IPv4 and IPv6, on loopback"};
  if (auto rc = cli.parse(argc, argv))
    return *rc;
  runtime rt;
  std::cout << std::fixed << std::setprecision(2);

  // The daemon: one echo server per protocol and loopback address.
  std::vector<net::ip_address> ips{net::ip_address::loopback(net::family::v4)};
  if (ipv6_loopback_works())
    ips.push_back(net::ip_address::loopback(net::family::v6));
  auto echo = [](pipe_io& io, std::string_view msg, const endpoint&) { io.reply(msg); };
  std::vector<pipe_handle> servers;
  for (auto proto : {tcp, udp})
    for (auto& ip : ips) {
      auto srv = rt.listen(proto, {ip, 0}, echo);
      if (!srv)
        return fail("listen on " + name(proto) + ' ' + ip.to_string(), srv.error());
      std::cout << "echo server: " << name(proto) << ' ' << to_string(srv->local()) << '\n';
      servers.push_back(std::move(*srv));
    }

  // Clients: one per server; each sends a few messages and checks the echoes.
  std::vector<pipe_handle> clients;
  int echoed = 0;
  millis total{0};
  for (auto& srv : servers) {
    auto proto = srv.info().proto;
    auto cli = rt.connect(proto, srv.local());
    if (!cli)
      return fail("connect to " + name(proto) + ' ' + to_string(srv.local()), cli.error());
    auto route = name(proto) + ' ' + to_string(cli->local()) + " -> " + to_string(srv.local());
    for (int i = 1; i <= msgs_per_client; ++i) {
      auto msg = "hello " + std::to_string(i);
      auto start = clk::now();
      auto got = round_trip(*cli, msg);
      millis took = clk::now() - start;
      if (!got || *got != msg) {
        fail(route + " \"" + msg + '"',
             got ? make_error(errc::io_failed, "got \"" + *got + "\" back") : got.error());
        continue;
      }
      std::cout << route << " sent \"" << msg << "\", got \"" << *got << "\" back in "
                << took.count() << " ms\n";
      ++echoed;
      total += took;
    }
    clients.push_back(std::move(*cli));
  }

  // What each server saw, while its client is still connected.
  for (auto& srv : servers) {
    auto who = srv.clients();
    auto st = srv.stats();
    if (!who || !st)
      return fail("server " + to_string(srv.local()), who ? st.error() : who.error());
    std::cout << name(srv.info().proto) << " server " << to_string(srv.local()) << ": clients";
    for (auto& ep : *who)
      std::cout << ' ' << to_string(ep);
    std::cout << ", received " << st->rx_msgs << " msgs (" << st->rx_bytes << " B), sent "
              << st->tx_msgs << " msgs (" << st->tx_bytes << " B)\n";
  }

  for (auto* group : {&clients, &servers})
    for (auto& p : *group)
      if (auto err = p.close())
        fail("close " + to_string(p.local()), err);

  auto expected = static_cast<int>(servers.size()) * msgs_per_client;
  std::cout << "summary: " << echoed << " of " << expected << " messages echoed by "
            << servers.size() << " servers, mean round trip "
            << (echoed ? total.count() / echoed : 0.0) << " ms, " << failures << " failures\n";
  return failures == 0 && echoed == expected ? 0 : 1;
}
