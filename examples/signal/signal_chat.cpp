// signal_chat [BROKER_URI]: two nodes, alice and bob, exchange a sealed and
// signed message each and print what they got. Without an argument they
// meet on the in-process hub; with one (e.g. tcp://127.0.0.1:1883) on that
// MQTT broker.
#include <iostream>
#include <memory>
#include <string>

#include "args.hpp"

#include "p2pd/api/runtime.hpp"
#include "p2pd/actors/signal/hub/signal_hub.hpp"
#include "p2pd/actors/signal/node/signal_node.hpp"

using namespace p2pd;
using namespace std::chrono_literals;

namespace {

// Two nodes in one process need two identities: these live in memory. A
// real node keeps its own in its data directory (signal_node_spec::data_dir).
std::shared_ptr<const net::identity> fresh_identity() {
  auto id = net::identity::generate();
  return id ? std::make_shared<const net::identity>(std::move(*id)) : nullptr;
}

std::string text_of(const bytes& b) {
  return std::string(b.begin(), b.end());
}

} // namespace

int main(int argc, char** argv) {
  examples::args cli{"signal_chat", "two nodes exchange a sealed, signed message on the in-process "
                                    "hub or an MQTT broker"};
  cli.positional("[BROKER_URI, e.g. tcp://127.0.0.1:1883]", 0, 1);
  if (auto rc = cli.parse(argc, argv))
    return *rc;
  if (!cli.positionals().empty() && cli.positionals()[0].find("://") == std::string::npos)
    return cli.fail("'" + cli.positionals()[0] + "' is not a broker URI (tcp://host:port)");
  runtime rt;
  signal_node_spec spec;
  if (!cli.positionals().empty()) {
    spec.brokers.push_back(cli.positionals()[0]);
    spec.mqtt.ack_timeout = 5s; // a broker that is down shows within 5 s
  } else {
    spec.hub = spawn_signal_hub(rt.system());
  }
  spec.identity = fresh_identity();
  auto alice = spawn_signal_node(rt.system(), spec);
  spec.identity = fresh_identity();
  auto bob = spawn_signal_node(rt.system(), spec);
  if (!alice || !bob) {
    std::cerr << "signal_chat: " << render(!alice ? alice.error() : bob.error()) << '\n';
    return 1;
  }
  caf::scoped_actor self{rt.system()};
  bool ok = true;
  auto fail = [&](const caf::error& err) {
    std::cerr << "signal_chat: " << render(err) << '\n';
    ok = false;
  };
  auto me = caf::actor_cast<caf::actor>(self.ptr());
  for (auto& n : {*alice, *bob}) {
    if (ok)
      self->request(n, 10s, online_atom::value, uint32_t{1})
        .receive([](caf::ok_atom) {}, fail);
    self->request(n, 10s, caf::subscribe_atom::value, me).receive([](caf::ok_atom) {}, fail);
  }
  signal_node_info to_bob;
  self->request(*bob, 10s, info_atom::value)
    .receive([&](signal_node_info& i) { to_bob = std::move(i); }, fail);
  auto close_both = [&] {
    for (auto& n : {*alice, *bob})
      self->request(n, 10s, caf::close_atom::value).receive([](caf::ok_atom) {}, fail);
  };
  if (!ok) {
    close_both();
    return 1;
  }

  std::string hello = "hello bob, this is alice";
  self
    ->request(*alice, 10s, send_atom::value, to_bob.keys, uint32_t{1},
              bytes(hello.begin(), hello.end()))
    .receive([](net::message_id&) {}, fail);
  // Both nodes deliver to this thread: bob gets alice's message, answers to
  // the keys it came with, and alice gets the answer.
  for (int i = 0; i < 2 && ok; ++i) {
    self->receive(
      [&](signal_message& m) {
        std::cout << "got \"" << text_of(m.plaintext) << "\" from " << m.sender << " via "
                  << m.channel << '\n';
        if (i == 0) {
          std::string answer = "hello alice, bob here";
          self->request(*bob, 10s, send_atom::value, m.sender_keys, uint32_t{1},
                        bytes(answer.begin(), answer.end()))
            .receive([](net::message_id&) {}, fail);
        }
      },
      caf::after(10s) >> [&] {
        std::cerr << "signal_chat: no message within 10 s\n";
        ok = false;
      });
  }
  close_both();
  return ok ? 0 : 1;
}
