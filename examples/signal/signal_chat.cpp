// signal_chat [BROKER_URI]: two nodes, alice and bob, exchange a sealed and
// signed message each and print what they got. Without an argument they meet
// on the in-process hub; with one (e.g. tcp://127.0.0.1:1883) on that MQTT
// broker.
#include <iostream>
#include <memory>
#include <string>

#include "args.hpp"

#include "p2pd/api/blocking.hpp"
#include "p2pd/signal.hpp"

using namespace p2pd;
using namespace std::chrono_literals;

namespace {

// A payload type of the application's own: 100 and up are left to
// experiments (proto/payloads.proto), which the nodes deliver unparsed.
constexpr uint32_t chat_payload = 100;

struct peer {
  explicit peer(std::string n) : name(std::move(n)) {}
  std::string name;
  std::string id; // its node id, text form: what a received message names
  net::public_keys keys;
  signal_node_actor node;
};

} // namespace

int main(int argc, char** argv) {
  examples::args cli{"signal_chat", "two nodes exchange a sealed, signed message on the in-process "
                                    "hub or an MQTT broker"};
  cli.positional("[BROKER_URI, e.g. tcp://127.0.0.1:1883]", 0, 1);
  if (auto rc = cli.parse(argc, argv))
    return *rc;
  const auto& brokers = cli.positionals();
  if (!brokers.empty() && brokers[0].find("://") == std::string::npos)
    return cli.fail("'" + brokers[0] + "' is not a broker URI (tcp://host:port)");
  runtime rt;
  signal_node_spec spec;
  if (brokers.empty()) {
    spec.hub = spawn_signal_hub(rt.system());
  } else {
    spec.brokers = brokers;
    spec.mqtt.ack_timeout = 5s; // a broker that is down shows within 5 s
  }

  // Two nodes in one process need two identities: these live in memory. A
  // real node keeps its own in its data directory (signal_node_spec::data_dir).
  peer alice{"alice"}, bob{"bob"};
  for (auto* p : {&alice, &bob}) {
    auto id = net::identity::generate();
    if (!id)
      return cli.error(p->name + "'s identity", id.error());
    p->id = id->id().to_string();
    p->keys = id->pub();
    spec.identity = std::make_shared<const net::identity>(std::move(*id));
    auto node = start_signal_node(rt.system(), spec); // listening once it returns
    if (!node)
      return cli.error(p->name, node.error());
    p->node = *node;
  }

  // Both nodes deliver what they get to this thread.
  caf::scoped_actor self{rt.system()};
  caf::error failed;
  auto on_error = [&](caf::error& err) { failed = std::move(err); };
  for (auto* p : {&alice, &bob})
    self->request(p->node, 10s, caf::subscribe_atom::value, caf::actor{self.ptr()})
      .receive([](caf::ok_atom) {}, on_error);
  auto send = [&](const peer& from, const net::public_keys& to, const std::string& text) {
    self->request(from.node, 10s, send_atom::value, to, chat_payload, to_bytes(text))
      .receive([](net::message_id&) {}, on_error);
  };

  // Bob answers alice to the keys her message came with: they are checked
  // against her id, so the answer is sealed to whoever signed the question.
  send(alice, bob.keys, "hello bob, this is alice");
  for (int got = 0; got < 2 && !failed; ++got)
    self->receive(
      [&](signal_message& m) {
        bool to_bob = m.sender == alice.id;
        std::cout << (to_bob ? "bob" : "alice") << " got \"" << to_string(m.plaintext)
                  << "\" from " << (to_bob ? "alice" : "bob") << " via " << m.channel << '\n';
        if (to_bob)
          send(bob, m.sender_keys, "hello alice, bob here");
      },
      caf::after(10s) >> [&] { failed = make_error(errc::recv_timeout, "no message in 10 s"); });
  if (failed)
    return cli.error("chat", failed);
  return 0;
}
