#include "p2pd/actors/stun/nat_prober.hpp"

#include <algorithm>
#include <optional>
#include <random>
#include <string>
#include <utility>

#include "caf/event_based_actor.hpp"
#include "caf/response_promise.hpp"
#include "caf/stateful_actor.hpp"

#include "p2pd/actors/pipe/pipe_spec.hpp"
#include "p2pd/actors/pipe/spawn_pipe.hpp"
#include "p2pd/actors/stun/detail/probe_steps.hpp"
#include "p2pd/actors/stun/detail/nat_probe_report.hpp"
#include "p2pd/messages/errors.hpp"

namespace p2pd {

namespace {

using detail::binding_result;

// One prober runs the servers one after the other; `rep` is the report of
// the server being probed. Every step is a request whose continuation starts
// the next, in the order probe_nat() documents.
struct prober_state {
  std::vector<endpoint> servers;
  nat_probe_spec spec;
  stack_ptr stack; // never null: spec.stack or os_stack()
  std::vector<caf::response_promise> waiting;
  bool started = false;
  stun_client_actor client;
  // the server being probed
  size_t index = 0;
  endpoint bind_at;
  nat_report rep;
  std::optional<pipe_info> probe;
  std::optional<binding_result> t2, t3; // tests II and III, as they come
  size_t pending = 0;                   // of II and III
  // the delta test
  std::mt19937_64 rng;
  std::vector<uint16_t> used;
  size_t sample = 0;  // which sample is being taken
  uint16_t run_base = 0; // the consecutive round's first port (0: not drawn)
  size_t attempt = 0; // of binding its port
  caf::error last_bind_error;
  uint32_t order = 0;
  // what each server gave, for probe_nat_any's choice
  std::vector<caf::expected<nat_report>> tried;

  ~prober_state() {
    if (client)
      caf::anon_send_exit(client, caf::exit_reason::user_shutdown);
  }
};

using prober = caf::stateful_actor<prober_state>*;

void next_server(prober self);

// The probe of the current server ended with `r`: on to the next, or answer.
void server_done(prober self, caf::expected<nat_report> r) {
  auto& st = self->state;
  if (st.probe) {
    detail::close_probe_pipe(*st.probe);
    st.probe.reset();
  }
  bool decided = r && r->nat != net::nat_type::unknown;
  st.tried.push_back(std::move(r));
  ++st.index;
  if (!decided && st.index < st.servers.size()) {
    next_server(self);
    return;
  }
  auto out = detail::choose_nat_report(st.servers, std::move(st.tried));
  for (auto& rp : st.waiting)
    if (out)
      rp.deliver(*out);
    else
      rp.deliver(out.error());
  st.waiting.clear();
  self->quit();
}

// Opens a pipe of `spec` owned by the prober, then calls `k` with it.
template <class K>
void open(prober self, pipe_spec spec, K k) {
  detail::open_then(self, *self->state.stack, std::move(spec), std::move(k));
}

// One binding request through the prober's STUN client; `k` gets the answer.
template <class K>
void ask(prober self, stun_query q, net::protocol proto, K k) {
  auto& st = self->state;
  detail::ask_then(self, st.client, st.spec.timing, proto, std::move(q), std::move(k));
}

void take_sample(prober self);

void samples_done(prober self) {
  auto& rep = self->state.rep;
  rep.delta = net::classify_delta(rep.nat, rep.samples);
  rep.mapped_ports = net::mapped_port_range(rep.samples);
  server_done(self, std::move(rep));
}

// A random port in [min, max - span] such that none of [p, p + span] is
// equal or adjacent to a port already used; none within the retries.
std::optional<uint16_t> clear_port(prober self, uint16_t span) {
  auto& st = self->state;
  uint32_t lo = st.spec.sample_port_min;
  uint32_t max = st.spec.sample_port_max;
  uint32_t hi = std::max(lo, max > span ? max - span : 0u);
  std::uniform_int_distribution<uint32_t> pick{lo, hi};
  for (; st.attempt <= st.spec.bind_retries; ++st.attempt) {
    auto p = static_cast<uint16_t>(pick(st.rng));
    bool ok = true;
    for (auto u : st.used)
      if (p + span + 1 >= u && p <= u + 1)
        ok = false;
    if (ok) {
      ++st.attempt; // a port that then fails to bind uses up its try too
      return p;
    }
  }
  return std::nullopt;
}

// The next try at binding the current sample's port: a random one in the
// first round, the next of a run of consecutive ones in the second.
void take_sample(prober self) {
  auto& st = self->state;
  const auto first_round = st.spec.delta_samples;
  if (st.sample >= first_round + st.spec.consecutive_samples) {
    samples_done(self);
    return;
  }
  auto next_sample = [self] {
    auto& s = self->state;
    ++s.sample;
    s.attempt = 0;
    s.last_bind_error = caf::error{};
    take_sample(self);
  };
  bool in_run = st.sample >= first_round;
  std::optional<uint16_t> port;
  if (!in_run) {
    // Equal or adjacent to a port already used: consecutive local ports
    // would make an independent allocator look dependent. Drawn without an
    // open.
    port = clear_port(self, 0);
  } else {
    // A dependent allocator steps only when the local port goes + 1, which
    // the first round never does: without this run it looks random.
    if (st.run_base == 0) {
      auto span = static_cast<uint16_t>(st.spec.consecutive_samples);
      st.run_base = clear_port(self, span).value_or(0);
      if (st.run_base == 0) {
        st.rep.notes.push_back("consecutive samples: no clear run of "
                               + std::to_string(span) + " ports");
        st.sample = first_round + st.spec.consecutive_samples;
        take_sample(self);
        return;
      }
    }
    port = static_cast<uint16_t>(st.run_base + (st.sample - first_round));
  }
  if (!port) {
    st.rep.notes.push_back("delta sample " + std::to_string(st.sample) + ": no free port: "
                           + (st.last_bind_error ? render(st.last_bind_error)
                                                 : std::string{"none acceptable"}));
    next_sample();
    return;
  }
  open(self, server_spec(udp, endpoint{st.bind_at.ip, *port}),
       [self, next_sample, in_run](caf::expected<pipe_info> sock) {
         auto& s = self->state;
         if (!sock && in_run) { // a run's port is that port or none
           s.rep.notes.push_back("delta sample " + std::to_string(s.sample) + ": "
                                 + render(sock.error()));
           next_sample();
           return;
         }
         if (!sock) { // in use: another port, within the retries
           s.last_bind_error = std::move(sock.error());
           take_sample(self);
           return;
         }
         s.used.push_back(sock->local.port);
         auto local_port = sock->local.port;
         auto pipe = *sock;
         ask(self, {sock->pipe, s.spec.server, {}, false}, udp,
             [self, next_sample, local_port, pipe](binding_result b) {
               auto& s2 = self->state;
               if (b) {
                 net::port_sample smp;
                 smp.local_port = local_port;
                 smp.mapped_port = b->mapped.port;
                 smp.destination = s2.spec.server;
                 smp.order = s2.order++;
                 s2.rep.samples.push_back(smp);
               } else {
                 s2.rep.notes.push_back("delta sample " + std::to_string(s2.sample) + ": "
                                        + render(b.error()));
               }
               detail::close_probe_pipe(pipe);
               next_sample();
             });
       });
}

void tests_done(prober self) {
  auto& st = self->state;
  st.rep.nat = net::classify_nat(st.rep.tests);
  detail::close_probe_pipe(*st.probe);
  st.probe.reset();
  if (st.spec.delta_samples == 0) {
    samples_done(self);
    return;
  }
  // The stack's seed: the ports need no secrecy, and a simulation replays them.
  st.rng.seed(st.stack->rng_seed());
  st.used.clear();
  st.sample = 0;
  st.run_base = 0;
  st.attempt = 0;
  st.order = 0;
  take_sample(self);
}

// Test I', after II and III (probe_nat() says why it comes last).
void test1_alt(prober self, const net::nat_test_plan& plan) {
  auto& st = self->state;
  if (!plan.test1_alt) {
    tests_done(self);
    return;
  }
  auto to = *plan.test1_alt;
  ask(self, {st.probe->pipe, to, {}, false}, udp, [self, to](binding_result r) {
    auto& s = self->state;
    s.rep.tests.test1_alt = detail::nat_test_outcome(r, "test I'", s.rep.notes);
    if (s.rep.tests.test1_alt.reply == net::test_reply::no_reply)
      s.rep.notes.push_back("test I': no answer from " + to.to_string()
                            + " (the server's other IP on its primary port)");
    tests_done(self);
  });
}

// Tests II and III at the same time; I' once both have answered.
void tests_2_3(prober self, net::nat_test_plan plan) {
  auto& st = self->state;
  st.t2.reset();
  st.t3.reset();
  st.pending = (plan.test2 ? 1 : 0) + (plan.test3 ? 1 : 0);
  if (st.pending == 0) {
    test1_alt(self, plan);
    return;
  }
  auto both = [self, plan](bool second, binding_result r) {
    auto& s = self->state;
    (second ? s.t3 : s.t2) = std::move(r);
    if (--s.pending > 0)
      return;
    // In the order the blocking probe noted them: II, then III.
    if (s.t2)
      s.rep.tests.test2 = detail::nat_test_outcome(*s.t2, "test II", s.rep.notes);
    if (s.t3)
      s.rep.tests.test3 = detail::nat_test_outcome(*s.t3, "test III", s.rep.notes);
    test1_alt(self, plan);
  };
  if (plan.test2)
    ask(self, {st.probe->pipe, st.spec.server, {true, true}, false}, udp,
        [both](binding_result r) mutable { both(false, std::move(r)); });
  if (plan.test3)
    ask(self, {st.probe->pipe, st.spec.server, {false, true}, false}, udp,
        [both](binding_result r) mutable { both(true, std::move(r)); });
}

// Test I got no answer over UDP: one binding over TCP tells a blocked
// network from a server that is down.
void over_tcp(prober self, caf::error udp_err) {
  auto& st = self->state;
  auto cs = client_spec(tcp, st.spec.server.ip.to_string(), st.spec.server.port);
  cs.local = endpoint{st.bind_at.ip, 0};
  auto answer = [self, udp_err](binding_result over) {
    auto& s = self->state;
    if (!over) {
      server_done(self, make_error(errc::recv_timeout,
                                   "server unreachable: " + s.spec.server.to_string()
                                     + " answered neither over UDP (" + what_of(udp_err)
                                     + ") nor over TCP (" + render(over.error()) + ")"));
      return;
    }
    s.rep.notes.push_back("no answer over UDP from " + s.spec.server.to_string()
                          + ", but it answered over TCP: UDP is blocked on the way");
    s.rep.nat = net::classify_nat(s.rep.tests);
    s.rep.delta = net::classify_delta(s.rep.nat, s.rep.samples);
    server_done(self, std::move(s.rep));
  };
  open(self, std::move(cs), [self, answer](caf::expected<pipe_info> conn) mutable {
    if (!conn) {
      answer(binding_result{std::move(conn.error())});
      return;
    }
    auto c = *conn;
    ask(self, {c.pipe, self->state.spec.server, {}, false}, tcp,
        [answer, c](binding_result b) mutable {
          detail::close_probe_pipe(c);
          answer(std::move(b));
        });
  });
}

void test1(prober self) {
  auto& st = self->state;
  ask(self, {st.probe->pipe, st.spec.server, {}, false}, udp, [self](binding_result t1) {
    auto& s = self->state;
    if (!t1 && code_of(t1.error()) != errc::recv_timeout) {
      server_done(self, std::move(t1.error()));
      return;
    }
    s.rep.tests.test1 = detail::nat_test_outcome(t1, "test I", s.rep.notes);
    if (!t1) {
      over_tcp(self, std::move(t1.error()));
      return;
    }
    s.rep.mapped = t1->mapped;
    if (t1->other_address.port != 0)
      s.rep.alternate = t1->other_address;
    // A test the server cannot run would go unanswered for reasons that
    // have nothing to do with the NAT: not run, the type stays unknown.
    auto plan = net::plan_nat_tests(s.spec.server, s.rep.alternate);
    s.rep.notes.insert(s.rep.notes.end(), plan.notes.begin(), plan.notes.end());
    s.rep.test1_alt_to = plan.test1_alt;
    tests_2_3(self, std::move(plan));
  });
}

void next_server(prober self) {
  auto& st = self->state;
  st.spec.server = st.servers[st.index];
  st.rep = nat_report{};
  st.rep.server = st.spec.server;
  if (auto err = detail::check_nat_probe_spec(st.spec)) {
    server_done(self, std::move(err));
    return;
  }
  st.bind_at = st.spec.local.value_or(endpoint{net::ip_address::any(st.spec.server.fam()), 0});
  open(self, server_spec(udp, st.bind_at), [self](caf::expected<pipe_info> p) {
    auto& s = self->state;
    if (!p) {
      server_done(self, std::move(p.error()));
      return;
    }
    s.probe = *p;
    s.rep.local = p->local;
    s.rep.tests.local_port = p->local.port;
    s.rep.tests.local_ips = detail::local_ips_of(*s.stack, p->local, s.rep.notes);
    test1(self);
  });
}

caf::behavior nat_prober(prober self, std::vector<endpoint> servers, nat_probe_spec spec) {
  auto& st = self->state;
  st.servers = std::move(servers);
  st.stack = spec.stack ? spec.stack : os_stack();
  st.spec = std::move(spec);
  return {
    [self](nat_probe_atom) -> caf::response_promise {
      auto& s = self->state;
      auto rp = self->make_response_promise();
      s.waiting.push_back(rp);
      if (!s.started) {
        s.started = true;
        if (s.servers.empty()) {
          rp.deliver(make_error(errc::invalid_argument, "nat probe: no servers given"));
          s.waiting.clear();
          self->quit();
          return rp;
        }
        s.client = spawn_stun_client(self->home_system(), s.spec.timing);
        next_server(self);
      }
      return rp;
    },
  };
}

} // namespace

caf::actor spawn_nat_prober(caf::actor_system& sys, std::vector<endpoint> servers,
                            nat_probe_spec spec) {
  return sys.spawn(nat_prober, std::move(servers), std::move(spec));
}

caf::timespan nat_probe_deadline(size_t servers, const nat_probe_spec& spec) {
  auto open = open_timeout(server_spec(udp, endpoint{}));
  auto udp_ask = stun_deadline(spec.timing, net::protocol::udp);
  auto tcp_ask = stun_deadline(spec.timing, net::protocol::tcp);
  // test I, then II and III together or the TCP fallback, then I'; each
  // delta sample: an open and a binding (failed binds answer at once).
  auto tests = open + udp_ask + std::max(udp_ask, open + tcp_ask) + udp_ask;
  auto samples = spec.delta_samples == 0 ? 0 : spec.delta_samples + spec.consecutive_samples;
  auto delta = static_cast<caf::timespan::rep>(samples) * (open + udp_ask);
  return static_cast<caf::timespan::rep>(servers) * (tests + caf::timespan{delta})
         + timeouts::stun_margin;
}

} // namespace p2pd
