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

caf::expected<stun_server> start_stun_server(runtime& rt, stun_server_spec spec) {
  const auto& a = spec.addrs;
  caf::error last;
  // Free ports come from the primary IP and must be free on the alternate
  // one too: a few tries make that likely.
  for (int attempt = 0; attempt < 8; ++attempt) {
    auto plan = plan_stun_server(rt.system(), spec);
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
