// The seed's node example: a node whose message handler answers "PING" with
// "PONG", and a second node that connects to it by its address, sends PING
// and prints the answer. Both run in this process on loopback and signal
// through an in-process hub: no server, no network beyond loopback.
#include <iostream>
#include <optional>

#include "args.hpp"

#include "p2pd/node.hpp"

using namespace p2pd;
using namespace std::chrono_literals;

// A node on loopback, signalling through `hub`. Two nodes of one process
// need an identity each: these live in memory, where a real node keeps its
// own in its data directory (leave node_spec::identity unset).
caf::expected<node_handle> start(runtime& rt, const signal_hub_actor& hub,
                                 node_handler on_msg = {}) {
  auto id = net::identity::generate();
  if (!id)
    return make_error(id.error());
  node_spec spec;
  spec.identity = std::make_shared<const net::identity>(std::move(*id));
  spec.interfaces = {"lo"};
  spec.hub = hub;
  if (on_msg)
    spec.handlers.push_back(std::move(on_msg));
  return rt.start_node(std::move(spec));
}

int main(int argc, char** argv) {
  examples::args cli{"ping_pong", "a node answers PING with PONG; a second node connects to it "
                                  "by address and asks (one process, loopback)"};
  if (auto rc = cli.parse(argc, argv))
    return *rc;
  runtime rt;
  auto hub = spawn_signal_hub(rt.system());

  // Your protocol: the handler runs inside the node for every message from
  // every peer, and answers on the pipe the message came by.
  auto pong = start(rt, hub, [](const node_msg& msg) {
    if (to_string(msg.data).find("PING") != std::string::npos)
      caf::anon_send(msg.pipe, send_atom::value, to_bytes("PONG"), msg.from);
  });
  if (!pong)
    return cli.error("start the PONG node", pong.error());

  auto ping = start(rt, hub);
  if (!ping)
    return cli.error("start the PING node", ping.error());
  caf::scoped_actor self{rt.system()}; // gets what the PING node receives
  if (auto err = ping->subscribe(caf::actor{self.ptr()}))
    return cli.error("subscribe", err);
  auto conn = ping->connect(pong->address()); // the address says how to reach it
  if (!conn)
    return cli.error("connect", conn.error());
  std::cout << "connected: " << conn->report.to_string() << '\n';
  if (auto err = ping->send(pong->id(), "PING"))
    return cli.error("send", err);

  std::optional<node_msg> answer;
  for (bool waiting = true; waiting && !answer;)
    self->receive([&](node_msg& msg) { answer = std::move(msg); },
                  [](caf::message&) {}, // peer up and end events
                  caf::after(5s) >> [&] { waiting = false; });
  if (!answer)
    return cli.error("PING", make_error(errc::recv_timeout, "no answer within 5 s"));
  std::cout << "sent \"PING\", got \"" << to_string(answer->data) << "\" from node "
            << answer->peer << '\n';
  return to_string(answer->data) == "PONG" && answer->peer == pong->id() ? 0 : 1;
}
