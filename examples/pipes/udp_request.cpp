// The seed's UDP await example: a request over UDP, waiting for the reply and
// trying up to 3 times. The seed asked Google's STUN server; this asks a local
// UDP server on 127.0.0.1 instead, so nothing leaves the machine. The server
// ignores the first request, as if it were lost, to show the retry.
#include <atomic>
#include <iostream>
#include <random>

#include "args.hpp"

#include "p2pd/p2pd.hpp"

using namespace p2pd;
using namespace std::chrono_literals;

static int fail(const char* what, const caf::error& err) {
  std::cerr << what << ": " << render(err) << '\n';
  return 1;
}

int main(int argc, char** argv) {
  // No arguments: a stray one is refused rather than ignored.
  examples::args cli{"udp_request", "a UDP request with retries to a local server"};
  if (auto rc = cli.parse(argc, argv))
    return *rc;
  std::atomic<int> requests = 0; // outlives the runtime, and so the handler
  runtime rt;
  auto server = rt.listen(udp, {}, [&](pipe_io& io, std::string_view msg, const endpoint&) {
    if (++requests > 1)
      io.reply("reply to " + std::string(msg));
  });
  if (!server)
    return fail("listen", server.error());

  // ask() tries 1 + send_retry times, waiting recv_timeout for each reply.
  net_conf conf;
  conf.send_retry = 2;
  conf.recv_timeout = 500ms;
  auto client = rt.connect(udp, server->local(), conf);
  if (!client)
    return fail("connect", client.error());

  // A random request id; only a reply that carries it is taken.
  auto id = std::to_string(std::random_device{}());
  auto resp = client->ask("request " + id, msg_filter::contains(id));
  if (!resp)
    return fail("no reply", resp.error());
  std::cout << "asked " << to_string(server->local()) << ": \"request " << id << "\"\n"
            << "reply from " << to_string(resp->from) << " after " << requests
            << " tries: \"" << to_string(resp->data) << "\"\n";

  // Cleanup.
  client->close();
  server->close();
  return 0;
}
