#include "p2pd/net/resolver.hpp"

#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <memory>

namespace p2pd::net {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (!s.empty() && s.back() == '.')
    s.pop_back(); // "localhost." is "localhost"
  return s;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size()
         && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool is_localhost(const std::string& name) {
  return name == "localhost" || ends_with(name, ".localhost");
}

bool is_invalid(const std::string& name) {
  return name == "invalid" || ends_with(name, ".invalid");
}

} // namespace

bool resolves_locally(const std::string& host) {
  if (ip_address::parse(host))
    return true;
  auto name = lower(host);
  return is_localhost(name) || is_invalid(name);
}

result<std::vector<ip_address>> resolve_host(const std::string& host,
                                             std::optional<family> fam) {
  std::vector<ip_address> out;
  auto wanted = [&](family f) { return !fam || *fam == f; };
  if (auto ip = ip_address::parse(host)) {
    if (!wanted(ip->fam()))
      return error{errc::family_unsupported,
                   host + " is an " + to_string(ip->fam()) + " address, not "
                     + to_string(*fam)};
    out.push_back(*ip);
    return out;
  }
  auto name = lower(host);
  if (name.empty())
    return error{errc::invalid_argument, "empty host name"};
  if (is_invalid(name))
    return error{errc::resolve_failed,
                 "'" + host + "' does not resolve: .invalid names never do (RFC 6761)"};
  if (is_localhost(name)) {
    for (auto f : {family::v4, family::v6})
      if (wanted(f))
        out.push_back(ip_address::loopback(f));
    return out;
  }
  addrinfo hints{};
  hints.ai_family = !fam ? AF_UNSPEC : to_af(*fam);
  hints.ai_socktype = SOCK_STREAM; // one entry per address
  addrinfo* res = nullptr;
  int rc = ::getaddrinfo(name.c_str(), nullptr, &hints, &res);
  if (rc != 0)
    return error{errc::resolve_failed,
                 "'" + host + "' does not resolve: " + gai_strerror(rc)};
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> guard{res, ::freeaddrinfo};
  for (auto* ai = res; ai != nullptr; ai = ai->ai_next) {
    auto ep = endpoint::from_sockaddr(ai->ai_addr, ai->ai_addrlen);
    if (ep && std::find(out.begin(), out.end(), ep->ip) == out.end())
      out.push_back(ep->ip);
  }
  std::stable_sort(out.begin(), out.end(), [](const ip_address& x, const ip_address& y) {
    return x.is_v4() && !y.is_v4();
  });
  if (out.empty())
    return error{errc::resolve_failed, "'" + host + "' has no address of the wanted family"};
  return out;
}

} // namespace p2pd::net
