// Punches through the answerer's UDP port mapping (path mapped): the node
// maps its port at its gateway for UDP too (node_portmap.cpp) and signs the
// mapped endpoint into its address. A datagram connect to it runs the punch
// exchange as any punch (keys agreed over signalling), with these sides:
//
//   offerer:  one socket, any port; probes the mapped endpoint.
//   answerer: one socket on the node port, which the mapping points at; it
//             probes nobody first and answers the probes that come in
//             through the mapping, on the path each came by.
//
// The answerer stays quiet because a probe of its own from the node port to
// a guessed endpoint would leave its router a connection of the node port
// translated to another source port; answers to the offerer would then leave
// from there, and the offerer's NAT (a symmetric one above all) drops them.
// Neither side needs a prediction, so two symmetric NATs connect directly.
#include "p2pd/node/node_state.hpp"

#include "caf/send.hpp"

#include "p2pd/actors/common/timeouts.hpp"
#include "p2pd/messages/errors.hpp"

namespace p2pd::node {

const peer_route* mapped_udp_route(const node_state& st, net::family fam) {
  for (const auto& r : st.address.routes)
    if (r.fam == fam && r.nic && r.mapped && r.mapped_udp != 0)
      return &r;
  return nullptr;
}

net::punch_verdict mapped_verdict(const endpoint& at, net::nat_type ours) {
  net::punch_verdict v;
  if (ours == net::nat_type::blocked) {
    // Our probes would not leave: the attempt would only wait its window.
    v.kind = net::punch_kind::impossible;
    v.reason = "UDP is blocked on our side: the mapping " + at.to_string() + " is out of reach";
    return v;
  }
  v.kind = net::punch_kind::simultaneous;
  v.reason = "through the UDP port mapping " + at.to_string()
             + ": the node port it points at answers, no prediction needed";
  return v;
}

void prepare_mapped(node_actor_ptr self, std::shared_ptr<punch_session> s,
                    std::function<void()> then) {
  auto& st = self->state;
  s->ours.predictions.clear();
  s->ours.spray_probes = 0;
  if (s->initiator) {
    // Our NAT maps this socket toward the mapped endpoint, whatever it does.
    s->ours.local_ports = {0};
    for (const auto& r : st.address.routes)
      if (r.interface == s->route && r.fam == s->fam)
        s->ours.external_ip = r.external ? r.external : r.nic;
    return then();
  }
  const auto* mr = mapped_udp_route(st, s->fam);
  if (mr == nullptr || st.port == 0)
    return punch_done(self, s, std::nullopt,
                      make_error(errc::connect_failed, "the UDP port mapping is gone"));
  auto mapped = endpoint{*mr->mapped, mr->mapped_udp};
  st.mapped_udp_busy = true;
  // The node port must be free: a datagram link that came through the
  // mapping holds it (no reuse: neither socket would get all of its
  // datagrams). A bind tells; the punch binds it again at the meeting time.
  pipe_spec ps;
  ps.proto = net::protocol::udp;
  ps.local = endpoint{s->bind, st.port};
  ps.conf.reuse_addr = false;
  auto pipe = st.spec.stack->spawn_pipe(self->home_system(), std::move(ps));
  self->request(pipe, timeouts::listen, caf::open_atom::value)
    .then(
      [=](pipe_info&) {
        caf::anon_send(pipe, caf::close_atom::value);
        if (s->at == punch_session::step::done)
          return;
        s->ours.local_ports = {self->state.port};
        s->ours.predictions = {mapped};
        s->ours.external_ip = mapped.ip;
        then();
      },
      [=](caf::error& err) {
        if (s->at == punch_session::step::done)
          return;
        auto why = "the node port's UDP socket is taken (a datagram link through the "
                   "mapping holds it): "
                   + render(err);
        punch_message no;
        no.request_id = s->id;
        no.phase = punch_phase::refuse;
        no.reason = why.substr(0, max_punch_reason);
        send_punch(self, *s, no);
        punch_done(self, s, std::nullopt, make_error(errc::connect_failed, why));
      });
}

} // namespace p2pd::node
