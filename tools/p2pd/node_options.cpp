#include "node_options.hpp"

#include <chrono>
#include <csignal>
#include <ctime>
#include <iostream>

#include "cli.hpp"
#include "given_nat.hpp"
#include "node_lines.hpp"

#include "caf/event_based_actor.hpp"

namespace p2pd::cli {

namespace {

// A CLI11 check of a given NAT: empty when it parses, else why not.
CLI::Validator nat_check(net::family fam) {
  return CLI::Validator(
    [fam](std::string& text) -> std::string {
      auto n = tools::parse_given_nat(fam, text);
      return n ? std::string{} : n.error().what;
    },
    "");
}

} // namespace

void add_node_options(CLI::App* app, node_options& o) {
  app->add_option("--servers,--config", o.servers,
                  "server file: STUN, NAT, MQTT, TURN, NTP and name servers (see "
                  "config/servers.conf); none: offline, NAT unknown, direct connects only")
    ->check(CLI::Validator(CLI::ExistingFile).description(""))
    ->type_name("FILE");
  app->add_option("--data-dir", o.data_dir,
                  "the node's key file (default $P2PD_DATA_DIR, else ~/.p2pd)")
    ->type_name("DIR");
  app->add_option("--interfaces", o.interfaces,
                  "NICs to use, comma-separated (default: those the filter keeps; loopback "
                  "only when named, e.g. lo)")
    ->type_name("LIST");
  app->add_option("--port", o.port, "the node port (default: derived from the node id)")
    ->check(CLI::Range(1, 65535))
    ->type_name("PORT");
  app->add_option("--nat4", o.nat4, "the IPv4 NAT, given instead of probed: TYPE[/DELTA[:STEP]]")
    ->check(nat_check(net::family::v4))
    ->type_name("NAT");
  app->add_option("--nat6", o.nat6, "the IPv6 NAT, given instead of probed: TYPE[/DELTA[:STEP]]")
    ->check(nat_check(net::family::v6))
    ->type_name("NAT");
}

net::result<std::vector<net::server_entry>> load_servers(const std::string& file) {
  if (file.empty())
    return std::vector<net::server_entry>{};
  return net::load_server_list(file);
}

node_spec make_node_spec(const node_options& o, const std::vector<net::server_entry>& servers) {
  node_spec spec;
  spec.port = o.port;
  if (!o.data_dir.empty())
    spec.data_dir = o.data_dir;
  if (!o.interfaces.empty())
    spec.interfaces = tools::split(o.interfaces, ',');
  for (auto [text, fam] : {std::pair{&o.nat4, net::family::v4}, {&o.nat6, net::family::v6}})
    if (!text->empty())
      if (auto n = tools::parse_given_nat(fam, *text)) // checked by the option already
        spec.iface.nats.push_back(*n);
  tools::apply_server_list(spec, servers, std::cerr, "p2pd");
  return spec;
}

stop_watch::stop_watch(sigset_t set, caf::actor target)
  : quit_(std::make_shared<std::atomic<bool>>(false)) {
  thread_ = std::thread([set, target, quit = quit_] {
    timespec tick{0, 100 * 1000 * 1000};
    while (!quit->load()) {
      int sig = sigtimedwait(&set, nullptr, &tick);
      if (sig > 0) {
        caf::anon_send(target, stop_signal_atom::value, sig);
        return;
      }
    }
  });
}

stop_watch::~stop_watch() {
  quit_->store(true);
  if (thread_.joinable())
    thread_.join();
}

running_node::running_node()
  : stop_set(examples::block_stop_signals()), rt(), self(rt.system()) {
  std::signal(SIGPIPE, SIG_IGN); // a closed stdout is an EPIPE, seen where we write
  watch.emplace(stop_set, caf::actor{self.ptr()});
}

caf::error running_node::start(node_spec spec) {
  spec.subscribers.push_back(caf::actor{self.ptr()});
  if (progress_on_stderr()) {
    // Start-up takes seconds (STUN, NAT probes, brokers): say each step as
    // it ends, from an actor of its own (the node's start blocks this thread).
    auto printer = rt.system().spawn([](caf::event_based_actor* p) -> caf::behavior {
      p->set_default_handler(caf::drop);
      return {[](node_progress& x) { progress(x.what); }};
    });
    spec.subscribers.push_back(printer);
    printer_ = printer;
  }
  auto t0 = tools::steady::now();
  auto n = rt.start_node(std::move(spec));
  if (!n)
    return n.error();
  start_ms = tools::ms_since(t0);
  node.emplace(std::move(*n));
  return {};
}

running_node::~running_node() {
  close();
  watch.reset();
}

void running_node::close() {
  if (printer_) {
    caf::anon_send_exit(printer_, caf::exit_reason::user_shutdown);
    printer_ = nullptr;
  }
  if (!node)
    return;
  if (auto err = node->close())
    std::cerr << "p2pd: close the node: " << render(err) << '\n';
  node.reset();
}

} // namespace p2pd::cli
