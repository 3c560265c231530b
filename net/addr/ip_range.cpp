#include "p2pd/net/addr/ip_range.hpp"

#include "p2pd/net/util/digits.hpp"

#include <algorithm>

namespace p2pd::net {

namespace {

// The low `bits` bits set; all 128 when bits >= 128 (1 << 128 is undefined).
uint128 low_mask(unsigned bits) {
  if (bits >= 128)
    return ~uint128{0};
  return (uint128{1} << bits) - 1;
}

} // namespace

std::string u128_to_string(uint128 x) {
  if (x == 0)
    return "0";
  std::string out;
  while (x != 0) {
    out += static_cast<char>('0' + static_cast<int>(x % 10));
    x /= 10;
  }
  std::reverse(out.begin(), out.end());
  return out;
}

uint128 to_u128(const ip_address& ip) {
  uint128 v = 0;
  for (size_t i = 0; i < ip.size(); ++i)
    v = (v << 8) | ip.bytes()[i];
  return v;
}

ip_address from_u128(family f, uint128 v) {
  if (f == family::v4)
    return ip_address::v4(static_cast<uint32_t>(v));
  ip_address::bytes_type b;
  for (int i = 15; i >= 0; --i) {
    b[static_cast<size_t>(i)] = static_cast<uint8_t>(v);
    v >>= 8;
  }
  return ip_address::v6(b);
}

ip_address prefix_to_netmask(family f, unsigned prefix) {
  unsigned bits = f == family::v4 ? 32 : 128;
  prefix = std::min(prefix, bits);
  return from_u128(f, low_mask(bits) & ~low_mask(bits - prefix));
}

result<unsigned> netmask_to_prefix(const ip_address& mask) {
  unsigned bits = mask.is_v4() ? 32 : 128;
  uint128 v = to_u128(mask);
  unsigned prefix = 0;
  while (prefix < bits && ((v >> (bits - 1 - prefix)) & 1) != 0)
    ++prefix;
  if ((v & low_mask(bits - prefix)) != 0)
    return error{errc::invalid_argument,
                 "netmask " + mask.to_string() + " is not contiguous one bits from the top"};
  return prefix;
}

result<ip_range> ip_range::make(const ip_address& ip, unsigned prefix) {
  unsigned bits = ip.is_v4() ? 32 : 128;
  if (prefix > bits)
    return error{errc::invalid_argument, "prefix /" + std::to_string(prefix) + " is longer than an "
                                             + std::string{net::to_string(ip.fam())} + " address"};
  ip_range r;
  r.prefix_ = static_cast<uint8_t>(prefix);
  r.network_ = from_u128(ip.fam(), to_u128(ip) & ~low_mask(bits - prefix));
  return r;
}

ip_range ip_range::single(const ip_address& ip) {
  return *make(ip, ip.is_v4() ? 32 : 128);
}

result<ip_range> ip_range::parse(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return error{errc::invalid_argument,
                 "'" + std::string{text} + "' is not an IP range: " + why};
  };
  auto slash = text.find('/');
  auto ip = ip_address::parse(text.substr(0, slash));
  if (!ip)
    return bad(ip.error().what);
  if (slash == std::string_view::npos)
    return single(*ip);
  auto suffix = text.substr(slash + 1);
  unsigned prefix = 0;
  if (all_digits(suffix) && suffix.size() <= 3) {
    prefix = static_cast<unsigned>(std::stoul(std::string{suffix}));
  } else if (ip->is_v4() && suffix.find('.') != std::string_view::npos) {
    auto mask = ip_address::parse(suffix);
    if (!mask || !mask->is_v4())
      return bad("the netmask is not an IPv4 address");
    auto p = netmask_to_prefix(*mask);
    if (!p)
      return bad(p.error().what);
    prefix = *p;
  } else {
    return bad("expected a prefix length after '/'");
  }
  auto r = make(*ip, prefix);
  if (!r)
    return bad(r.error().what);
  return r;
}

ip_address ip_range::last() const {
  return from_u128(fam(), to_u128(network_) | low_mask(host_bits()));
}

uint128 ip_range::host_count() const {
  return is_single() ? 1 : low_mask(host_bits());
}

ip_address ip_range::operator[](int128 i) const {
  if (is_single())
    return network_;
  uint128 n = host_count();
  uint128 index;
  if (i >= 0) {
    index = static_cast<uint128>(i) % n;
  } else {
    // -(i + 1) cannot overflow, unlike -i for the smallest int128.
    index = n - 1 - static_cast<uint128>(-(i + 1)) % n;
  }
  return from_u128(fam(), to_u128(network_) + 1 + index);
}

ip_address ip_range::offset(int128 n) const {
  // Casting a negative n to unsigned is n mod 2^128, and 2^host_bits divides
  // 2^128, so masking gives n mod the block size for both signs.
  uint128 off = static_cast<uint128>(n) & low_mask(host_bits());
  return from_u128(fam(), to_u128(network_) | off);
}

bool ip_range::contains(const ip_address& ip) const {
  auto x = ip;
  if (x.fam() != fam() && x.is_v4_mapped())
    x = x.unmapped();
  if (x.fam() != fam())
    return false;
  return (to_u128(x) & ~low_mask(host_bits())) == to_u128(network_);
}

bool ip_range::contains(const ip_range& other) const {
  return other.fam() == fam() && other.prefix_ >= prefix_ && contains(other.network_);
}

bool ip_range::overlaps(const ip_range& other) const {
  // Two CIDR blocks either nest or are disjoint.
  return contains(other) || other.contains(*this);
}

std::string ip_range::to_string() const {
  if (is_single())
    return network_.to_string();
  return network_.to_string() + '/' + std::to_string(prefix_);
}

size_t ip_range::hash() const noexcept {
  return network_.hash() ^ (size_t{prefix_} * 0x9e3779b97f4a7c15ULL);
}

} // namespace p2pd::net
