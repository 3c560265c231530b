#include "p2pd/rest/detail/rest_json.hpp"

namespace p2pd::rest {

std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

json to_json(const connect_report& r) {
  json attempts = json::array();
  for (const auto& a : r.attempts)
    attempts.push_back({{"attempt", a.attempt}, {"outcome", a.outcome}, {"ms", a.ms}});
  return {{"peer", r.peer},
          {"strategy", node::to_string(r.how)},
          {"path", node::to_string(r.path)},
          {"family", net::to_string(r.fam)},
          {"transport", node::to_string(r.kind)},
          {"local", r.local.to_string()},
          {"remote", r.remote.to_string()},
          {"ms", r.ms},
          {"shared", r.shared},
          {"attempts", std::move(attempts)},
          {"summary", r.to_string()}};
}

json to_json(const node_stats& s) {
  return {{"connects", s.connects},
          {"connects_failed", s.connects_failed},
          {"inbound", s.inbound},
          {"refused_auth", s.refused_auth},
          {"refused_hello", s.refused_hello},
          {"refused_reverse", s.refused_reverse},
          {"refused_requests", s.refused_requests},
          {"refused_addresses", s.refused_addresses},
          {"messages_in", s.messages_in},
          {"messages_out", s.messages_out},
          {"idle_closed", s.idle_closed},
          {"child_restarts", s.child_restarts},
          {"punches", s.punches},
          {"punches_failed", s.punches_failed},
          {"refused_punch", s.refused_punch},
          {"connections", s.connections}};
}

json to_json(const rest_stats& s) {
  return {{"connections", s.connections},
          {"connections_refused", s.connections_refused},
          {"requests", s.requests},
          {"malformed", s.malformed},
          {"timed_out", s.timed_out},
          {"unauthorized", s.unauthorized},
          {"forbidden", s.forbidden},
          {"messages_dropped", s.messages_dropped},
          {"messages_unclaimed", s.messages_unclaimed},
          {"open_connections", s.open_connections}};
}

namespace {

json ip_or_null(const std::optional<net::ip_address>& ip) {
  return ip ? json(ip->to_string()) : json(nullptr);
}

// The name of interface number `i`: the i-th "interface NAME" child.
std::string interface_name(const std::vector<node_child>& children, size_t i) {
  const std::string prefix = "interface ";
  size_t n = 0;
  for (const auto& c : children)
    if (c.name.rfind(prefix, 0) == 0 && n++ == i)
      return c.name.substr(prefix.size());
  return {};
}

json delta_json(const net::delta_result& d) {
  return {{"type", net::to_string(d.type)}, {"value", d.value}};
}

} // namespace

json to_json(const node::peer_route& r) {
  json j = {{"family", net::to_string(r.fam)},
            {"nic", ip_or_null(r.nic)},
            {"prefix", r.prefix},
            {"link_local", ip_or_null(r.link_local)},
            {"external", ip_or_null(r.external)},
            {"port", r.port},
            {"nat", net::to_string(r.nat)},
            {"delta", delta_json(r.delta)}};
  if (r.mapped)
    j["mapped"] = {{"ip", r.mapped->to_string()}, {"tcp", r.mapped_tcp}, {"udp", r.mapped_udp}};
  return j;
}

json interfaces_json(const node::peer_address& a, const std::vector<node_child>& children) {
  json out = json::array();
  for (size_t i = 0; i < node::max_interfaces; ++i) {
    json routes = json::array();
    for (const auto& r : a.routes)
      if (r.interface == i)
        routes.push_back(to_json(r));
    if (routes.empty())
      continue;
    out.push_back({{"index", i}, {"name", interface_name(children, i)}, {"routes", routes}});
  }
  return out;
}

json nat_json(const node::peer_address& a, const std::vector<node_child>& children) {
  json out = json::array();
  for (const auto& r : a.routes)
    out.push_back({{"interface", r.interface},
                   {"name", interface_name(children, r.interface)},
                   {"family", net::to_string(r.fam)},
                   {"nat", net::to_string(r.nat)},
                   {"delta", delta_json(r.delta)},
                   {"external", ip_or_null(r.external)}});
  return out;
}

} // namespace p2pd::rest
