#include "p2pd/sim/world/node_scenario.hpp"

#include <algorithm>
#include <iomanip>
#include <sstream>

#include "caf/event_based_actor.hpp"

namespace p2pd::sim {

caf::actor spawn_node_watcher(caf::actor_system& sys, std::shared_ptr<node_events> out) {
  return sys.spawn(
    [](caf::event_based_actor* self, std::shared_ptr<node_events> into) -> caf::behavior {
      self->set_default_handler(caf::drop);
      return {
        [into](const node_msg& m) {
          into->msgs.emplace_back(m.peer, std::string(m.data.begin(), m.data.end()));
        },
        [into](const node_peer_up& u) { into->ups.push_back(u.conn); },
        [into](const node_progress& p) { into->progress.push_back(p.what); },
        [into, self](const node_refused& r) {
          into->refused.push_back(r.what + " " + r.peer + ": " + self->system().render(r.reason));
        },
        [](const node_peer_end&) {},
      };
    },
    std::move(out));
}

node_scenario::node_scenario(scenario_config cfg) : scenario(cfg) {
  // The STUN server's host: two addresses, so that it answers RFC 5780's
  // change requests and NATs can be classified.
  auto h = add_public_host({net::ip_address::v4(0x0B00C801u), net::ip_address::v4(0x0B00C802u)});
  auto up = add_stun_server(h);
  // The TURN server's host: the relay every node's spec names.
  auto relay = add_turn_server(add_public_host({net::ip_address::v4(0x0B00C901u)}));
  run_until([&] { return up->done() && relay->done(); }, std::chrono::seconds(10));
  if (!up->ok())
    setup_why_ = "the STUN server did not open; ";
  if (!relay->ok())
    setup_why_ += "the TURN server did not open; ";
  why_ = setup_why_;
}

bool node_scenario::add_time_server() {
  auto h = add_public_host({net::ip_address::v4(0x0B00CA01u)});
  auto up = add_ntp_responder(h);
  run_until([&] { return up->done(); }, std::chrono::seconds(10));
  if (up->ok())
    return true;
  setup_why_ += "the NTP responder did not open: "
                + (up->done() ? system().render(up->value->error()) : std::string{"no answer"})
                + "; ";
  why_ = setup_why_;
  return false;
}

size_t node_scenario::add_node(host_id h, std::string label,
                               const std::function<void(node_spec&)>& tweak) {
  sim_node n;
  n.host = h;
  n.label = std::move(label);
  n.events = std::make_shared<node_events>();
  auto spec = node_spec_for(h);
  auto watcher = spawn_node_watcher(system(), n.events);
  keep(watcher);
  spec.subscribers.push_back(watcher);
  if (tweak)
    tweak(spec);
  auto hdl = scenario::add_node(std::move(spec));
  if (!hdl)
    n.events->progress.push_back("spawn failed: " + system().render(hdl.error()));
  else
    n.hdl = *hdl;
  nodes_.push_back(std::move(n));
  return nodes_.size() - 1;
}

size_t node_scenario::add_nat_node(net::nat_type nat, net::delta_type delta, std::string label) {
  auto prof = nat_profile::p2pd(nat, delta);
  if (!prof)
    throw std::invalid_argument("add_nat_node: " + net::to_string(prof.error()));
  if (label.empty())
    label = std::string{net::to_string(nat)} + "/" + net::to_string(delta);
  return add_site_node(*prof, std::move(label));
}

size_t node_scenario::add_site_node(const nat_profile& nat, std::string label) {
  return add_node(add_host(add_site(nat)), std::move(label));
}

size_t node_scenario::add_public_node(std::string label) {
  return add_node(add_public_host(), std::move(label));
}

bool node_scenario::wait_ready(caf::timespan horizon) {
  std::vector<answer_ptr<node_info>> rs;
  for (auto& n : nodes_)
    rs.push_back(n.hdl ? ask<node_info>(n.hdl, horizon, ready_atom::value) : nullptr);
  auto all = [&] {
    return std::all_of(rs.begin(), rs.end(), [](auto& r) { return !r || r->done(); });
  };
  auto r = run_until(all, horizon);
  // A server that did not open fails every wait: nodes would wait on it.
  why_ = setup_why_;
  for (size_t i = 0; i < rs.size(); ++i) {
    auto& n = nodes_[i];
    if (!rs[i]) {
      why_ += n.label + ": not spawned; ";
      continue;
    }
    if (!rs[i]->done()) {
      why_ += n.label + ": not ready within the horizon (" + r.why + "); ";
      continue;
    }
    if (!*rs[i]->value) {
      why_ += n.label + ": " + system().render(rs[i]->value->error()) + "; ";
      continue;
    }
    n.info = **rs[i]->value;
  }
  return why_.empty();
}

void node_scenario::connect(size_t a, size_t b, node::connect_options opts) {
  queued_.push_back({a, b, std::move(opts)});
}

void node_scenario::connect(size_t a, size_t b, node::strategy s, node::transport kind) {
  node::connect_options o;
  o.strategies = {s};
  o.kind = kind;
  connect(a, b, std::move(o));
}

connect_outcome node_scenario::run_case(const connect_case& c, caf::timespan per_case,
                                        caf::timespan settle) {
  connect_outcome out;
  auto& a = nodes_.at(c.a);
  auto& b = nodes_.at(c.b);
  out.from = a.label;
  out.to = b.label;
  out.kind = c.opts.kind;
  for (auto s : c.opts.strategies)
    out.tried += (out.tried.empty() ? "" : "+") + std::string{node::to_string(s)};
  if (!a.info || !b.info) {
    out.error = "a node is not ready";
    return out;
  }
  auto t0 = now();
  auto got = ask<node_connection>(a.hdl, per_case, connect_atom::value, b.info->address, c.opts);
  auto r = run_until([&] { return got->done(); }, per_case + std::chrono::seconds(1));
  out.ms = std::chrono::duration_cast<std::chrono::milliseconds>(now() - t0).count();
  if (!got->done()) {
    out.error = "no answer (" + r.why + ")";
  } else if (!*got->value) {
    out.error = system().render(got->value->error());
  } else {
    auto& conn = **got->value;
    out.report = conn.report;
    out.how = conn.report.shared ? "none" : node::to_string(conn.report.how);
    if (conn.report.shared)
      out.error = "shared an earlier connection";
  }
  // Fresh ground for the next case: both sides drop what this one made,
  // and the closes cross the network.
  auto ca = ask<caf::ok_atom>(a.hdl, std::chrono::seconds(10), caf::close_atom::value, b.info->id);
  auto cb = ask<caf::ok_atom>(b.hdl, std::chrono::seconds(10), caf::close_atom::value, a.info->id);
  run_until([&] { return ca->done() && cb->done(); }, std::chrono::seconds(11));
  run_for(settle);
  return out;
}

std::vector<connect_outcome> node_scenario::run_connects(caf::timespan per_case,
                                                        caf::timespan settle) {
  std::vector<connect_outcome> out;
  for (auto& c : queued_)
    out.push_back(run_case(c, per_case, settle));
  queued_.clear();
  outcomes_.insert(outcomes_.end(), out.begin(), out.end());
  return out;
}

std::string node_scenario::table(const std::vector<connect_outcome>& rows) {
  std::ostringstream os;
  auto col = [&](const std::string& s, int w) { os << std::left << std::setw(w) << s << ' '; };
  col("from", 24);
  col("to", 24);
  col("kind", 8);
  col("allowed", 16);
  col("connected", 9);
  os << "virtual ms\n";
  for (auto& r : rows) {
    col(r.from, 24);
    col(r.to, 24);
    col(node::to_string(r.kind), 8);
    col(r.tried, 16);
    col(r.how, 9);
    os << r.ms;
    if (!r.error.empty())
      os << "  (" << r.error << ")";
    os << '\n';
  }
  return os.str();
}

} // namespace p2pd::sim
