// A node's start: identity, TLS, interface actors, signalling and listeners,
// each reported as progress; ready once it listens and signalling is online.
#include "p2pd/node/node_state.hpp"

#include <algorithm>

#include "caf/send.hpp"

#include "p2pd/actors/common/timeouts.hpp"
#include "p2pd/actors/signal/node/signal_node.hpp"
#include "p2pd/messages/errors.hpp"
#include "p2pd/net/crypto/key_file.hpp"
#include "p2pd/net/util/data_dir.hpp"
#include "p2pd/node/address/local_address.hpp"

namespace p2pd::node {

namespace {

std::vector<listen_addr> listen_addrs(const node_state& st, uint16_t port) {
  std::vector<listen_addr> out;
  auto add = [&](net::ip_address ip) {
    listen_addr a;
    a.proto = net::protocol::tcp;
    a.local = endpoint{ip, port};
    for (auto& x : out)
      if (x.local.ip == a.local.ip)
        return;
    out.push_back(a);
  };
  for (const auto& r : st.address.routes) {
    if (r.nic)
      add(*r.nic);
    if (r.link_local && st.spec.listen_link_local) {
      auto scopes = link_scopes(st.snaps);
      if (r.interface < scopes.size() && scopes[r.interface] != 0)
        add(r.link_local->with_scope(scopes[r.interface]));
    }
  }
  return out;
}

void listened(node_actor_ptr self, std::vector<listener_info>& infos) {
  auto& st = self->state;
  st.listeners.insert(st.listeners.end(), infos.begin(), infos.end());
  for (auto& l : infos)
    st.progress("listening on TCP " + l.local.to_string());
  st.listening = true;
  st.rebuild_address();
  st.check_ready();
  start_port_mapping(self); // its answers come later: ready does not wait
}

} // namespace

// Listens on every route's addresses at `port`. When the derived port is
// taken, the first address takes a free port and the others follow it: one
// port for the whole node.
void listen(node_actor_ptr self, uint16_t port, bool may_move) {
  auto& st = self->state;
  auto addrs = listen_addrs(st, port);
  if (addrs.empty()) {
    st.progress("no address to listen on");
    st.listening = true;
    return st.check_ready();
  }
  self->request(st.daemon, timeouts::listen, listen_atom::value, addrs)
    .then(
      [=](std::vector<listener_info>& infos) {
        self->state.port = infos.front().local.port;
        listened(self, infos);
      },
      [=](caf::error& err) {
        auto& st = self->state;
        if (st.listening) {
          // A restarted daemon that cannot listen again has failed: its
          // down message counts it against the budget.
          if (st.daemon)
            self->send_exit(st.daemon, err);
          return;
        }
        if (!may_move)
          return fail_node(self, err);
        st.progress("port " + std::to_string(port) + " is taken (" + render(err)
                    + "); taking a free one");
        auto first = listen_addrs(st, 0);
        first.resize(1);
        self->request(st.daemon, timeouts::listen, listen_atom::value, first)
          .then(
            [=](std::vector<listener_info>& infos) {
              auto& st = self->state;
              st.port = infos.front().local.port;
              auto rest = listen_addrs(st, st.port);
              rest.erase(std::remove_if(rest.begin(), rest.end(),
                                        [&](const listen_addr& a) {
                                          return a.local.ip == infos.front().local.ip;
                                        }),
                         rest.end());
              if (rest.empty())
                return listened(self, infos);
              self->request(st.daemon, timeouts::listen, listen_atom::value, rest)
                .then(
                  [=](std::vector<listener_info>& more) mutable {
                    infos.insert(infos.end(), more.begin(), more.end());
                    listened(self, infos);
                  },
                  [=](caf::error& err) { fail_node(self, err); });
            },
            [=](caf::error& err) { fail_node(self, err); });
      });
}

namespace {

// The interfaces a node uses: the spec's, else those the filter keeps, else
// the default one.
std::vector<std::string> interface_names(const node_spec& spec) {
  if (!spec.interfaces.empty())
    return spec.interfaces;
  std::vector<std::string> out;
  if (auto table = spec.stack->interfaces())
    for (auto& nic : net::filter_interfaces(table->interfaces, spec.filter))
      if (out.size() < max_interfaces)
        out.push_back(nic.name);
  if (out.empty())
    out.push_back("");
  return out;
}

} // namespace

void interface_loaded(node_actor_ptr self, size_t i, interface_snapshot& snap) {
  auto& st = self->state;
  st.snaps[i] = std::move(snap);
  bool first = !st.loaded[i];
  st.loaded[i] = true;
  if (first) {
    st.progress("interface " + st.snaps[i].name + " loaded");
    for (auto& n : st.snaps[i].nats)
      st.progress(std::string{"NAT "} + net::to_string(n.fam) + " known: "
                  + net::to_string(n.nat) + ", delta " + net::to_string(n.delta));
  }
  st.rebuild_address();
  if (std::all_of(st.loaded.begin(), st.loaded.end(), [](bool b) { return b; })
      && !st.listening && st.listeners.empty() && first)
    listen(self, st.port, st.spec.port == 0);
}

caf::error prepare_node(node_spec& spec, node_state& st, caf::actor_system& sys) {
  if (!spec.stack)
    spec.stack = os_stack();
  if (spec.identity) {
    st.me = spec.identity;
  } else {
    auto id = net::load_or_create_identity_in(spec.data_dir);
    if (!id)
      return make_error(id.error());
    st.me = std::make_shared<const net::identity>(std::move(*id));
  }
  st.my_id = st.me->id().to_string();
  auto server = net::tls_context::make_node(*st.me, true);
  auto client = net::tls_context::make_node(*st.me, false);
  if (!server || !client)
    return make_error(server ? client.error() : server.error());
  st.tls_server = *server;
  st.tls_client = *client;
  st.port = spec.port != 0 ? spec.port : default_node_port(st.me->id());
  st.next_request = spec.stack->rng_seed() | 1;
  // Signalling: the node's own identity, the clock from the stack.
  signal_node_spec sig;
  sig.identity = st.me;
  sig.brokers = spec.brokers;
  sig.hub = spec.hub;
  auto stack = spec.stack;
  sig.clock = [stack] { return stack->unix_ms(); };
  st.signal_spec = sig;
  auto signal = spawn_signal_node(sys, std::move(sig));
  if (!signal)
    return std::move(signal.error());
  st.signal = *signal;
  return caf::none;
}

void start_node(node_actor_ptr self) {
  auto& st = self->state;
  st.subscribers = st.spec.subscribers;
  start_signal(self);
  start_daemon(self);
  start_clock(self);
  start_names(self);
  auto names = interface_names(st.spec);
  st.snaps.resize(names.size());
  st.loaded.assign(names.size(), false);
  st.ifaces.resize(names.size());
  for (size_t i = 0; i < names.size(); ++i)
    start_interface(self, i, names[i]);
}

void node_state::progress(std::string what) {
  notify(caf::make_message(node_progress{std::move(what)}));
}

void node_state::refuse(uint64_t node_stats::*counter, const char* what, std::string peer,
                        caf::error reason) {
  ++(stats.*counter);
  if (!subscribers.empty())
    notify(caf::make_message(node_refused{what, std::move(peer), std::move(reason)}));
}

void node_state::notify(const caf::message& msg) {
  for (auto& s : subscribers)
    self->send(s, msg);
}

node_info node_state::info() const {
  return node_info{my_id, address_text, port, listeners};
}

void node_state::rebuild_address() {
  local_address_input in;
  in.keys = me->pub();
  in.issued_ms = now_ms();
  in.interfaces = snaps;
  auto table = spec.stack->interfaces();
  if (table)
    in.table = &*table;
  in.port = port;
  // A private hub reaches nobody: no channel to offer then.
  for (auto& b : spec.brokers)
    in.channels.push_back({channel_kind::mqtt, b});
  if (spec.hub)
    in.channels.push_back({channel_kind::hub, "hub"});
  in.mapped = mapped_routes(*this);
  address = make_local_address(in);
  auto text = encode_peer_address(address, *me);
  address_text = text ? *text : std::string{};
  // The names we hold follow the address (node_names.cpp). `self` is the
  // node actor once it runs (prepare_node's state has none).
  if (self != nullptr)
    keep_names_current(static_cast<node_actor_ptr>(self));
}

void node_state::check_ready() {
  if (!listening || !signal_online || ready_waiters.empty())
    return;
  auto i = info();
  for (auto& rp : ready_waiters)
    rp.deliver(i);
  ready_waiters.clear();
}

local_view node_state::view() const {
  local_view v{address, link_scopes(snaps), {}};
  for (auto& t : spec.turn)
    if (t.server.port != 0
        && std::find(v.relay_families.begin(), v.relay_families.end(), t.server.fam())
             == v.relay_families.end())
      v.relay_families.push_back(t.server.fam());
  return v;
}

link* node_state::link_to(const std::string& peer) {
  link* best = nullptr;
  for (auto& kvp : links)
    if (kvp.second.conn.peer == peer
        && (best == nullptr || kvp.second.last_activity > best->last_activity))
      best = &kvp.second;
  return best;
}

} // namespace p2pd::node
