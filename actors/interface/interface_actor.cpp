#include "p2pd/actors/interface/interface_actor.hpp"

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "caf/actor_cast.hpp"
#include "caf/allowed_unsafe_message_type.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "p2pd/actors/stun/external_prober.hpp"
#include "p2pd/actors/stun/nat_prober.hpp"
#include "p2pd/actors/common/timeouts.hpp"
#include "p2pd/actors/common/weak_timer.hpp"
#include "p2pd/actors/interface/detail/interface_tasks.hpp"
#include "p2pd/messages/errors.hpp"
#include "p2pd/net/util/server_list.hpp"

namespace p2pd {

const nat_summary* interface_spec::given_nat(net::family fam) const {
  auto i = std::find_if(nats.begin(), nats.end(), [fam](const nat_summary& n) { return n.fam == fam; });
  return i != nats.end() ? &*i : nullptr;
}

caf::error interface_spec::check() const {
  // Two NATs given for one family would leave the one that counts to their
  // order in the vector: the caller meant one of them, we cannot tell which.
  for (auto i = nats.begin(); i != nats.end(); ++i)
    if (std::any_of(std::next(i), nats.end(),
                    [&](const nat_summary& n) { return n.fam == i->fam; }))
      return make_error(errc::invalid_argument,
                        std::string{"interface_spec::nats gives the "} + net::to_string(i->fam)
                          + " NAT twice: at most one NAT per family");
  return {};
}

void add_servers(interface_spec& spec, const std::vector<net::server_entry>& list) {
  for (const auto& e : list)
    if (e.kind == net::server_kind::stun || e.kind == net::server_kind::nat)
      spec.servers.push_back(e);
}

namespace actors {

namespace {

struct interface_state {
  interface_spec spec;
  /// The spec of the refresh under way: `spec` with the servers' names
  /// resolved into stun_servers and nat_servers.
  interface_spec run;
  interface_snapshot snap;
  /// The refresh under way: its snapshot so far and what it still waits for.
  bool running = false;
  interface_snapshot next;
  size_t pending = 0;
  std::vector<caf::typed_response_promise<interface_snapshot>> waiters;
  std::vector<caf::actor> subscribers;
  uint64_t refreshes = 0;
  /// The STUN probers (external addresses, NAT) of refreshes: they end with
  /// the interface actor (one that answered has ended already; an exit to
  /// it is dropped).
  std::vector<caf::actor> probers;
  /// The stack's resolver while it resolves the servers' names (held so
  /// that it lives to answer; never ended by us: a stack may share it).
  resolver_actor resolver;

  ~interface_state() {
    for (auto& p : probers)
      caf::anon_send_exit(p, caf::exit_reason::user_shutdown);
  }
};

using interface_impl = interface_actor::stateful_pointer<interface_state>;

// Puts the given NATs into a snapshot, in place of the unknown ones of
// their families (a family without a route has no entry, and gets none).
void apply_given_nats(const interface_spec& spec, interface_snapshot& s) {
  for (auto& n : s.nats)
    if (auto* given = spec.given_nat(n.fam)) {
      n = *given;
      n.notes.push_back("given, not probed");
    }
}

void finish(interface_impl self) {
  auto& st = self->state;
  st.running = false;
  st.next.refreshes = ++st.refreshes;
  st.snap = std::move(st.next);
  st.next = {};
  for (auto& rp : st.waiters)
    rp.deliver(st.snap);
  st.waiters.clear();
  for (auto& s : st.subscribers)
    caf::anon_send(s, st.snap);
}

void fail(interface_impl self, caf::error err) {
  auto& st = self->state;
  st.running = false;
  for (auto& rp : st.waiters)
    rp.deliver(err);
  st.waiters.clear();
}

void task_done(interface_impl self) {
  if (--self->state.pending == 0)
    finish(self);
}

// Why a kind of server is missing: none configured, or none resolved.
std::string missing(const interface_state& st, net::server_kind kind, const char* what) {
  size_t unresolved = 0;
  for (const auto& e : st.spec.servers)
    unresolved += e.kind == kind ? 1 : 0;
  if (unresolved == 0)
    return std::string{"no "} + net::to_string(kind) + " servers configured: " + what;
  return "none of the " + std::to_string(unresolved) + " " + net::to_string(kind)
         + " servers configured could be resolved (see unresolved): " + what;
}

// The note a refresh leaves when it had no NAT servers for a family to probe.
std::string no_nat_servers(const interface_state& st) {
  return missing(st, net::server_kind::nat, "NAT type unknown");
}

// Drops the note that NATs are unknown once every family of `s` has a given
// one: the note was true when the refresh wrote it, and a snapshot must not
// contradict itself until the next refresh.
void drop_stale_nat_note(const interface_state& st, interface_snapshot& s) {
  if (std::any_of(s.nats.begin(), s.nats.end(),
                  [&](const nat_summary& n) { return !st.spec.given_nat(n.fam); }))
    return;
  auto note = no_nat_servers(st);
  s.notes.erase(std::remove(s.notes.begin(), s.notes.end(), note), s.notes.end());
}

void forget(std::vector<caf::actor>& xs, const caf::actor& x) {
  xs.erase(std::remove(xs.begin(), xs.end(), x), xs.end());
}

// The STUN part of a refresh, once the servers' addresses are known.
void run_tasks(interface_impl self) {
  auto& st = self->state;
  const auto& spec = st.run;
  if (spec.stun_servers.empty())
    st.next.notes.push_back(missing(st, net::server_kind::stun, "external addresses unknown"));
  bool to_probe = std::any_of(st.next.nats.begin(), st.next.nats.end(),
                              [&](const nat_summary& n) { return !spec.given_nat(n.fam); });
  if (spec.nat_servers.empty() && to_probe)
    st.next.notes.push_back(no_nat_servers(st));
  auto& routes = st.next.routes;
  for (size_t i = 0; i < routes.size() && !spec.stun_servers.empty(); ++i) {
    // Each route's prober is an actor of its own, not a job on a thread: it
    // waits on the actor clock, so a simulated network runs it on virtual
    // time. All routes at once.
    ++st.pending;
    auto what = routes[i].to_string();
    auto prober = spawn_external_prober(self->home_system(), routes[i],
                                        external_for(routes[i], spec));
    st.probers.push_back(prober);
    // No deadline of its own, as for the NAT prober below.
    self->request(prober, timeouts::until_answered, external_probe_atom::value)
      .then(
        [self, i, prober](net::route& r) {
          forget(self->state.probers, prober);
          self->state.next.routes[i].ext_ips = std::move(r.ext_ips);
          task_done(self);
        },
        [self, what, prober](caf::error& err) {
          caf::anon_send_exit(prober, caf::exit_reason::user_shutdown);
          forget(self->state.probers, prober);
          self->state.next.notes.push_back("external address of " + what + ": "
                                           + render(err));
          task_done(self);
        });
  }
  for (size_t i = 0; i < st.next.nats.size() && !spec.nat_servers.empty(); ++i) {
    auto fam = st.next.nats[i].fam;
    if (spec.given_nat(fam))
      continue;
    auto r = st.next.route(fam);
    auto local = r ? r->nic() : std::nullopt;
    if (!local)
      continue;
    // The prober is an actor of its own, not a job on a thread: it waits on
    // the actor clock, so a simulated network runs it on virtual time.
    auto args = nat_probe_for(*local, spec, st.next.nats[i]);
    if (!args)
      continue;
    ++st.pending;
    auto prober = spawn_nat_prober(self->home_system(), args->servers, args->spec);
    st.probers.push_back(prober);
    // No deadline of its own: every step of the prober has one, so it always
    // answers, and a request timeout would keep this actor alive on the
    // clock after its last handle is gone (CAF 0.17 never cancels them).
    self->request(prober, timeouts::until_answered, nat_probe_atom::value)
      .then(
        [self, i, prober](nat_report& rep) {
          forget(self->state.probers, prober);
          // Given while the probe ran: what was given wins.
          if (!self->state.spec.given_nat(self->state.next.nats[i].fam))
            summarize_probe(rep, self->state.next.nats[i]);
          task_done(self);
        },
        [self, i, prober](caf::error& err) {
          caf::anon_send_exit(prober, caf::exit_reason::user_shutdown); // a timeout, say
          forget(self->state.probers, prober);
          self->state.next.nats[i].notes.push_back("NAT probe: " + render(err));
          task_done(self);
        });
  }
  if (st.pending == 0)
    finish(self);
}

void start_refresh(interface_impl self) {
  auto& st = self->state;
  // The stack's table: on the OS a netlink dump, a local, bounded kernel
  // call like a socket option.
  auto nic = find_nic(stack_or_os(st.spec.stack), st.spec.name);
  if (!nic) {
    fail(self, std::move(nic.error()));
    return;
  }
  st.running = true;
  st.next = read_nic(*nic);
  apply_given_nats(st.spec, st.next);
  st.pending = 0;
  st.run = st.spec;
  if (st.spec.servers.empty()) {
    run_tasks(self);
    return;
  }
  // Names are resolved again at every refresh (addresses change, a resolver
  // that failed may answer now), by the stack's resolver: on the OS a
  // blocking job (getaddrinfo blocks) that answers within about dns_timeout
  // whatever the name servers do, in a simulation its name table.
  auto picked = net::servers_to_resolve(st.spec.servers,
                                        {net::server_kind::stun, net::server_kind::nat});
  std::vector<std::string> hosts;
  for (const auto& e : picked)
    hosts.push_back(e.host);
  st.resolver = stack_or_os(st.spec.stack).resolver(self->home_system());
  auto t0 = self->clock().now();
  // Bounded even if a stack's resolver never answers: a refresh must end.
  self->request(st.resolver, st.spec.dns_timeout + timeouts::call_margin, resolve_atom::value,
                std::move(hosts), st.spec.dns_timeout)
    .then(
      [self, picked, t0](resolved_hosts& rh) {
        auto& st = self->state;
        st.resolver = nullptr;
        auto took = std::chrono::duration_cast<std::chrono::milliseconds>(self->clock().now() - t0);
        auto rs = net::collect_servers(picked, rh.answers, took);
        for (const auto& [kind, ep] : rs.endpoints)
          (kind == net::server_kind::stun ? st.run.stun_servers : st.run.nat_servers)
            .push_back(ep);
        for (const auto& u : rs.unresolved)
          st.next.unresolved.push_back(u.to_string());
        st.next.resolve_ms = rs.took.count();
        run_tasks(self);
      },
      [self](caf::error& err) {
        self->state.resolver = nullptr;
        self->state.next.notes.push_back("resolving server names: " + render(err));
        run_tasks(self);
      });
}

interface_actor::behavior_type interface_fn(interface_impl self, interface_spec spec) {
  self->state.spec = std::move(spec);
  // On failure the actor quits with the reason once this function returns
  // (a typed behavior cannot be empty).
  auto nic = [&]() -> caf::expected<net::interface_info> {
    if (auto err = self->state.spec.check())
      return err;
    return find_nic(stack_or_os(self->state.spec.stack), self->state.spec.name);
  }();
  if (!nic)
    self->quit(std::move(nic.error()));
  else {
    self->state.snap = read_nic(*nic);
    apply_given_nats(self->state.spec, self->state.snap);
    start_refresh(self);
  }
  if (nic && self->state.spec.refresh_interval > caf::timespan{0}) {
    // A weak ticker: the periodic refresh must not keep the actor alive (a
    // delayed message holds its receiver). Stopped when the actor ends, so
    // that the system does not wait for the next tick to shut down.
    auto t = start_weak_ticker(self->home_system(), caf::weak_actor_ptr{self->ctrl()},
                               self->state.spec.refresh_interval,
                               caf::make_message(refresh_atom::value));
    self->attach_functor([t] { caf::anon_send_exit(t, caf::exit_reason::user_shutdown); });
  }
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& subs = self->state.subscribers;
    subs.erase(std::remove_if(subs.begin(), subs.end(),
                              [&](const caf::actor& s) { return s.address() == dm.source; }),
               subs.end());
  });
  return {
    [self](caf::get_atom) -> interface_snapshot { return self->state.snap; },
    [self](ready_atom) -> caf::result<interface_snapshot> {
      if (self->state.refreshes > 0)
        return self->state.snap;
      // The first refresh is under way (the actor starts it at once).
      auto rp = self->make_response_promise<interface_snapshot>();
      self->state.waiters.push_back(rp);
      if (!self->state.running)
        start_refresh(self);
      return rp;
    },
    [self](refresh_atom) -> caf::result<interface_snapshot> {
      auto rp = self->make_response_promise<interface_snapshot>();
      self->state.waiters.push_back(rp);
      if (!self->state.running)
        start_refresh(self);
      return rp;
    },
    [self](route_atom, net::family fam) -> caf::result<net::route> {
      if (auto* r = self->state.snap.route(fam))
        return *r;
      return make_error(errc::invalid_argument, "interface '" + self->state.snap.name
                                                  + "' has no " + net::to_string(fam)
                                                  + " route");
    },
    [self](nat_atom, nat_summary& n) -> caf::ok_atom {
      auto& st = self->state;
      auto& given = st.spec.nats;
      given.erase(std::remove_if(given.begin(), given.end(),
                                 [&](const nat_summary& x) { return x.fam == n.fam; }),
                  given.end());
      given.push_back(std::move(n));
      st.run.nats = given;
      apply_given_nats(st.spec, st.snap);
      drop_stale_nat_note(st, st.snap);
      if (st.running) {
        apply_given_nats(st.spec, st.next);
        drop_stale_nat_note(st, st.next);
      }
      for (auto& s : st.subscribers)
        caf::anon_send(s, st.snap);
      return caf::ok_atom::value;
    },
    [self](caf::subscribe_atom, caf::actor& sub) -> caf::ok_atom {
      auto& subs = self->state.subscribers;
      if (std::find(subs.begin(), subs.end(), sub) == subs.end()) {
        self->monitor(sub);
        subs.push_back(std::move(sub));
      }
      return caf::ok_atom::value;
    },
    [self](caf::unsubscribe_atom, const caf::actor& sub) -> caf::ok_atom {
      auto& subs = self->state.subscribers;
      subs.erase(std::remove(subs.begin(), subs.end(), sub), subs.end());
      self->demonitor(sub);
      return caf::ok_atom::value;
    },
  };
}

} // namespace

} // namespace actors

interface_actor spawn_interface(caf::actor_system& sys, interface_spec spec) {
  return sys.spawn(actors::interface_fn, std::move(spec));
}


} // namespace p2pd
