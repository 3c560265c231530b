#include "p2pd/net/addr/address.hpp"

#include "p2pd/net/util/digits.hpp"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>

#include <cstring>
#include <tuple>

namespace p2pd::net {

namespace {

// The first bytes of ::ffff:0:0/96.
constexpr uint8_t v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

// Combines like boost::hash_combine.
size_t mix(size_t seed, size_t v) {
  return seed ^ (v + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2));
}

} // namespace

int to_af(family f) {
  return f == family::v4 ? AF_INET : AF_INET6;
}

const char* to_string(family f) {
  return f == family::v4 ? "IPv4" : "IPv6";
}

ip_address ip_address::v4(uint32_t host_order) {
  ip_address x;
  x.bytes_[0] = static_cast<uint8_t>(host_order >> 24);
  x.bytes_[1] = static_cast<uint8_t>(host_order >> 16);
  x.bytes_[2] = static_cast<uint8_t>(host_order >> 8);
  x.bytes_[3] = static_cast<uint8_t>(host_order);
  return x;
}

ip_address ip_address::v4_bytes(const uint8_t* bytes) {
  ip_address x;
  std::memcpy(x.bytes_.data(), bytes, 4);
  return x;
}

ip_address ip_address::v6(const bytes_type& bytes, uint32_t scope_id) {
  ip_address x;
  x.fam_ = family::v6;
  x.bytes_ = bytes;
  x.scope_ = scope_id;
  return x;
}

ip_address ip_address::any(family f) {
  return f == family::v4 ? ip_address{} : v6(bytes_type{});
}

ip_address ip_address::loopback(family f) {
  if (f == family::v4)
    return v4(0x7f000001);
  bytes_type b{};
  b[15] = 1;
  return v6(b);
}

result<ip_address> ip_address::parse(std::string_view text) {
  auto bad = [&](const char* why) {
    return error{errc::invalid_argument,
                 "'" + std::string{text} + "' is not an IP address: " + why};
  };
  if (text.empty())
    return bad("empty");
  // inet_pton and if_nametoindex stop at a NUL and would accept what is
  // before it ("1.2.3.4\0junk").
  if (text.find('\0') != std::string_view::npos)
    return bad("contains a NUL byte");
  std::string host{text};
  std::string scope;
  if (auto pct = host.find('%'); pct != std::string::npos) {
    scope = host.substr(pct + 1);
    host.resize(pct);
    if (scope.empty())
      return bad("empty scope after '%'");
  }
  if (host.find(':') == std::string::npos) {
    if (!scope.empty())
      return bad("IPv4 addresses have no scope");
    in_addr a4;
    if (inet_pton(AF_INET, host.c_str(), &a4) != 1)
      return bad("not a dotted quad");
    return v4_bytes(reinterpret_cast<const uint8_t*>(&a4));
  }
  in6_addr a6;
  if (inet_pton(AF_INET6, host.c_str(), &a6) != 1)
    return bad("not an IPv6 address");
  bytes_type b;
  std::memcpy(b.data(), &a6, 16);
  uint32_t scope_id = 0;
  if (!scope.empty()) {
    if (all_digits(scope)) {
      if (scope.size() > 10)
        return bad("scope id out of range");
      auto v = std::stoull(scope);
      if (v > UINT32_MAX)
        return bad("scope id out of range");
      scope_id = static_cast<uint32_t>(v);
    } else {
      scope_id = if_nametoindex(scope.c_str());
      if (scope_id == 0)
        return bad("no interface with that scope name on this host");
    }
  }
  return v6(b, scope_id);
}

uint32_t ip_address::v4_value() const {
  if (!is_v4())
    return 0;
  return (uint32_t{bytes_[0]} << 24) | (uint32_t{bytes_[1]} << 16)
         | (uint32_t{bytes_[2]} << 8) | uint32_t{bytes_[3]};
}

ip_address ip_address::with_scope(uint32_t scope) const {
  auto x = *this;
  if (x.is_v6())
    x.scope_ = scope;
  return x;
}

bool ip_address::is_any() const {
  return bytes_ == bytes_type{};
}

bool ip_address::is_loopback() const {
  if (is_v4())
    return bytes_[0] == 127;
  bytes_type one{};
  one[15] = 1;
  return bytes_ == one;
}

bool ip_address::is_v4_mapped() const {
  return is_v6() && std::memcmp(bytes_.data(), v4_mapped_prefix, 12) == 0;
}

ip_address ip_address::unmapped() const {
  return is_v4_mapped() ? v4_bytes(bytes_.data() + 12) : *this;
}

std::string ip_address::to_string() const {
  char buf[INET6_ADDRSTRLEN];
  if (inet_ntop(to_af(fam_), bytes_.data(), buf, sizeof(buf)) == nullptr)
    return "?";
  std::string out = buf;
  if (scope_ != 0) {
    out += '%';
    out += std::to_string(scope_);
  }
  return out;
}

bool operator<(const ip_address& x, const ip_address& y) {
  return std::tie(x.fam_, x.bytes_, x.scope_) < std::tie(y.fam_, y.bytes_, y.scope_);
}

size_t ip_address::hash() const noexcept {
  uint64_t hi;
  uint64_t lo;
  std::memcpy(&hi, bytes_.data(), 8);
  std::memcpy(&lo, bytes_.data() + 8, 8);
  size_t h = std::hash<uint64_t>{}(hi);
  h = mix(h, std::hash<uint64_t>{}(lo));
  h = mix(h, (static_cast<size_t>(fam_) << 32) | scope_);
  return h;
}

result<endpoint> endpoint::parse(std::string_view text) {
  auto bad = [&](const char* why) {
    return error{errc::invalid_argument,
                 "'" + std::string{text} + "' is not an endpoint: " + why};
  };
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos)
      return bad("missing ']'");
    host = text.substr(1, close - 1);
    auto rest = text.substr(close + 1);
    if (rest.size() < 2 || rest.front() != ':')
      return bad("expected ':<port>' after ']'");
    port = rest.substr(1);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos)
      return bad("expected '<ip>:<port>'");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos)
      return bad("IPv6 endpoints are written [ip]:port");
  }
  if (!all_digits(port) || port.size() > 5)
    return bad("the port is not a number in 0..65535");
  auto p = std::stoul(std::string{port});
  if (p > 65535)
    return bad("the port is not a number in 0..65535");
  auto ip = ip_address::parse(host);
  if (!ip)
    return ip.error();
  return endpoint{*ip, static_cast<uint16_t>(p)};
}

std::string endpoint::to_string() const {
  if (ip.is_v4())
    return ip.to_string() + ':' + std::to_string(port);
  return '[' + ip.to_string() + "]:" + std::to_string(port);
}

socklen_t endpoint::to_sockaddr(sockaddr_storage& out) const {
  std::memset(&out, 0, sizeof(out));
  if (ip.is_v4()) {
    auto* sa = reinterpret_cast<sockaddr_in*>(&out);
    sa->sin_family = AF_INET;
    sa->sin_port = htons(port);
    std::memcpy(&sa->sin_addr, ip.bytes().data(), 4);
    return sizeof(sockaddr_in);
  }
  auto* sa = reinterpret_cast<sockaddr_in6*>(&out);
  sa->sin6_family = AF_INET6;
  sa->sin6_port = htons(port);
  std::memcpy(&sa->sin6_addr, ip.bytes().data(), 16);
  sa->sin6_scope_id = ip.scope_id();
  return sizeof(sockaddr_in6);
}

result<endpoint> endpoint::from_sockaddr(const sockaddr* sa, socklen_t len) {
  if (sa != nullptr && sa->sa_family == AF_INET && len >= sizeof(sockaddr_in)) {
    auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    return endpoint{ip_address::v4_bytes(reinterpret_cast<const uint8_t*>(&in->sin_addr)),
                    ntohs(in->sin_port)};
  }
  if (sa != nullptr && sa->sa_family == AF_INET6 && len >= sizeof(sockaddr_in6)) {
    auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    ip_address::bytes_type b;
    std::memcpy(b.data(), &in6->sin6_addr, 16);
    return endpoint{ip_address::v6(b, in6->sin6_scope_id), ntohs(in6->sin6_port)};
  }
  return error{errc::invalid_argument, "not an IPv4 or IPv6 socket address"};
}

size_t endpoint::hash() const noexcept {
  return mix(ip.hash(), port);
}

} // namespace p2pd::net
