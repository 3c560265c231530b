#include "p2pd/actors/stun/external_address.hpp"

#include <algorithm>

#include "caf/scoped_actor.hpp"

#include "p2pd/actors/stack/open_pipe_on.hpp"
#include "p2pd/messages/errors.hpp"
#include "p2pd/net/nat/consensus.hpp"

namespace p2pd {

namespace {

// Asks every server about the socket of `pipe`, all at once; the mapped
// addresses that came back, and a tally of what did not.
std::vector<net::ip_address> ask_all(caf::scoped_actor& self, const stun_client_actor& client,
                                     const pipe_actor& pipe, const external_spec& spec,
                                     std::string& failures) {
  std::vector<decltype(self->request(client, caf::timespan{}, stun_atom::value, stun_query{}))>
    pending;
  for (auto& s : spec.servers)
    pending.push_back(self->request(client, stun_deadline(spec.timing, net::protocol::udp),
                                    stun_atom::value, stun_query{pipe, s, {}, false}));
  std::vector<net::ip_address> out;
  for (size_t i = 0; i < pending.size(); ++i)
    pending[i].receive([&](stun_binding& b) { out.push_back(b.mapped.ip); },
                       [&](caf::error& err) {
                         failures += "; " + spec.servers[i].to_string() + ": " + render(err);
                       });
  return out;
}

} // namespace

caf::expected<net::route> discover_external(caf::actor_system& sys, const net::route& r,
                                            const external_spec& spec) {
  std::vector<endpoint> servers;
  for (auto& s : spec.servers)
    if (s.fam() == r.fam)
      servers.push_back(s);
  if (servers.size() < spec.min_agree)
    return make_error(errc::invalid_argument,
                      std::to_string(servers.size()) + " " + net::to_string(r.fam)
                        + " STUN servers cannot make " + std::to_string(spec.min_agree)
                        + " agree");
  auto only_family = spec;
  only_family.servers = servers;
  caf::scoped_actor self{sys};
  auto client = spawn_stun_client(sys, spec.timing);
  auto out = r;
  out.ext_ips.clear();
  std::string why;
  for (auto& nic : r.nic_ips) {
    auto p = open_pipe_on(self, stack_or_os(spec.stack),
                          server_spec(udp, endpoint{nic.network(), 0}));
    if (!p) {
      why += "; " + nic.to_string() + ": " + render(p.error());
      continue;
    }
    std::string failures;
    auto answers = ask_all(self, client, p->pipe, only_family, failures);
    caf::anon_send(p->pipe, caf::close_atom::value);
    // An address no host can have (0.0.0.0, ::, multicast) is no answer:
    // it must not count toward the agreement.
    answers.erase(std::remove_if(answers.begin(), answers.end(),
                                 [&](const net::ip_address& ip) {
                                   if (auto err = net::check_external(r.fam, ip)) {
                                     failures += "; refused: " + err.what;
                                     return true;
                                   }
                                   return false;
                                 }),
                  answers.end());
    if (auto agreed = net::agreed_address(answers, spec.min_agree))
      out.add_ext(*agreed);
    else
      why += "; from " + nic.to_string() + " " + std::to_string(answers.size()) + " of "
             + std::to_string(servers.size()) + " servers answered and fewer than "
             + std::to_string(spec.min_agree) + " agreed" + failures;
  }
  self->send_exit(client, caf::exit_reason::user_shutdown);
  if (out.ext_ips.empty())
    return make_error(errc::recv_timeout, std::string{"no external address for the "} + net::to_string(r.fam)
                                            + " route on '" + r.interface + "'" + why);
  return out;
}

} // namespace p2pd
