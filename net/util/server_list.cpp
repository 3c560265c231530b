#include "p2pd/net/util/server_list.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "p2pd/net/addr/resolver.hpp"

namespace p2pd::net {

namespace {

result<server_kind> kind_of(std::string_view word) {
  for (auto k : {server_kind::stun, server_kind::nat, server_kind::mqtt, server_kind::turn,
                 server_kind::ntp, server_kind::name})
    if (word == to_string(k))
      return k;
  return error{errc::invalid_argument, "unknown server kind '" + std::string{word}
                                         + "' (one of stun, nat, mqtt, turn, ntp, name)"};
}

// "host:port", "[v6]:port" or "v4:port" into host and port.
error split_host_port(std::string_view text, server_entry& out) {
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return {errc::invalid_argument, "'" + std::string{text} + "' is not [address]:port"};
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos)
      return {errc::invalid_argument, "'" + std::string{text} + "' has no port"};
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos)
      return {errc::invalid_argument,
              "'" + std::string{text} + "': write an IPv6 address in brackets, [addr]:port"};
  }
  unsigned long value = 0;
  bool digits = !port.empty() && port.size() <= 5;
  for (char c : port) {
    digits = digits && c >= '0' && c <= '9';
    value = value * 10 + static_cast<unsigned long>(c - '0');
  }
  if (host.empty() || !digits || value == 0 || value > 65535)
    return {errc::invalid_argument, "'" + std::string{text} + "' has no valid host and port"};
  out.host = std::string{host};
  out.port = static_cast<uint16_t>(value);
  return {};
}

} // namespace

const char* to_string(server_kind x) {
  switch (x) {
    case server_kind::stun:
      return "stun";
    case server_kind::nat:
      return "nat";
    case server_kind::mqtt:
      return "mqtt";
    case server_kind::turn:
      return "turn";
    case server_kind::ntp:
      return "ntp";
    case server_kind::name:
      return "name";
  }
  return "?";
}

result<std::vector<server_entry>> parse_server_list(std::string_view text) {
  std::vector<server_entry> out;
  std::istringstream in{std::string{text}};
  std::string line;
  for (size_t no = 1; std::getline(in, line); ++no) {
    if (auto hash = line.find('#'); hash != std::string::npos)
      line.erase(hash);
    std::istringstream words{line};
    std::string kind;
    std::string addr;
    std::string extra;
    if (!(words >> kind))
      continue;
    auto at = "line " + std::to_string(no) + ": ";
    if (!(words >> addr))
      return error{errc::invalid_argument, at + "'" + kind + "' has no address"};
    auto k = kind_of(kind);
    if (!k)
      return error{k.error().code, at + k.error().what};
    server_entry e;
    e.kind = *k;
    e.line = no;
    if (e.kind == server_kind::turn && (words >> e.username)
        && !(words >> e.password))
      return error{errc::invalid_argument,
                   at + "a TURN server's credentials are a username and a password"};
    if (words >> extra)
      return error{errc::invalid_argument, at + "unexpected '" + extra + "' after the "
                                             + (e.username.empty() ? "address" : "password")};
    if (e.kind == server_kind::mqtt) {
      if (addr.find("://") == std::string::npos)
        return error{errc::invalid_argument,
                     at + "an MQTT broker is a URI, e.g. tcp://127.0.0.1:1883, not '" + addr + "'"};
      e.host = addr;
    } else if (auto err = split_host_port(addr, e)) {
      return error{err.code, at + err.what};
    }
    out.push_back(std::move(e));
  }
  return out;
}

result<std::vector<server_entry>> load_server_list(const std::string& path) {
  std::ifstream in{path};
  if (!in)
    return error{errc::invalid_argument, "cannot read the server list " + path};
  std::stringstream ss;
  ss << in.rdbuf();
  auto out = parse_server_list(ss.str());
  if (!out)
    return error{out.error().code, path + ": " + out.error().what};
  return out;
}

std::string unresolved_server::to_string() const {
  auto port = std::to_string(entry.port);
  auto addr = entry.host.find(':') != std::string::npos ? "[" + entry.host + "]:" + port
                                                          : entry.host + ":" + port;
  return "line " + std::to_string(entry.line) + ": " + net::to_string(entry.kind) + " " + addr
         + ": " + why.what;
}

std::vector<endpoint> resolved_servers::of(server_kind kind) const {
  std::vector<endpoint> out;
  for (const auto& [k, ep] : endpoints)
    if (k == kind)
      out.push_back(ep);
  return out;
}

size_t resolved_servers::unresolved_count(server_kind kind) const {
  size_t n = 0;
  for (const auto& u : unresolved)
    n += u.entry.kind == kind ? 1 : 0;
  return n;
}

std::vector<server_entry> servers_to_resolve(const std::vector<server_entry>& entries,
                                             const std::vector<server_kind>& kinds) {
  std::vector<server_entry> out;
  for (const auto& e : entries)
    if (e.kind != server_kind::mqtt
        && std::find(kinds.begin(), kinds.end(), e.kind) != kinds.end())
      out.push_back(e);
  return out;
}

resolved_servers collect_servers(const std::vector<server_entry>& picked,
                                 const std::vector<result<std::vector<ip_address>>>& ips,
                                 std::chrono::milliseconds took) {
  resolved_servers out;
  for (size_t i = 0; i < picked.size(); ++i) {
    if (i >= ips.size()) {
      out.unresolved.push_back({picked[i], error{errc::resolve_failed, "no answer given"}});
      continue;
    }
    if (!ips[i]) {
      out.unresolved.push_back({picked[i], ips[i].error()});
      continue;
    }
    for (const auto& ip : *ips[i])
      out.endpoints.emplace_back(picked[i].kind, endpoint{ip, picked[i].port});
  }
  out.took = took;
  return out;
}

resolved_servers resolve_servers(const std::vector<server_entry>& entries,
                                 std::chrono::milliseconds dns_timeout,
                                 const std::vector<server_kind>& kinds) {
  auto t0 = std::chrono::steady_clock::now();
  auto picked = servers_to_resolve(entries, kinds);
  std::vector<std::string> hosts;
  for (const auto& e : picked)
    hosts.push_back(e.host);
  auto ips = resolve_hosts(hosts, dns_timeout);
  return collect_servers(picked, ips, std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::steady_clock::now() - t0));
}

} // namespace p2pd::net
