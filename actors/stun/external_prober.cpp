#include "p2pd/actors/stun/external_prober.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "caf/event_based_actor.hpp"
#include "caf/response_promise.hpp"
#include "caf/stateful_actor.hpp"

#include "p2pd/actors/common/timeouts.hpp"
#include "p2pd/actors/pipe/spawn_pipe.hpp"
#include "p2pd/actors/stun/detail/probe_steps.hpp"
#include "p2pd/messages/errors.hpp"
#include "p2pd/messages/inspect_net.hpp"
#include "p2pd/net/nat/consensus.hpp"

namespace p2pd {

namespace {

// One prober asks from the route's NIC addresses one after the other (each
// a pipe of its own, closed before the next opens), all servers at once
// from each.
struct external_prober_state {
  net::route route;
  external_spec spec; // its servers: those of the route's family only
  stack_ptr stack;    // never null: spec.stack or os_stack()
  std::vector<caf::response_promise> waiting;
  bool started = false;
  stun_client_actor client;
  net::route out; // route with the agreed addresses so far
  std::string why; // what went wrong, per NIC address
  // the NIC address being asked from
  size_t nic = 0;
  std::optional<pipe_info> sock;
  std::vector<std::optional<detail::binding_result>> answers; // per server
  size_t pending = 0;

  ~external_prober_state() {
    if (client)
      caf::anon_send_exit(client, caf::exit_reason::user_shutdown);
  }
};

using external_prober_ptr = caf::stateful_actor<external_prober_state>*;

void answer_external(external_prober_ptr self, caf::expected<net::route> r) {
  auto& st = self->state;
  for (auto& rp : st.waiting)
    if (r)
      rp.deliver(*r);
    else
      rp.deliver(r.error());
  st.waiting.clear();
  self->quit();
}

void ask_from_next_nic(external_prober_ptr self);

// Every server has answered (or not) the current NIC address: the address
// they agree on, if any, then on to the next NIC address.
void tally_nic(external_prober_ptr self) {
  auto& st = self->state;
  const auto& nic = st.route.nic_ips[st.nic];
  detail::close_probe_pipe(*st.sock);
  st.sock.reset();
  // In the servers' order, as the blocking probe received them.
  std::vector<net::ip_address> answers;
  std::string failures;
  for (size_t i = 0; i < st.answers.size(); ++i) {
    auto& a = *st.answers[i];
    if (a)
      answers.push_back(a->mapped.ip);
    else
      failures += "; " + st.spec.servers[i].to_string() + ": " + render(a.error());
  }
  // An address no host can have (0.0.0.0, ::, multicast) is no answer: it
  // must not count toward the agreement.
  answers.erase(std::remove_if(answers.begin(), answers.end(),
                               [&](const net::ip_address& ip) {
                                 if (auto err = net::check_external(st.route.fam, ip)) {
                                   failures += "; refused: " + err.what;
                                   return true;
                                 }
                                 return false;
                               }),
                answers.end());
  if (auto agreed = net::agreed_address(answers, st.spec.min_agree))
    st.out.add_ext(*agreed);
  else
    st.why += "; from " + nic.to_string() + " " + std::to_string(answers.size()) + " of "
              + std::to_string(st.spec.servers.size()) + " servers answered and fewer than "
              + std::to_string(st.spec.min_agree) + " agreed" + failures;
  ++st.nic;
  ask_from_next_nic(self);
}

void ask_all_servers(external_prober_ptr self) {
  auto& st = self->state;
  st.answers.assign(st.spec.servers.size(), std::nullopt);
  st.pending = st.spec.servers.size();
  if (st.pending == 0) { // min_agree 0 with no server: nothing to wait for
    tally_nic(self);
    return;
  }
  for (size_t i = 0; i < st.spec.servers.size(); ++i)
    detail::ask_then(self, st.client, st.spec.timing, net::protocol::udp,
                     stun_query{st.sock->pipe, st.spec.servers[i], {}, false},
                     [self, i](detail::binding_result b) {
                       auto& s = self->state;
                       s.answers[i] = std::move(b);
                       if (--s.pending == 0)
                         tally_nic(self);
                     });
}

void ask_from_next_nic(external_prober_ptr self) {
  auto& st = self->state;
  if (st.nic >= st.route.nic_ips.size()) {
    if (st.out.ext_ips.empty()) {
      answer_external(self, make_error(errc::recv_timeout,
                                       std::string{"no external address for the "}
                                         + net::to_string(st.route.fam) + " route on '"
                                         + st.route.interface + "'" + st.why));
      return;
    }
    answer_external(self, std::move(st.out));
    return;
  }
  auto nic = st.route.nic_ips[st.nic];
  detail::open_then(self, *st.stack, server_spec(udp, endpoint{nic.network(), 0}),
                    [self, nic](caf::expected<pipe_info> p) {
                      auto& s = self->state;
                      if (!p) {
                        s.why += "; " + nic.to_string() + ": " + render(p.error());
                        ++s.nic;
                        ask_from_next_nic(self);
                        return;
                      }
                      s.sock = std::move(*p);
                      ask_all_servers(self);
                    });
}

// The servers of the route's family, or why they cannot decide.
caf::error keep_route_family(external_spec& spec, net::family fam) {
  std::vector<endpoint> servers;
  for (auto& s : spec.servers)
    if (s.fam() == fam)
      servers.push_back(s);
  if (servers.size() < spec.min_agree)
    return make_error(errc::invalid_argument,
                      std::to_string(servers.size()) + " " + net::to_string(fam)
                        + " STUN servers cannot make " + std::to_string(spec.min_agree)
                        + " agree");
  spec.servers = std::move(servers);
  return {};
}

caf::behavior external_prober_fn(external_prober_ptr self, net::route route, external_spec spec) {
  auto& st = self->state;
  st.route = std::move(route);
  st.stack = spec.stack ? spec.stack : os_stack();
  st.spec = std::move(spec);
  return {
    [self](external_probe_atom) -> caf::response_promise {
      auto& s = self->state;
      auto rp = self->make_response_promise();
      s.waiting.push_back(rp);
      if (s.started)
        return rp;
      s.started = true;
      if (auto err = keep_route_family(s.spec, s.route.fam)) {
        answer_external(self, std::move(err));
        return rp;
      }
      s.out = s.route;
      s.out.ext_ips.clear();
      s.client = spawn_stun_client(self->home_system(), s.spec.timing);
      ask_from_next_nic(self);
      return rp;
    },
  };
}

} // namespace

caf::actor spawn_external_prober(caf::actor_system& sys, net::route route, external_spec spec) {
  return sys.spawn(external_prober_fn, std::move(route), std::move(spec));
}

caf::timespan external_probe_deadline(const net::route& route, const external_spec& spec) {
  auto per_nic = open_timeout(server_spec(udp, endpoint{}))
                 + stun_deadline(spec.timing, net::protocol::udp);
  return static_cast<caf::timespan::rep>(route.nic_ips.size()) * per_nic
         + timeouts::stun_margin;
}

} // namespace p2pd
