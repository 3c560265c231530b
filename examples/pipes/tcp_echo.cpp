// The seed's TCP echo example: a server whose handler writes back what it
// receives, and a client that sends "test msg." and checks the echo.
#include <iostream>

#include "args.hpp"

#include "p2pd/pipes.hpp"

using namespace p2pd;

int main(int argc, char** argv) {
  examples::args cli{"tcp_echo", "a TCP echo server and a client on loopback"};
  if (auto rc = cli.parse(argc, argv))
    return *rc;
  runtime rt; // closes every pipe it opened when it goes

  // 127.0.0.1, a free port; the handler runs on the I/O thread, no actor hop.
  auto server = rt.listen(tcp, {}, [](pipe_io& io, std::string_view msg, const endpoint&) {
    io.reply(msg);
  });
  if (!server)
    return cli.error("listen", server.error());

  auto client = rt.connect(tcp, server->local());
  if (!client)
    return cli.error("connect", client.error());
  std::string msg = "test msg.";
  if (auto err = client->send(msg))
    return cli.error("send", err);
  auto out = client->recv(); // within net_conf::recv_timeout (2 s)
  if (!out)
    return cli.error("recv", out.error());
  std::cout << "sent \"" << msg << "\" to " << to_string(server->local()) << ", got \""
            << to_string(out->data) << "\" back\n";
  return to_string(out->data) == msg ? 0 : 1;
}
