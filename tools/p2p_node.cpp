// p2p_node: one P2P node, as the lab and operators run it. It starts a node
// (its identity in --data-dir, STUN and NAT servers and MQTT brokers from
// --servers and --broker, the interfaces the filter keeps or --interfaces),
// prints what it learnt and its signed peer address, then either
//   - serves (no --connect): answers each message with "re: <message>", and
//     ends once it answered --answer messages and that peer closed; or
//   - connects (--connect FILE, '-' for stdin): reads a peer address (the
//     first line), connects with --strategies over --families, prints the
//     connect report, sends --message, waits for the answer and ends.
//
// stdout is line-oriented, one "word key=value ..." line per fact, for
// scripts (progress goes to stderr):
//   ready id=<node id> port=41234 start_ms=612
//   route if=0 fam=v4 nic=10.0.3.2/24 ext=198.51.100.13 port=41234 nat=full_cone delta=equal/0
//   channel mqtt tcp://203.0.113.30:1883
//   address=p2pd1_...
//   portmap port mapping: TCP 10.0.1.2:41234 -> 11.100.0.11:41234 by PCP, 3600 s
//                          (--port-mapping: each step and event of the
//                          mapping; once the TCP and the UDP one are known,
//                          or refused, a second address= line follows, with them;
//                          IPv6 pinholes: "... TCP [ip]:p -> [ip]:p by UPnP
//                          pinhole, 3600 s", no address line of their own)
//   connected strategy=direct path=external family=v4 local=... remote=... ms=12 attempts=2 shared=0 peer=<id> transport=tcp [punch=simultaneous|spray]
//   attempt ms=3 | direct IPv4 external if0->if0 203.0.113.130:41234 | won
//   connect_failed ms=2001 reason=<why, every attempt>   (also on stderr)
//   reply from=<id> rtt_ms=1 text=re: hello
//   peer_up peer=<id> inbound=1 remote=...     (both modes)
//   message from=<id> text=hello               (serving)
//   peer_end peer=<id> reason=none             (serving)
// Exit: 0 done; 1 the node did not start (or another failure at run time);
// 2 bad arguments; 3 the connect failed (every attempt and why on stderr);
// 4 a wait ran out (--timeout: no peer address, no answer, no message, the
// peer did not close).
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "args.hpp"
#include "connect_options.hpp"
#include "node_lines.hpp"

#include "caf/scoped_actor.hpp"

#include "p2pd/node.hpp"
#include "p2pd/p2pd.hpp"

using namespace p2pd;
using namespace std::chrono_literals;

namespace {

using examples::exit_connect_failed;
using examples::exit_timeout;
using tools::ms_since;
using tools::split;
using tools::steady;

// The first line of `file` ('-': stdin, waiting at most `limit` for it;
// `timed_out` then says whether nothing came).
std::optional<std::string> read_address(const std::string& file, std::chrono::seconds limit,
                                        std::string& why, bool& timed_out) {
  std::string line;
  if (file == "-") {
    pollfd p{STDIN_FILENO, POLLIN, 0};
    auto n = ::poll(&p, 1, static_cast<int>(limit.count() * 1000));
    if (n <= 0) {
      timed_out = n == 0;
      why = n == 0 ? "no peer address on stdin within " + std::to_string(limit.count()) + " s"
                   : "poll on stdin failed";
      return std::nullopt;
    }
    if (!std::getline(std::cin, line)) {
      why = "stdin ended before a peer address";
      return std::nullopt;
    }
  } else {
    std::ifstream in{file};
    if (!in || !std::getline(in, line)) {
      why = "cannot read a line from '" + file + "'";
      return std::nullopt;
    }
  }
  line = tools::trim(line);
  if (line.rfind("address=", 0) == 0) // a line of ours, as printed
    line = line.substr(8);
  return line;
}

// What the node learnt, and its address: the lines a script reads.
void print_start(const node_info& info, int64_t start_ms) {
  tools::print_node_facts(std::cout, std::cerr, "p2p_node", info, start_ms);
  std::cout << "address=" << info.address << std::endl;
}

// Prints the node's events as they come until `deadline` (those already
// here when it has passed); the first one `stop` accepts ends the wait
// (true), else false.
template <class Stop>
bool pump(caf::scoped_actor& self, steady::time_point deadline, Stop stop) {
  bool done = false;
  bool timed_out = false;
  while (!done && !timed_out) {
    auto left = deadline - steady::now();
    if (left < 0s)
      left = 0s;
    self->receive(
      [&](node_progress& p) {
        std::cerr << "progress " << p.what << '\n';
        // Port mapping comes after ready and changes the address: scripts
        // see it on stdout.
        if (p.what.rfind("port mapping", 0) == 0) {
          std::cout << "portmap " << p.what << std::endl;
          done = stop(p);
        }
      },
      [&](node_peer_up& up) {
        std::cout << "peer_up peer=" << up.conn.peer << " inbound=" << up.conn.inbound
                  << " remote=" << to_string(up.conn.remote) << std::endl;
        done = stop(up);
      },
      [&](node_peer_end& end) {
        std::cout << "peer_end peer=" << end.peer
                  << " reason=" << (end.reason ? render(end.reason) : "none") << std::endl;
        done = stop(end);
      },
      [&](node_msg& m) { done = stop(m); },
      [](caf::message&) {},
      caf::after(std::chrono::duration_cast<caf::timespan>(left)) >> [&] { timed_out = true; });
  }
  return done;
}

node::connect_options parse_options(const examples::args& cli, std::string& why) {
  auto opts = tools::parse_connect_words(cli.value("--strategies"), cli.value("--families"),
                                         cli.value("--transport"));
  if (!opts) {
    why = "--" + what_of(opts.error());
    return {};
  }
  return *opts;
}

// --port-mapping LIST, --portmap-lease SEC, --portmap-gateway IP.
void parse_port_mapping(const examples::args& cli, node_portmap_spec& pm, std::string& why) {
  if (auto list = cli.value("--port-mapping")) {
    pm.enabled = true;
    if (*list != "on") {
      pm.methods.clear();
      for (auto& x : split(*list, ','))
        if (x == "pcp")
          pm.methods.push_back(portmap_method::pcp);
        else if (x == "natpmp")
          pm.methods.push_back(portmap_method::natpmp);
        else if (x == "upnp")
          pm.methods.push_back(portmap_method::upnp);
        else
          why = "--port-mapping: '" + x + "' is not a method (pcp, natpmp, upnp, or on)";
      if (pm.methods.empty() && why.empty())
        why = "--port-mapping: no method given";
    }
  }
  if (auto l = cli.value("--portmap-lease")) {
    auto n = examples::parse_count(*l, 1, 604800);
    if (!n)
      why = "--portmap-lease: '" + *l + "' is not a number of seconds in 1..604800";
    else
      pm.lifetime_s = static_cast<uint32_t>(*n);
  }
  if (auto g = cli.value("--portmap-gateway")) {
    auto ip = net::ip_address::parse(*g);
    if (!ip || !ip->is_v4())
      why = "--portmap-gateway: '" + *g + "' is not an IPv4 address";
    else
      pm.gateway = *ip;
  }
}

} // namespace

int main(int argc, char** argv) {
  examples::args cli{"p2p_node", "runs one P2P node: prints its address, then serves, or connects "
                                 "to a peer address and exchanges one message"};
  cli.option("--servers", "FILE", "STUN, NAT and MQTT servers (see config/servers.conf); none: "
                                  "offline, NAT unknown")
    .option("--broker", "URIS", "MQTT brokers for signalling, comma-separated (besides the file's)")
    .option("--data-dir", "DIR", "the node's key file (default $P2PD_DATA_DIR, else ~/.p2pd)")
    .option("--interfaces", "NAMES", "NICs to use, comma-separated (default: those the filter keeps)")
    .option("--port", "PORT", "the node port (default: derived from the node id)")
    .option("--connect", "FILE", "connect to the peer address on FILE's first line ('-': stdin)")
    .option("--strategies", "LIST", "connect strategies in order (default direct,reverse)")
    .option("--families", "LIST", "connect families in order (default 4,6)")
    .option("--transport", "tcp|udp", "a TLS stream (default) or sealed datagrams (udp: punch and relay only)")
    .option("--message", "TEXT", "what to send once connected (default \"hello\")")
    .option("--answer", "N", "serving: messages to answer before ending (default 1)")
    .option("--timeout", "SEC", "bound of every wait (default 30)")
    .option("--port-mapping", "LIST", "ask the gateway to forward the node port, methods in order "
                                      "(pcp,natpmp,upnp; 'on': all; with upnp also IPv6 "
                                      "pinholes); the address is printed again once the "
                                      "TCP mapping is known")
    .option("--portmap-lease", "SEC", "lifetime asked for each mapping (default 3600)")
    .option("--portmap-gateway", "IP", "the gateway to ask (default: the default route's)");
  if (auto rc = cli.parse(argc, argv))
    return *rc;
  std::string why;
  auto opts = parse_options(cli, why);
  if (!why.empty())
    return cli.fail(why);
  auto timeout = 30s;
  if (auto t = cli.value("--timeout")) {
    auto n = examples::parse_count(*t, 1, 3600);
    if (!n)
      return cli.fail("--timeout: '" + *t + "' is not a number of seconds in 1..3600");
    timeout = std::chrono::seconds(*n);
  }
  uint64_t to_answer = 1;
  if (auto a = cli.value("--answer")) {
    auto n = examples::parse_count(*a, 1, 1000000);
    if (!n)
      return cli.fail("--answer: '" + *a + "' is not a number in 1..1000000");
    to_answer = *n;
  }
  auto port = cli.port("--port", 0, false); // absent: 0, the node picks
  if (!port)
    return examples::exit_usage;

  node_spec spec;
  spec.port = *port;
  parse_port_mapping(cli, spec.port_mapping, why);
  if (!why.empty())
    return cli.fail(why);
  if (auto d = cli.value("--data-dir"))
    spec.data_dir = *d;
  if (auto names = cli.value("--interfaces"))
    spec.interfaces = split(*names, ',');
  if (auto file = cli.value("--servers")) {
    auto list = net::load_server_list(*file);
    if (!list)
      return cli.error("servers", list.error());
    tools::apply_server_list(spec, *list, std::cerr, "p2p_node");
  }
  if (auto b = cli.value("--broker"))
    for (auto& uri : split(*b, ','))
      spec.brokers.push_back(uri);

  runtime rt;
  caf::scoped_actor self{rt.system()}; // gets the node's events from the start
  spec.subscribers.push_back(caf::actor{self.ptr()});
  auto t0 = steady::now();
  auto n = rt.start_node(std::move(spec));
  if (!n)
    return cli.error("start the node", n.error());
  auto start_ms = ms_since(t0);
  // Whether the TCP and the UDP mapping (or the gateway's refusals) are
  // known yet: the address printed then carries both. An IPv6 pinhole
  // changes nothing in the address: not those.
  bool tcp_known = false, udp_known = false, no_gateway = false;
  auto mappings_known = [&](auto& x) {
    using T = std::decay_t<decltype(x)>;
    if constexpr (std::is_same_v<T, node_progress>) {
      if (x.what.find("pinhole") != std::string::npos)
        return (tcp_known && udp_known) || no_gateway;
      for (const char* p : {"TCP", "UDP"}) {
        bool known = x.what.rfind(std::string{"port mapping: "} + p, 0) == 0
                     || x.what.rfind(std::string{"port mapping: no "} + p, 0) == 0;
        (p[0] == 'T' ? tcp_known : udp_known) |= known;
      }
      no_gateway = no_gateway || x.what.find("no IPv4 gateway") != std::string::npos;
    }
    return (tcp_known && udp_known) || no_gateway;
  };
  bool mapping_known = false;
  pump(self, steady::now(), [&](auto& x) { // its progress so far
    mapping_known = mappings_known(x);
    return false;
  });
  print_start(n->info(), start_ms);
  if (cli.value("--port-mapping")) {
    // The node was ready without them; the mappings (or the gateway's
    // refusals) come within the mapper's deadline.
    if (!mapping_known)
      pump(self, steady::now() + portmap_deadline(portmap_timing{}), mappings_known);
    // The handle keeps the info of the start: ask the node for its address now.
    self->request(n->handle(), timeout, info_atom::value)
      .receive([](node_info& i) { std::cout << "address=" << i.address << std::endl; },
               [](caf::error& err) {
                 std::cerr << "p2p_node: info: " << render(err) << '\n';
               });
  }

  auto finish = [&](int rc) {
    if (auto err = n->close())
      std::cerr << "p2p_node: close: " << render(err) << '\n';
    return rc;
  };

  if (auto file = cli.value("--connect")) {
    bool timed_out = false;
    auto text = read_address(*file, timeout, why, timed_out);
    if (!text) {
      std::cerr << "p2p_node: " << why << '\n';
      return finish(timed_out ? exit_timeout : examples::exit_failure);
    }
    auto asked = steady::now();
    auto conn = n->connect(*text, opts);
    if (!conn) {
      std::cout << "connect_failed ms=" << ms_since(asked) << " reason=" << render(conn.error())
                << std::endl;
      std::cerr << "p2p_node: connect: " << render(conn.error()) << '\n';
      return finish(exit_connect_failed);
    }
    tools::print_connected(std::cout, *conn);
    std::cout << std::flush;
    auto message = cli.value("--message").value_or("hello");
    auto sent = steady::now();
    if (auto err = n->send(conn->peer, message)) {
      cli.error("send", err);
      return finish(examples::exit_failure);
    }
    bool answered = pump(self, sent + timeout, [&](auto& x) {
      using T = std::decay_t<decltype(x)>;
      if constexpr (std::is_same_v<T, node_msg>) {
        if (x.peer != conn->peer)
          return false;
        std::cout << "reply from=" << x.peer << " rtt_ms=" << ms_since(sent)
                  << " text=" << to_string(x.data) << std::endl;
        return true;
      }
      return false;
    });
    if (!answered) {
      std::cerr << "p2p_node: no answer from " << conn->peer << " within " << timeout.count()
                << " s\n";
      return finish(exit_timeout);
    }
    return finish(0);
  }

  // Serving: answer, then wait for the peer we answered to close.
  uint64_t answered = 0;
  std::string last_peer;
  auto served = pump(self, steady::now() + timeout, [&](auto& x) {
    using T = std::decay_t<decltype(x)>;
    if constexpr (std::is_same_v<T, node_msg>) {
      auto text = to_string(x.data);
      std::cout << "message from=" << x.peer << " text=" << text << std::endl;
      if (auto err = n->send(x.peer, "re: " + text)) {
        std::cerr << "p2p_node: answer " << x.peer << ": " << render(err) << '\n';
        return false;
      }
      ++answered;
      last_peer = x.peer;
      return false;
    } else if constexpr (std::is_same_v<T, node_peer_end>) {
      return answered >= to_answer && x.peer == last_peer;
    }
    return false;
  });
  if (!served) {
    if (answered < to_answer)
      std::cerr << "p2p_node: " << answered << " of " << to_answer
                << " messages came and were answered within " << timeout.count() << " s\n";
    else
      std::cerr << "p2p_node: answered " << answered << " messages, but " << last_peer
                << " did not close within " << timeout.count() << " s\n";
    return finish(exit_timeout);
  }
  std::cout << "served answered=" << answered << std::endl;
  return finish(0);
}
