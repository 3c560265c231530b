#include "p2pd/api/blocking.hpp"

#include <utility>
#include <vector>

#include "caf/scoped_actor.hpp"
#include "caf/send.hpp"

#include "p2pd/actors/common/timeouts.hpp"
#include "p2pd/actors/interface/detail/interface_tasks.hpp"
#include "p2pd/messages/errors.hpp"

namespace p2pd {

caf::expected<nat_report> probe_nat(runtime& rt, const nat_probe_spec& spec) {
  return probe_nat(rt.system(), spec);
}

caf::expected<net::route> discover_external(runtime& rt, const net::route& r,
                                            const external_spec& spec) {
  return discover_external(rt.system(), r, spec);
}

namespace {

// The spec's addresses with its ports 0 replaced by free ones: a bare UDP
// pipe on port 0 of the primary IP each, through the spec's stack (no socket
// of our own), all held until every port is picked (so that they differ),
// then closed. The alternate IP takes the same ports, where they may be
// taken: the caller tries again.
caf::expected<net::stun_server_addrs> pick_free_ports(runtime& rt,
                                                      const stun_server_spec& spec) {
  const auto& stack = stack_or_os(spec.stack);
  auto out = spec.addrs;
  std::vector<pipe_handle> probes;
  auto pick = [&](uint16_t& port) -> caf::error {
    if (port != 0)
      return {};
    auto s = server_spec(udp, endpoint{out.primary_ip, 0});
    auto p = rt.open(stack.spawn_pipe(rt.system(), s), s);
    if (!p)
      return std::move(p.error());
    port = p->local().port;
    probes.push_back(std::move(*p));
    return {};
  };
  auto err = pick(out.primary_port);
  if (!err && out.alt_port)
    err = pick(*out.alt_port);
  for (auto& p : probes)
    p.close();
  if (err)
    return err;
  return out;
}

} // namespace

caf::expected<stun_server> start_stun_server(runtime& rt, stun_server_spec spec) {
  const auto& a = spec.addrs;
  caf::error last;
  // Free ports come from the primary IP and must be free on the alternate
  // one too: a few tries make that likely.
  for (int attempt = 0; attempt < 8; ++attempt) {
    auto addrs = pick_free_ports(rt, spec);
    if (!addrs)
      return std::move(addrs.error()); // the primary IP itself: no retry helps
    auto picked = spec;
    picked.addrs = *addrs;
    auto plan = plan_stun_server(rt.system(), picked);
    if (!plan)
      return std::move(plan.error());
    stun_server out;
    out.addrs = plan->addrs;
    std::vector<pipe_handle> opened;
    for (auto& [h, s] : plan->pipes) {
      auto p = rt.open(h, s);
      if (!p) {
        last = p.error();
        break;
      }
      out.pipes.push_back(p->info());
      opened.push_back(*p);
    }
    if (out.pipes.size() == plan->pipes.size())
      return out;
    for (auto& p : opened)
      p.close();
    for (auto& [h, s] : plan->pipes)
      caf::anon_send_exit(h, caf::exit_reason::user_shutdown); // those not opened
    if (a.primary_port != 0 && (!a.alt_port || *a.alt_port != 0))
      break; // fixed ports: trying again changes nothing
  }
  return last;
}

caf::expected<loaded_interface> load_interface(caf::actor_system& sys, interface_spec spec) {
  // Checked here too, so that the caller gets the reason, not a dead actor.
  if (auto err = spec.check())
    return err;
  if (auto nic = actors::find_nic(stack_or_os(spec.stack), spec.name); !nic)
    return std::move(nic.error());
  caf::scoped_actor self{sys};
  auto hdl = spawn_interface(sys, std::move(spec));
  caf::expected<loaded_interface> out{caf::make_error(caf::sec::request_timeout)};
  // The actor answers when its first refresh ends, or quits with why.
  self->request(hdl, timeouts::until_answered, ready_atom::value)
    .receive([&](interface_snapshot& s) { out = loaded_interface{hdl, std::move(s)}; },
             [&](caf::error& err) { out = std::move(err); });
  return out;
}

caf::expected<signal_node_actor> start_signal_node(caf::actor_system& sys,
                                                   signal_node_spec spec) {
  auto node = spawn_signal_node(sys, std::move(spec));
  if (!node)
    return node;
  caf::scoped_actor self{sys};
  caf::error err;
  // The node answers once its channels answered the subscription.
  self->request(*node, timeouts::until_answered, online_atom::value, uint32_t{1})
    .receive([](caf::ok_atom) {}, [&](caf::error& e) { err = std::move(e); });
  if (err) {
    caf::anon_send(*node, caf::close_atom::value);
    return err;
  }
  return node;
}

caf::expected<clock_offset> measure_clock(caf::actor_system& sys, ntp_clock_spec spec) {
  spec.refresh_interval = caf::timespan{0}; // one measurement, no ticker
  auto wait = spec.measurement_time() + timeouts::call_margin;
  auto clock = spawn_ntp_clock(sys, std::move(spec));
  if (!clock)
    return std::move(clock.error());
  caf::scoped_actor self{sys};
  caf::expected<clock_offset> out{make_error(errc::recv_timeout, "the NTP clock did not answer")};
  self->request(*clock, wait, caf::get_atom::value)
    .receive([&](clock_offset& x) { out = std::move(x); },
             [&](caf::error& err) { out = std::move(err); });
  caf::anon_send_exit(*clock, caf::exit_reason::user_shutdown);
  return out;
}

} // namespace p2pd
