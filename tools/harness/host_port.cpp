#include "host_port.hpp"

#include "args.hpp"

#include "p2pd/net/addr/address.hpp"

namespace p2pd::harness {

std::string host_port::to_string() const {
  auto bracket = host.find(':') != std::string::npos;
  return (bracket ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::optional<host_port> parse_host_port(const std::string& text, bool allow_zero,
                                         std::string& why) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    why = "'" + text + "' is not host:port";
    return std::nullopt;
  }
  host_port out;
  out.host = text.substr(0, colon);
  if (out.host.size() > 2 && out.host.front() == '[' && out.host.back() == ']')
    out.host = out.host.substr(1, out.host.size() - 2);
  auto ip = net::ip_address::parse(out.host);
  if (!ip) {
    why = "'" + out.host + "' is not an IP address";
    return std::nullopt;
  }
  if (ip->is_any()) {
    why = "'" + out.host + "' is a wildcard address: give the one address to listen on";
    return std::nullopt;
  }
  auto port = examples::parse_port(text.substr(colon + 1), allow_zero, &why);
  if (!port)
    return std::nullopt;
  out.port = *port;
  return out;
}

} // namespace p2pd::harness
