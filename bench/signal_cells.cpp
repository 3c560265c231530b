#include "signal_cells.hpp"

#include <algorithm>
#include <chrono>
#include <vector>

#include "caf/all.hpp"

#include "p2pd/messages/errors.hpp"

#include "cell_loop.hpp"

namespace p2pd::bench {

namespace {

using namespace std::chrono_literals;

caf::behavior forwarder(caf::event_based_actor* self, caf::actor next) {
  return {[self, next](bytes& b) { self->send(next, std::move(b)); }};
}

} // namespace

void summarize_latency(std::vector<double> us, signal_cell& cell) {
  if (us.empty())
    return;
  std::sort(us.begin(), us.end());
  cell.median_us = us[us.size() / 2];
  cell.p99_us = us[std::min(us.size() - 1, us.size() * 99 / 100)];
}

signal_cell measure_nodes(caf::actor_system& sys, const signal_node_actor& a,
                          const signal_node_actor& b, const signal_sizes& sz) {
  caf::scoped_actor self{sys};
  signal_cell out;
  net::public_keys to;
  self->request(b, 5s, info_atom::value)
    .receive([&](signal_node_info& i) { to = i.keys; },
             [&](caf::error& err) { out.problem = "info: " + render(err); });
  self->request(b, 5s, caf::subscribe_atom::value, caf::actor_cast<caf::actor>(self.ptr()))
    .receive([](caf::ok_atom) {},
             [&](caf::error& err) { out.problem = "subscribe: " + render(err); });
  if (!out.ok())
    return out;
  bytes payload(sz.payload, 'x');
  // Anonymous: the send's answer (the message id) is not waited for; what
  // counts is the arrival. A failed send shows as a message that never comes.
  auto send = [&] { caf::anon_send(a, send_atom::value, to, uint32_t{1}, payload); };
  auto await = [&] {
    bool ok = false;
    self->receive([&](signal_message&) { ok = true; }, caf::after(5s) >> [] {});
    return ok;
  };
  out = run_cell(sz, send, await);
  self->request(b, 5s, caf::unsubscribe_atom::value, caf::actor_cast<caf::actor>(self.ptr()))
    .receive([](caf::ok_atom) {}, [](caf::error&) {});
  return out;
}

signal_cell measure_caf_pair(caf::actor_system& sys, const signal_sizes& sz) {
  caf::scoped_actor self{sys};
  auto second = sys.spawn(forwarder, caf::actor_cast<caf::actor>(self.ptr()));
  auto first = sys.spawn(forwarder, second);
  bytes payload(sz.payload, 'x');
  auto send = [&] { caf::anon_send(first, payload); };
  auto await = [&] {
    bool ok = false;
    self->receive([&](bytes&) { ok = true; }, caf::after(5s) >> [] {});
    return ok;
  };
  auto out = run_cell(sz, send, await);
  caf::anon_send_exit(first, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(second, caf::exit_reason::user_shutdown);
  return out;
}

} // namespace p2pd::bench
