// The seed's TCP echo example: a server whose inline handler writes back what
// it receives, a client that sends "test msg." and checks the echo.
#include <iostream>

#include "args.hpp"

#include "p2pd/p2pd.hpp"

using namespace p2pd;

static int fail(const char* what, const caf::error& err) {
  std::cerr << what << ": " << render(err) << '\n';
  return 1;
}

int main(int argc, char** argv) {
  // No arguments: a stray one is refused rather than ignored.
  examples::args cli{"tcp_echo", "a TCP echo server and a client on loopback"};
  if (auto rc = cli.parse(argc, argv))
    return *rc;
  runtime rt;
  // Start the server (127.0.0.1, a free port); the handler replies to the sender.
  auto server = rt.listen(tcp, {}, [](pipe_io& io, std::string_view msg, const endpoint&) {
    io.reply(msg);
  });
  if (!server)
    return fail("listen", server.error());

  // Connect to the server's address, send data and check receipt.
  auto client = rt.connect(tcp, server->local());
  if (!client)
    return fail("connect", client.error());
  std::string msg = "test msg.";
  if (auto err = client->send(msg))
    return fail("send", err);
  auto out = client->recv();
  if (!out)
    return fail("recv", out.error());
  std::cout << "server " << to_string(server->local()) << ", client "
            << to_string(client->local()) << ": sent \"" << msg << "\", got \""
            << to_string(out->data) << "\" back\n";

  // Close both.
  client->close();
  server->close();
  return to_string(out->data) == msg ? 0 : 1;
}
