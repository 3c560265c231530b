// The README's demo: three P2P nodes, alice, bob and carol, in this process
// on loopback with the embedded defaults (signalling through an in-process
// hub, no server, nothing beyond loopback). They start, connect by address
// (alice to bob directly, carol to alice by reverse connect: she asks alice
// over signalling to connect back, bob to carol directly over IPv6 where ::1
// works), print how each connect went, exchange messages on every connection
// both ways, and close. Exits 0 when every connect worked and every message
// was answered, 1 otherwise.
#include <chrono>
#include <iomanip>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "args.hpp"

#include "p2pd/node.hpp"

using namespace p2pd;
using namespace std::chrono_literals;
using clk = std::chrono::steady_clock;
using millis = std::chrono::duration<double, std::milli>;

namespace {

struct peer {
  std::string name;
  std::optional<node_handle> node;
};

struct link_plan {
  peer* from;
  peer* to;
  node::connect_options opts;
  const char* why;
};

std::string listeners_of(const node_info& info) {
  std::string out;
  for (auto& l : info.listeners)
    out += (out.empty() ? "" : ", ") + to_string(l.local);
  return out;
}

bool listens_on_v6(const node_info& info) {
  for (auto& l : info.listeners)
    if (l.local.ip.fam() == net::family::v6)
      return true;
  return false;
}

} // namespace

int main(int argc, char** argv) {
  examples::args cli{"p2p_demo", "three P2P nodes on loopback connect direct and reverse and "
                                 "exchange messages"};
  if (auto rc = cli.parse(argc, argv))
    return *rc;
  runtime rt;
  std::cout << std::fixed << std::setprecision(2);
  auto hub = spawn_signal_hub(rt.system()); // what nodes of one process signal through
  caf::scoped_actor self{rt.system()};      // gets every node's events

  // Start: each node loads its interface (lo), goes online on the hub and
  // listens; its progress events come here.
  std::cout << "start\n";
  std::vector<peer> peers{{"alice", {}}, {"bob", {}}, {"carol", {}}};
  for (auto& p : peers) {
    auto id = net::identity::generate(); // in memory: three nodes, one process
    if (!id)
      return cli.error(p.name + "'s identity", make_error(id.error()));
    node_spec spec;
    spec.identity = std::make_shared<const net::identity>(std::move(*id));
    spec.interfaces = {"lo"};
    spec.hub = hub;
    spec.subscribers.push_back(caf::actor{self.ptr()});
    // The protocol: a hello is answered on the pipe it came by (an answer
    // is not: two nodes would answer each other forever).
    spec.handlers.push_back([me = p.name](const node_msg& msg) {
      if (to_string(msg.data).rfind("hello ", 0) == 0)
        caf::anon_send(msg.pipe, send_atom::value, to_bytes("hi, " + me + " here"), msg.from);
    });
    auto started = clk::now();
    auto node = rt.start_node(std::move(spec));
    if (!node)
      return cli.error("start " + p.name, node.error());
    millis took = clk::now() - started;
    // Its progress came before it was ready: all of it is here now.
    for (bool more = true; more;)
      self->receive(
        [&](node_progress& ev) { std::cout << "  " << p.name << ": " << ev.what << '\n'; },
        [](caf::message&) {}, caf::after(0s) >> [&] { more = false; });
    std::cout << "  " << p.name << ": node " << node->id() << " ready in " << took.count()
              << " ms, listening on " << listeners_of(node->info()) << '\n';
    p.node = std::move(*node);
  }
  auto& alice = peers[0];
  auto& bob = peers[1];
  auto& carol = peers[2];

  // Connect: all a node needs is the other's address (a signed line of text).
  node::connect_options reverse;
  reverse.strategies = {node::strategy::reverse};
  node::connect_options v6;
  v6.families = {net::family::v6};
  std::cout << "connect\n";
  bool has_v6 = listens_on_v6(carol.node->info());
  if (!has_v6)
    std::cout << "  (no IPv6 loopback: bob connects to carol over IPv4)\n";
  std::vector<link_plan> plan{
    {&alice, &bob, {}, "direct"},
    {&carol, &alice, reverse, "reverse"},
    {&bob, &carol, has_v6 ? v6 : node::connect_options{}, has_v6 ? "direct, IPv6" : "direct"},
  };
  std::map<node::strategy, int> by_strategy;
  for (auto& l : plan) {
    auto conn = l.from->node->connect(l.to->node->address(), l.opts);
    if (!conn)
      return cli.error(l.from->name + " connects to " + l.to->name + " (" + l.why + ")",
                       conn.error());
    std::cout << "  " << l.from->name << " -> " << l.to->name << ": "
              << conn->report.to_string() << '\n';
    ++by_strategy[conn->report.how];
  }

  // Messages: over each connection, each side says hello and the other's
  // handler answers.
  std::cout << "messages\n";
  int sent = 0, answered = 0;
  for (auto& l : plan)
    for (auto [from, to] : {std::pair{l.from, l.to}, std::pair{l.to, l.from}}) {
      auto text = "hello " + to->name + ", this is " + from->name;
      auto started = clk::now();
      if (auto err = from->node->send(to->node->id(), text))
        return cli.error(from->name + " sends to " + to->name, err);
      ++sent;
      // The answer: a message that `from` got from `to` and that is not a
      // hello (`to`'s own hello to `from` may come here after it).
      std::optional<std::string> answer;
      for (bool more = true; more && !answer;)
        self->receive(
          [&](node_msg& m) {
            auto at = caf::actor_cast<caf::strong_actor_ptr>(from->node->handle());
            auto got = to_string(m.data);
            if (m.peer == to->node->id() && self->current_sender() == at
                && got.rfind("hello ", 0) != 0)
              answer = std::move(got);
          },
          [](caf::message&) {}, caf::after(5s) >> [&] { more = false; });
      if (!answer) {
        cli.error(from->name + " -> " + to->name,
                  make_error(errc::recv_timeout, "no answer in 5 s"));
        continue;
      }
      millis took = clk::now() - started;
      std::cout << "  " << from->name << " -> " << to->name << ": \"" << text << "\", answer \""
                << *answer << "\" in " << took.count() << " ms\n";
      ++answered;
    }

  // What each node counted, then close: connections, listeners, signalling
  // and interface actors, in order.
  std::cout << "stats\n";
  for (auto& p : peers) {
    auto st = p.node->stats();
    if (!st)
      return cli.error("stats of " + p.name, st.error());
    // Sent: the hellos (node_handle::send); the handler's answers go on the
    // pipe straight away. Received: hellos and answers.
    std::cout << "  " << p.name << ": " << st->connections << " connections, sent "
              << st->messages_out << " hellos, received " << st->messages_in << " messages\n";
  }
  std::cout << "close\n";
  for (auto& p : peers) {
    auto started = clk::now();
    if (auto err = p.node->close())
      return cli.error("close " + p.name, err);
    millis took = clk::now() - started;
    std::cout << "  " << p.name << ": closed in " << took.count() << " ms\n";
  }
  std::cout << "summary: " << plan.size() << " connections (" << by_strategy[node::strategy::direct]
            << " direct, " << by_strategy[node::strategy::reverse] << " reverse), " << answered
            << " of " << sent << " messages answered\n";
  return answered == sent && sent == 2 * static_cast<int>(plan.size()) ? 0 : 1;
}
