// The seed's UDP await example: a request over UDP, waiting for the reply and
// trying up to 3 times. The seed asked Google's STUN server; this asks a local
// UDP server on 127.0.0.1 instead, so nothing leaves the machine. The server
// ignores the first request, as if it were lost, to show the retry.
#include <atomic>
#include <iostream>
#include <random>

#include "args.hpp"

#include "p2pd/pipes.hpp"

using namespace p2pd;
using namespace std::chrono_literals;

int main(int argc, char** argv) {
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
    return cli.error("listen", server.error());

  // ask() tries 1 + send_retry times, waiting recv_timeout for each reply.
  net_conf conf;
  conf.send_retry = 2;
  conf.recv_timeout = 500ms;
  auto client = rt.connect(udp, server->local(), conf);
  if (!client)
    return cli.error("connect", client.error());

  // A random request id: only a reply that carries it is taken, as the seed
  // matched STUN's transaction id.
  auto id = std::to_string(std::random_device{}());
  auto reply = client->ask("request " + id, msg_filter::contains(id));
  if (!reply)
    return cli.error("no reply", reply.error());
  std::cout << "asked " << to_string(server->local()) << " \"request " << id << "\", got \""
            << to_string(reply->data) << "\" after " << requests << " tries\n";
  return 0;
}
