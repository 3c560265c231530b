// node_chat [--reverse]: two nodes, alice and bob, in this process on
// loopback. Alice connects to bob by his address (directly, or with
// --reverse by asking bob over signalling to connect back to her), prints
// how the connect went, and they exchange three messages each way.
#include <iostream>
#include <map>
#include <string>

#include "args.hpp"

#include "p2pd/node.hpp"

using namespace p2pd;
using namespace std::chrono_literals;

namespace {

constexpr int rounds = 3;

// A node on loopback signalling through `hub`, with an identity of its own
// in memory (a real node keeps one in its data directory) and `sub` getting
// its events.
caf::expected<node_handle> start(runtime& rt, const signal_hub_actor& hub, const caf::actor& sub) {
  auto id = net::identity::generate();
  if (!id)
    return make_error(id.error());
  node_spec spec;
  spec.identity = std::make_shared<const net::identity>(std::move(*id));
  spec.interfaces = {"lo"};
  spec.hub = hub;
  spec.subscribers.push_back(sub);
  return rt.start_node(std::move(spec));
}

std::string listeners_of(const node_info& info) {
  std::string out;
  for (auto& l : info.listeners)
    out += (out.empty() ? "" : ", ") + to_string(l.local);
  return out;
}

} // namespace

int main(int argc, char** argv) {
  examples::args cli{"node_chat", "two nodes on loopback connect by address and exchange "
                                  "messages"};
  cli.flag("--reverse", "alice asks bob over signalling to connect back to her");
  if (auto rc = cli.parse(argc, argv))
    return *rc;
  runtime rt;
  auto hub = spawn_signal_hub(rt.system()); // in-process signalling: no broker
  caf::scoped_actor self{rt.system()};      // gets both nodes' events, in order per node
  auto alice = start(rt, hub, caf::actor{self.ptr()});
  if (!alice)
    return cli.error("start alice", alice.error());
  auto bob = start(rt, hub, caf::actor{self.ptr()});
  if (!bob)
    return cli.error("start bob", bob.error());
  std::map<std::string, std::string> name{{alice->id(), "alice"}, {bob->id(), "bob"}};
  for (auto* n : {&*alice, &*bob})
    std::cout << name[n->id()] << " is node " << n->id() << ", listening on "
              << listeners_of(n->info()) << '\n';

  node::connect_options opts;
  if (cli.has("--reverse"))
    opts.strategies = {node::strategy::reverse};
  auto conn = alice->connect(bob->address(), opts); // all she needs is his address
  if (!conn)
    return cli.error("alice connects to bob", conn.error());
  std::cout << "alice connected to bob: " << conn->report.to_string() << '\n';
  for (auto& a : conn->report.attempts)
    std::cout << "  attempt " << a.attempt << ": " << a.outcome << " after " << a.ms << " ms\n";

  // Alice says hello, bob answers, three times. Every event of either node
  // comes here; which node got it is the one its peer is not.
  auto other = [&](const std::string& peer) { return peer == alice->id() ? &*bob : &*alice; };
  auto say = [&](node_handle& from, const std::string& text) {
    std::cout << name[from.id()] << " sends \"" << text << "\"\n";
    return from.send(other(from.id())->id(), text);
  };
  if (auto err = say(*alice, "hello bob, 1 of 3"))
    return cli.error("alice sends", err);
  int answered = 0;
  caf::error failed;
  while (answered < rounds && !failed)
    self->receive(
      [&](node_peer_up& up) {
        std::cout << name[other(up.conn.peer)->id()] << " has a connection with "
                  << name[up.conn.peer] << " (" << (up.conn.inbound ? "inbound" : "outbound")
                  << ")\n";
      },
      [&](node_msg& m) {
        auto& to = *other(m.peer);
        std::cout << name[to.id()] << " got \"" << to_string(m.data) << "\" from "
                  << name[m.peer] << '\n';
        if (&to == &*bob)
          failed = say(*bob, "hi alice, got your " + std::to_string(answered + 1));
        else if (++answered < rounds)
          failed = say(*alice, "hello bob, " + std::to_string(answered + 1) + " of 3");
      },
      [](caf::message&) {}, // start progress, peer end
      caf::after(5s) >> [&] { failed = make_error(errc::recv_timeout, "no message in 5 s"); });
  if (failed)
    return cli.error("chat", failed);

  for (auto* n : {&*alice, &*bob}) {
    auto st = n->stats();
    if (!st)
      return cli.error("stats of " + name[n->id()], st.error());
    std::cout << name[n->id()] << ": " << st->connections << " connection, sent "
              << st->messages_out << " messages, received " << st->messages_in << '\n';
  }
  for (auto* n : {&*alice, &*bob})
    if (auto err = n->close()) // connections, listeners, signalling, in order
      return cli.error("close " + name[n->id()], err);
  return 0;
}
