#include "p2pd/net/server_list.hpp"

#include <fstream>
#include <sstream>

#include "p2pd/net/resolver.hpp"

namespace p2pd::net {

namespace {

result<server_kind> kind_of(std::string_view word) {
  for (auto k : {server_kind::stun, server_kind::nat, server_kind::mqtt, server_kind::turn,
                 server_kind::ntp})
    if (word == to_string(k))
      return k;
  return error{errc::invalid_argument, "unknown server kind '" + std::string{word}
                                         + "' (one of stun, nat, mqtt, turn, ntp)"};
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
    if (words >> extra)
      return error{errc::invalid_argument, at + "unexpected '" + extra + "' after the address"};
    auto k = kind_of(kind);
    if (!k)
      return error{k.error().code, at + k.error().what};
    server_entry e;
    e.kind = *k;
    e.line = no;
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

std::vector<endpoint> resolve_servers(const std::vector<server_entry>& entries,
                                      server_kind kind, std::vector<std::string>* skipped) {
  std::vector<endpoint> out;
  for (const auto& e : entries) {
    if (e.kind != kind)
      continue;
    auto ips = resolve_host(e.host);
    if (!ips) {
      if (skipped)
        skipped->push_back(e.host + ": " + ips.error().what);
      continue;
    }
    for (const auto& ip : *ips)
      out.push_back(endpoint{ip, e.port});
  }
  return out;
}

} // namespace p2pd::net
