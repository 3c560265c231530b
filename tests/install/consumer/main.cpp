// Uses the installed p2pd: a TCP echo server on loopback and a client that
// sends one message and checks the echo.
#include <iostream>

#include "p2pd/p2pd.hpp"

using namespace p2pd;

int main() {
  runtime rt;
  auto server = rt.listen(tcp, {}, [](pipe_io& io, std::string_view msg, const endpoint&) {
    io.reply(msg);
  });
  if (!server) {
    std::cerr << "listen: " << render(server.error()) << '\n';
    return 1;
  }
  auto client = rt.connect(tcp, server->local());
  if (!client) {
    std::cerr << "connect: " << render(client.error()) << '\n';
    return 1;
  }
  if (auto err = client->send("installed p2pd")) {
    std::cerr << "send: " << render(err) << '\n';
    return 1;
  }
  auto out = client->recv();
  if (!out || to_string(out->data) != "installed p2pd") {
    std::cerr << "echo: " << (out ? "got \"" + to_string(out->data) + '"' : render(out.error()))
              << '\n';
    return 1;
  }
  client->close();
  server->close();
  std::cout << "OK: echo through " << to_string(server->local()) << '\n';
  return 0;
}
