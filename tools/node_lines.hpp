#pragma once

// What p2p_node and the p2pd program print about a node and a connect, one
// "word key=value ..." line per fact (scripts read them), and the small text
// helpers both need. Shared so that both print the same lines.

#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "p2pd/node.hpp"
#include "p2pd/p2pd.hpp"

namespace p2pd::tools {

using steady = std::chrono::steady_clock;

inline int64_t ms_since(steady::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - t0).count();
}

/// The non-empty pieces of `text` between `sep`s.
inline std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  size_t from = 0;
  while (from <= text.size()) {
    auto to = text.find(sep, from);
    if (to == std::string::npos)
      to = text.size();
    if (to > from)
      out.push_back(text.substr(from, to - from));
    from = to + 1;
  }
  return out;
}

/// `s` without leading and trailing blanks and line ends.
inline std::string trim(std::string s) {
  auto ws = " \t\r\n";
  auto b = s.find_first_not_of(ws);
  if (b == std::string::npos)
    return {};
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

inline std::string opt_ip(const std::optional<net::ip_address>& ip) {
  return ip ? ip->to_string() : "none";
}

inline const char* family_name(net::family f) {
  return f == net::family::v4 ? "v4" : "v6";
}

/// How a punch went ("simultaneous", "spray"): its verdict opens one of the
/// report's lines. Empty for other strategies.
inline std::string punch_kind_of(const connect_report& r) {
  if (r.how != node::strategy::punch)
    return {};
  for (auto& a : r.attempts)
    for (std::string kind : {"simultaneous", "spray"})
      if (a.outcome.rfind(kind + ":", 0) == 0)
        return kind;
  return {};
}

/// What a started node learnt, without its address line:
///   ready id=<node id> port=41234 start_ms=612
///   listener local=...
///   route if=0 fam=v4 nic=10.0.3.2/24 link_local=none ext=198.51.100.13 port=41234 nat=full_cone delta=equal/0
///   channel mqtt tcp://203.0.113.30:1883
/// An own address that does not parse is said on `err`.
inline void print_node_facts(std::ostream& out, std::ostream& err, const std::string& program,
                             const node_info& info, int64_t start_ms) {
  out << "ready id=" << info.id << " port=" << info.port << " start_ms=" << start_ms << '\n';
  for (auto& l : info.listeners)
    out << "listener local=" << to_string(l.local) << '\n';
  if (auto a = node::parse_peer_address(info.address)) {
    for (auto& r : a->routes)
      out << "route if=" << int{r.interface} << " fam=" << family_name(r.fam)
          << " nic=" << opt_ip(r.nic) << '/' << int{r.prefix}
          << " link_local=" << opt_ip(r.link_local) << " ext=" << opt_ip(r.external)
          << " port=" << r.port << " nat=" << net::to_string(r.nat)
          << " delta=" << net::to_string(r.delta.type) << '/' << r.delta.value << '\n';
    for (auto& c : a->channels)
      out << "channel " << node::to_string(c.kind) << ' ' << c.name << '\n';
  } else {
    err << program << ": our own address does not parse: " << a.error().what << '\n';
  }
}

/// A connect's report: the "connected ..." line, then one "attempt ..."
/// line per attempt.
inline void print_connected(std::ostream& out, const node_connection& conn) {
  auto& r = conn.report;
  out << "connected strategy=" << node::to_string(r.how) << " path=" << node::to_string(r.path)
      << " family=" << family_name(r.fam) << " local=" << to_string(r.local)
      << " remote=" << to_string(r.remote) << " ms=" << r.ms << " attempts=" << r.attempts.size()
      << " shared=" << r.shared << " peer=" << conn.peer
      << " transport=" << (r.kind == node::transport::stream ? "tcp" : "udp");
  if (auto kind = punch_kind_of(r); !kind.empty())
    out << " punch=" << kind;
  out << '\n';
  for (auto& a : r.attempts)
    out << "attempt ms=" << a.ms << " | " << a.attempt << " | " << a.outcome << '\n';
}

/// A server file's entries into a node's spec: STUN and NAT servers for the
/// interface actors (resolved by them), NTP servers for the punch clock,
/// MQTT brokers for signalling, TURN servers for the relay strategy, name
/// servers for the node's names and connects by name. What
/// cannot be a relay is said on `warn`, prefixed with `program`.
inline void apply_server_list(node_spec& spec, const std::vector<net::server_entry>& list,
                              std::ostream& warn, const std::string& program) {
  add_servers(spec.iface, list);
  add_name_servers(spec, list);
  ntp_clock_spec clock;
  add_ntp_servers(clock, list);
  if (!clock.servers.empty())
    spec.clock = clock; // punches meet on NTP time
  for (auto& e : list)
    if (e.kind == net::server_kind::mqtt)
      spec.brokers.push_back(e.host);
  std::vector<std::string> skipped;
  spec.turn = turn_servers_of(list, &skipped);
  for (auto& why : skipped)
    warn << program << ": not a relay: " << why << '\n';
}

} // namespace p2pd::tools
