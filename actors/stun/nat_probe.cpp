#include "p2pd/actors/stun/nat_probe.hpp"

#include <random>
#include <utility>

#include "caf/scoped_actor.hpp"

#include "p2pd/actors/pipe/pipe_spec.hpp"
#include "p2pd/actors/stack/open_pipe_on.hpp"
#include "p2pd/messages/errors.hpp"

namespace p2pd {

namespace {

using binding_result = caf::expected<stun_binding>;

/// Starts one binding request; the answer is taken with take().
class pending_query {
public:
  pending_query(caf::scoped_actor& self, const stun_client_actor& client,
                const stun_timing& timing, stun_query q,
                net::protocol proto = net::protocol::udp)
    : hdl_(self->request(client, stun_deadline(timing, proto), stun_atom::value,
                         std::move(q))) {}

  binding_result take() {
    binding_result out{make_error(errc::io_failed, "no answer from the STUN client")};
    hdl_.receive([&](stun_binding& b) { out = std::move(b); },
                 [&](caf::error& e) { out = std::move(e); });
    return out;
  }

private:
  decltype(std::declval<caf::scoped_actor&>()->request(
    std::declval<const stun_client_actor&>(), caf::timespan{}, stun_atom::value,
    std::declval<stun_query>())) hdl_;
};

binding_result ask(caf::scoped_actor& self, const stun_client_actor& client,
                   const stun_timing& timing, stun_query q) {
  return pending_query{self, client, timing, std::move(q)}.take();
}

/// One binding to `server` over TCP from `local_ip`: whether the server is
/// there at all when UDP gets no answer.
binding_result ask_over_tcp(caf::scoped_actor& self, const net_stack& stack,
                            const stun_client_actor& client, const stun_timing& timing,
                            const endpoint& server, const net::ip_address& local_ip) {
  auto spec = client_spec(tcp, server.ip.to_string(), server.port);
  spec.local = endpoint{local_ip, 0};
  auto conn = open_pipe_on(self, stack, std::move(spec));
  if (!conn)
    return std::move(conn.error());
  auto b = pending_query{self, client, timing, {conn->pipe, server, {}, false}, tcp}.take();
  caf::anon_send(conn->pipe, caf::close_atom::value);
  return b;
}

/// replied / no_reply (a timeout) / not_run (any other error: an error
/// response proves nothing about the NAT). Notes why a test did not run.
net::stun_test outcome(const binding_result& r, const char* name,
                       std::vector<std::string>& notes) {
  if (r)
    return net::stun_test::replied(r->mapped);
  if (code_of(r.error()) == errc::recv_timeout)
    return net::stun_test::no_reply();
  notes.push_back(std::string{name} + ": " + render(r.error()));
  return net::stun_test::not_run();
}

std::vector<net::ip_address> local_ips_of(const net_stack& stack, const endpoint& local,
                                          std::vector<std::string>& notes) {
  std::vector<net::ip_address> out;
  if (!local.ip.is_any()) {
    out.push_back(local.ip);
    return out;
  }
  auto table = stack.interfaces();
  if (!table) {
    notes.push_back("local addresses: " + net::to_string(table.error()));
    return out;
  }
  for (const auto& itf : table->interfaces)
    for (const auto& a : itf.addresses(local.fam()))
      out.push_back(a.ip);
  return out;
}

} // namespace

caf::expected<nat_report> probe_nat(caf::actor_system& sys, const nat_probe_spec& spec) {
  if (spec.server.port == 0)
    return make_error(errc::invalid_argument, "nat probe: the server needs a port");
  if (spec.sample_port_min == 0 || spec.sample_port_min > spec.sample_port_max)
    return make_error(errc::invalid_argument, "nat probe: bad sample port range");
  nat_report rep;
  rep.server = spec.server;
  auto bind_at = spec.local.value_or(endpoint{net::ip_address::any(spec.server.fam()), 0});
  if (bind_at.fam() != spec.server.fam())
    return make_error(errc::invalid_argument, "nat probe: local address " + bind_at.to_string()
                                                + " and server " + spec.server.to_string()
                                                + " differ in family");
  // The probe's pipes are owned by `self`: they close when it ends, on every
  // return path.
  const auto& stack = stack_or_os(spec.stack);
  caf::scoped_actor self{sys};
  auto close = [](const pipe_info& p) { caf::anon_send(p.pipe, caf::close_atom::value); };
  auto probe = open_pipe_on(self, stack, server_spec(udp, bind_at));
  if (!probe)
    return std::move(probe.error());
  rep.local = probe->local;
  rep.tests.local_port = rep.local.port;
  rep.tests.local_ips = local_ips_of(stack, rep.local, rep.notes);

  auto client = spawn_stun_client(sys, spec.timing);
  auto finish = [&] {
    close(*probe);
    self->send_exit(client, caf::exit_reason::user_shutdown);
  };

  // Test I.
  auto t1 = ask(self, client, spec.timing, {probe->pipe, spec.server, {}, false});
  if (!t1 && code_of(t1.error()) != errc::recv_timeout) {
    finish();
    return std::move(t1.error());
  }
  rep.tests.test1 = outcome(t1, "test I", rep.notes);
  if (!t1) {
    // Silence over UDP is "blocked" only if the server is there at all.
    auto over_tcp = ask_over_tcp(self, stack, client, spec.timing, spec.server, bind_at.ip);
    finish();
    if (!over_tcp)
      return make_error(errc::recv_timeout,
                        "server unreachable: " + spec.server.to_string()
                          + " answered neither over UDP (" + what_of(t1.error())
                          + ") nor over TCP (" + render(over_tcp.error()) + ")");
    rep.notes.push_back("no answer over UDP from " + spec.server.to_string()
                        + ", but it answered over TCP: UDP is blocked on the way");
    rep.nat = net::classify_nat(rep.tests);
    rep.delta = net::classify_delta(rep.nat, rep.samples);
    return rep;
  }
  rep.mapped = t1->mapped;
  if (t1->other_address.port != 0)
    rep.alternate = t1->other_address;
  // A test the server cannot run would go unanswered for reasons that have
  // nothing to do with the NAT: not run, and the type stays unknown where it
  // depends on it.
  auto plan = net::plan_nat_tests(spec.server, rep.alternate);
  rep.notes.insert(rep.notes.end(), plan.notes.begin(), plan.notes.end());
  rep.test1_alt_to = plan.test1_alt;
  {
    // Tests II and III together, then I' (see the header for why).
    std::optional<pending_query> q2;
    std::optional<pending_query> q3;
    if (plan.test2)
      q2.emplace(self, client, spec.timing,
                 stun_query{probe->pipe, spec.server, {true, true}, false});
    if (plan.test3)
      q3.emplace(self, client, spec.timing,
                 stun_query{probe->pipe, spec.server, {false, true}, false});
    if (q2)
      rep.tests.test2 = outcome(q2->take(), "test II", rep.notes);
    if (q3)
      rep.tests.test3 = outcome(q3->take(), "test III", rep.notes);
  }
  if (plan.test1_alt) {
    rep.tests.test1_alt = outcome(ask(self, client, spec.timing,
                                      {probe->pipe, *plan.test1_alt, {}, false}),
                                  "test I'", rep.notes);
    if (rep.tests.test1_alt.reply == net::test_reply::no_reply)
      rep.notes.push_back("test I': no answer from " + plan.test1_alt->to_string()
                          + " (the server's other IP on its primary port)");
  }
  rep.nat = net::classify_nat(rep.tests);
  close(*probe);

  // Port delta: one fresh socket per sample, random non-consecutive ports.
  if (spec.delta_samples > 0) {
    // The stack's seed: the ports need no secrecy, and a simulation replays them.
    std::mt19937_64 rng{stack.rng_seed()};
    std::uniform_int_distribution<uint32_t> pick{spec.sample_port_min, spec.sample_port_max};
    std::vector<uint16_t> used;
    auto acceptable = [&](uint16_t port) {
      for (auto u : used)
        if (port + 1 >= u && port <= u + 1) // equal or adjacent to a port already used
          return false;
      return true;
    };
    uint32_t order = 0;
    for (size_t i = 0; i < spec.delta_samples; ++i) {
      std::optional<pipe_info> sock;
      caf::error last;
      for (size_t attempt = 0; attempt <= spec.bind_retries && !sock; ++attempt) {
        auto port = static_cast<uint16_t>(pick(rng));
        if (!acceptable(port))
          continue;
        auto p = open_pipe_on(self, stack, server_spec(udp, endpoint{bind_at.ip, port}));
        if (p)
          sock.emplace(std::move(*p));
        else
          last = std::move(p.error());
      }
      if (!sock) {
        rep.notes.push_back("delta sample " + std::to_string(i) + ": no free port: "
                            + (last ? render(last) : std::string{"none acceptable"}));
        continue;
      }
      used.push_back(sock->local.port);
      auto b = ask(self, client, spec.timing, {sock->pipe, spec.server, {}, false});
      if (b) {
        net::port_sample s;
        s.local_port = sock->local.port;
        s.mapped_port = b->mapped.port;
        s.destination = spec.server;
        s.order = order++;
        rep.samples.push_back(s);
      } else {
        rep.notes.push_back("delta sample " + std::to_string(i) + ": " + render(b.error()));
      }
      close(*sock);
    }
  }
  rep.delta = net::classify_delta(rep.nat, rep.samples);
  rep.mapped_ports = net::mapped_port_range(rep.samples);
  self->send_exit(client, caf::exit_reason::user_shutdown);
  return rep;
}

caf::expected<nat_report> probe_nat_any(caf::actor_system& sys,
                                        const std::vector<endpoint>& servers,
                                        const nat_probe_spec& spec) {
  if (servers.empty())
    return make_error(errc::invalid_argument, "nat probe: no servers given");
  std::vector<caf::expected<nat_report>> tried;
  std::optional<size_t> chosen; // the first with a type, else the first report
  for (const auto& server : servers) {
    auto s = spec;
    s.server = server;
    tried.push_back(probe_nat(sys, s));
    const auto& rep = tried.back();
    if (rep && (!chosen || rep->nat != net::nat_type::unknown))
      chosen = tried.size() - 1;
    if (rep && rep->nat != net::nat_type::unknown)
      break;
  }
  // What each server said, in order; the chosen report's own notes unprefixed.
  std::vector<std::string> notes;
  std::string failures;
  std::optional<caf::error> other_error; // the first that is not "unreachable"
  for (size_t i = 0; i < tried.size(); ++i) {
    const auto prefix = servers[i].to_string() + ": ";
    if (!tried[i]) {
      const auto& err = tried[i].error();
      notes.push_back(prefix + render(err));
      failures += (failures.empty() ? "" : "; ") + render(err);
      if (!other_error && code_of(err) != errc::recv_timeout)
        other_error = err;
      continue;
    }
    for (const auto& n : tried[i]->notes)
      notes.push_back(chosen == i ? n : prefix + n);
  }
  if (chosen) {
    auto rep = std::move(*tried[*chosen]);
    rep.notes = std::move(notes);
    return rep;
  }
  if (tried.size() == 1)
    return std::move(tried[0].error());
  if (other_error)
    return make_error(code_of(*other_error), "nat probe: no server could be used: " + failures);
  return make_error(errc::recv_timeout, "server unreachable: none of the "
                                          + std::to_string(servers.size())
                                          + " servers answered: " + failures);
}

} // namespace p2pd
