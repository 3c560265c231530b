#include "p2pd/actors/stun/nat_probe.hpp"

#include <random>
#include <utility>

#include "caf/scoped_actor.hpp"

#include "p2pd/actors/pipe/pipe_spec.hpp"
#include "p2pd/actors/pipe/spawn_pipe.hpp"
#include "p2pd/messages/errors.hpp"
#include "p2pd/net/interfaces.hpp"

namespace p2pd {

stun_timing fast_stun_timing() {
  stun_timing t;
  t.rto = std::chrono::milliseconds(100);
  t.max_sends = 4;
  t.last_wait_factor = 4;
  return t;
}

namespace {

using binding_result = caf::expected<stun_binding>;

/// Starts one binding request; the answer is taken with take().
class pending_query {
public:
  pending_query(caf::scoped_actor& self, const stun_client_actor& client,
                const stun_timing& timing, stun_query q)
    : hdl_(self->request(client, stun_deadline(timing, net::protocol::udp), stun_atom::value,
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

std::vector<net::ip_address> local_ips_of(const endpoint& local, std::vector<std::string>& notes) {
  std::vector<net::ip_address> out;
  if (!local.ip.is_any()) {
    out.push_back(local.ip);
    return out;
  }
  auto table = net::list_interfaces();
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

caf::expected<nat_report> probe_nat(runtime& rt, const nat_probe_spec& spec) {
  return probe_nat(rt.system(), spec);
}

caf::expected<nat_report> probe_nat(caf::actor_system& sys, const nat_probe_spec& spec) {
  if (spec.server.port == 0)
    return make_error(errc::invalid_argument, "nat probe: the server needs a port");
  if (spec.sample_port_min == 0 || spec.sample_port_min > spec.sample_port_max)
    return make_error(errc::invalid_argument, "nat probe: bad sample port range");
  nat_report rep;
  auto bind_at = spec.local.value_or(endpoint{net::ip_address::any(spec.server.fam()), 0});
  if (bind_at.fam() != spec.server.fam())
    return make_error(errc::invalid_argument, "nat probe: local address " + bind_at.to_string()
                                                + " and server " + spec.server.to_string()
                                                + " differ in family");
  // The probe's pipes are owned by `self`: they close when it ends, on every
  // return path.
  caf::scoped_actor self{sys};
  auto close = [](const pipe_info& p) { caf::anon_send(p.pipe, caf::close_atom::value); };
  auto probe = open_pipe(self, server_spec(udp, bind_at));
  if (!probe)
    return std::move(probe.error());
  rep.local = probe->local;
  rep.tests.local_port = rep.local.port;
  rep.tests.local_ips = local_ips_of(rep.local, rep.notes);

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
  if (t1) {
    rep.mapped = t1->mapped;
    if (t1->other_address.port != 0)
      rep.alternate = t1->other_address;
    else
      // A server without a second address cannot answer change requests, so
      // their silence would say nothing about our filter: not run, and the
      // type stays unknown where it depends on them.
      rep.notes.push_back("the server sent no OTHER-ADDRESS: it cannot answer change "
                          "requests, tests II, III and I' not run");
  }
  if (rep.alternate) {
    // Tests II and III together, then I' (see the header for why).
    pending_query q2{self, client, spec.timing, {probe->pipe, spec.server, {true, true}, false}};
    pending_query q3{self, client, spec.timing, {probe->pipe, spec.server, {false, true}, false}};
    rep.tests.test2 = outcome(q2.take(), "test II", rep.notes);
    rep.tests.test3 = outcome(q3.take(), "test III", rep.notes);
    rep.tests.test1_alt =
      outcome(ask(self, client, spec.timing, {probe->pipe, *rep.alternate, {}, false}),
              "test I'", rep.notes);
  }
  rep.nat = net::classify_nat(rep.tests);
  close(*probe);

  // Port delta: one fresh socket per sample, random non-consecutive ports.
  if (t1 && spec.delta_samples > 0) {
    std::mt19937 rng{std::random_device{}()};
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
        auto p = open_pipe(self, server_spec(udp, endpoint{bind_at.ip, port}));
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

} // namespace p2pd
