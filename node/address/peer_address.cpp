#include "p2pd/node/address/peer_address.hpp"

#include <algorithm>
#include <array>
#include <set>
#include <utility>

#include "p2pd/net/addr/ip_class.hpp"
#include "p2pd/net/crypto/key_check.hpp"
#include "p2pd/net/iface/route.hpp"
#include "p2pd/net/util/base32.hpp"

namespace p2pd::node {

namespace {

using net::errc;
using net::error;
using net::family;

constexpr size_t signature_size = 64;
// Flags of a route entry: which optional addresses follow.
constexpr uint8_t has_nic = 1;
constexpr uint8_t has_link_local = 2;
constexpr uint8_t has_external = 4;
// Added after the first release: an address without a mapping is written as
// before, byte for byte.
constexpr uint8_t has_mapped = 8;
constexpr uint8_t known_flags = has_nic | has_link_local | has_external | has_mapped;

std::string route_name(size_t i, family f) {
  return "route " + std::to_string(i) + " (" + net::to_string(f) + ")";
}

// --- checks shared by encode and parse --------------------------------------

error check_route(const peer_route& r, const std::string& name) {
  auto bad = [&](const std::string& why) { return error{errc::invalid_argument, name + ": " + why}; };
  if (r.interface >= max_interfaces)
    return bad("interface " + std::to_string(r.interface) + " is not in 0.."
               + std::to_string(max_interfaces - 1));
  if (r.fam == family::v4 && !r.nic)
    return bad("an IPv4 route needs its NIC address");
  if (r.fam == family::v6 && !r.nic && !r.link_local)
    return bad("an IPv6 route needs a global or a link-local address");
  if (r.nic) {
    if (r.nic->fam() != r.fam)
      return bad("NIC address " + r.nic->to_string() + " is not " + net::to_string(r.fam));
    auto scope = net::classify(*r.nic);
    if (scope == net::ip_scope::unspecified || scope == net::ip_scope::multicast
        || scope == net::ip_scope::broadcast || r.nic->is_v4_mapped())
      return bad("NIC address " + r.nic->to_string() + " cannot be a host's ("
                 + net::to_string(scope) + ")");
    if (r.prefix > (r.fam == family::v4 ? 32 : 128))
      return bad("prefix length " + std::to_string(r.prefix) + " is not in 0.."
                 + (r.fam == family::v4 ? "32" : "128"));
    if (r.fam == family::v6 && scope == net::ip_scope::link_local)
      return bad("NIC address " + r.nic->to_string() + " is link-local: it goes in the link-local field");
  }
  if (!r.nic && r.prefix != 0)
    return bad("a prefix length without a NIC address");
  if (r.link_local) {
    if (r.fam != family::v6)
      return bad("only IPv6 routes have a link-local field");
    if (!r.link_local->is_v6() || net::classify(*r.link_local) != net::ip_scope::link_local)
      return bad("link-local address " + r.link_local->to_string() + " is not in fe80::/10");
  }
  if (r.external)
    if (auto err = net::check_external(r.fam, *r.external))
      return bad("external address: " + err.what);
  if (r.port == 0)
    return bad("port 0 is not in 1..65535");
  if (r.mapped) {
    if (auto err = net::check_external(r.fam, *r.mapped))
      return bad("mapped address: " + err.what);
    if (r.mapped_tcp == 0 && r.mapped_udp == 0)
      return bad("a mapped address needs a TCP or a UDP port");
  } else if (r.mapped_tcp != 0 || r.mapped_udp != 0) {
    return bad("mapped ports without a mapped address");
  }
  if (static_cast<uint8_t>(r.nat) > static_cast<uint8_t>(net::nat_type::blocked))
    return bad("NAT type " + std::to_string(static_cast<int>(r.nat)) + " is not in 0..7");
  if (static_cast<uint8_t>(r.delta.type) > static_cast<uint8_t>(net::delta_type::random))
    return bad("delta type " + std::to_string(static_cast<int>(r.delta.type)) + " is not in 0..6");
  if (r.delta.value < -max_delta_value || r.delta.value > max_delta_value)
    return bad("delta value " + std::to_string(r.delta.value) + " is not in -65535..65535");
  return {};
}

error check_channel(const signal_channel& c, size_t i) {
  auto name = "channel " + std::to_string(i);
  if (c.kind != channel_kind::mqtt && c.kind != channel_kind::hub)
    return {errc::invalid_argument,
            name + ": kind " + std::to_string(static_cast<int>(c.kind)) + " is not 1 (mqtt) or 2 (hub)"};
  if (c.name.empty() || c.name.size() > max_channel_name)
    return {errc::invalid_argument, name + ": its name has " + std::to_string(c.name.size())
                                      + " characters; 1 to " + std::to_string(max_channel_name)
                                      + " are allowed"};
  for (size_t k = 0; k < c.name.size(); ++k) {
    auto ch = static_cast<unsigned char>(c.name[k]);
    if (ch < 0x21 || ch > 0x7e)
      return {errc::invalid_argument, name + ": character " + std::to_string(k)
                                        + " of its name is not printable ASCII without spaces"};
  }
  return {};
}

// --- the body's bytes -----------------------------------------------------------

class writer {
public:
  void u8(uint8_t x) { out_.push_back(x); }
  void u16(uint16_t x) {
    u8(static_cast<uint8_t>(x >> 8));
    u8(static_cast<uint8_t>(x));
  }
  void u32(uint32_t x) {
    u16(static_cast<uint16_t>(x >> 16));
    u16(static_cast<uint16_t>(x));
  }
  void u64(uint64_t x) {
    u32(static_cast<uint32_t>(x >> 32));
    u32(static_cast<uint32_t>(x));
  }
  void raw(const uint8_t* p, size_t n) { out_.insert(out_.end(), p, p + n); }
  void ip(const net::ip_address& a) { raw(a.bytes().data(), a.size()); }
  std::vector<uint8_t>& bytes() { return out_; }

private:
  std::vector<uint8_t> out_;
};

// Reads the body; the first failure sticks, named after the field being read.
class reader {
public:
  reader(const uint8_t* p, size_t n) : p_(p), end_(p + n) {}

  bool take(size_t n, const std::string& field) {
    if (static_cast<size_t>(end_ - p_) < n) {
      fail("it ends inside " + field);
      return false;
    }
    return true;
  }
  uint8_t u8(const std::string& field) {
    if (!take(1, field))
      return 0;
    return *p_++;
  }
  uint16_t u16(const std::string& field) {
    if (!take(2, field))
      return 0;
    uint16_t x = static_cast<uint16_t>((p_[0] << 8) | p_[1]);
    p_ += 2;
    return x;
  }
  uint32_t u32(const std::string& field) {
    if (!take(4, field))
      return 0;
    uint32_t x = (uint32_t{p_[0]} << 24) | (uint32_t{p_[1]} << 16) | (uint32_t{p_[2]} << 8) | p_[3];
    p_ += 4;
    return x;
  }
  uint64_t u64(const std::string& field) {
    uint64_t hi = u32(field);
    return (hi << 32) | u32(field);
  }
  template <size_t N>
  std::array<uint8_t, N> arr(const std::string& field) {
    std::array<uint8_t, N> out{};
    if (take(N, field)) {
      std::copy(p_, p_ + N, out.begin());
      p_ += N;
    }
    return out;
  }
  net::ip_address ip(family f, const std::string& field) {
    net::ip_address::bytes_type b{};
    size_t n = f == family::v4 ? 4 : 16;
    if (!take(n, field))
      return {};
    std::copy(p_, p_ + n, b.begin());
    p_ += n;
    return f == family::v4 ? net::ip_address::v4_bytes(b.data()) : net::ip_address::v6(b);
  }
  std::string text(size_t n, const std::string& field) {
    if (!take(n, field))
      return {};
    std::string out(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    return out;
  }
  size_t left() const { return static_cast<size_t>(end_ - p_); }
  void fail(std::string why) {
    if (!err_)
      err_ = error{errc::malformed, "peer address: " + std::move(why)};
  }
  const error& err() const { return err_; }

private:
  const uint8_t* p_;
  const uint8_t* end_;
  error err_;
};

} // namespace

std::vector<uint8_t> peer_address_body(const peer_address& a) {
  writer w;
  w.u8(peer_address_version);
  w.raw(a.keys.sign.data(), a.keys.sign.size());
  w.raw(a.keys.agree.data(), a.keys.agree.size());
  w.u64(static_cast<uint64_t>(a.issued_ms));
  w.u8(static_cast<uint8_t>(a.routes.size()));
  for (const auto& r : a.routes) {
    w.u8(r.interface);
    w.u8(static_cast<uint8_t>(r.fam));
    w.u8(static_cast<uint8_t>((r.nic ? has_nic : 0) | (r.link_local ? has_link_local : 0)
                              | (r.external ? has_external : 0) | (r.mapped ? has_mapped : 0)));
    // Scope ids are host-local: the peer uses its own.
    if (r.nic) {
      w.ip(*r.nic);
      w.u8(r.prefix);
    }
    if (r.link_local)
      w.ip(*r.link_local);
    if (r.external)
      w.ip(*r.external);
    w.u16(r.port);
    w.u8(static_cast<uint8_t>(r.nat));
    w.u8(static_cast<uint8_t>(r.delta.type));
    w.u32(static_cast<uint32_t>(r.delta.value));
    if (r.mapped) {
      w.ip(*r.mapped);
      w.u16(r.mapped_tcp);
      w.u16(r.mapped_udp);
    }
  }
  w.u8(static_cast<uint8_t>(a.channels.size()));
  for (const auto& c : a.channels) {
    w.u8(static_cast<uint8_t>(c.kind));
    w.u8(static_cast<uint8_t>(c.name.size()));
    w.raw(reinterpret_cast<const uint8_t*>(c.name.data()), c.name.size());
  }
  return std::move(w.bytes());
}

namespace {

peer_address read_body(reader& in) {
  peer_address a;
  auto version = in.u8("the version");
  if (in.err())
    return a;
  if (version != peer_address_version) {
    in.fail("body version " + std::to_string(version) + " does not match its prefix");
    return a;
  }
  a.keys.sign = in.arr<32>("the signing key");
  a.keys.agree = in.arr<32>("the agreement key");
  a.issued_ms = static_cast<int64_t>(in.u64("the time it was made"));
  auto routes = in.u8("the route count");
  if (routes > max_routes_per_family * 2)
    in.fail("route count " + std::to_string(routes) + " is above "
            + std::to_string(max_routes_per_family * 2));
  for (size_t i = 0; i < routes && !in.err(); ++i) {
    auto name = "route " + std::to_string(i);
    peer_route r;
    r.interface = in.u8(name + "'s interface");
    auto fam = in.u8(name + "'s family");
    if (in.err())
      break;
    if (fam != 4 && fam != 6) {
      in.fail(name + ": family " + std::to_string(fam) + " is not 4 or 6");
      break;
    }
    r.fam = static_cast<family>(fam);
    name = route_name(i, r.fam);
    auto flags = in.u8(name + "'s flags");
    if (flags & ~known_flags) {
      in.fail(name + ": unknown flags " + std::to_string(flags & ~known_flags));
      break;
    }
    if (flags & has_nic) {
      r.nic = in.ip(r.fam, name + "'s NIC address");
      r.prefix = in.u8(name + "'s prefix length");
    }
    if (flags & has_link_local)
      r.link_local = in.ip(r.fam, name + "'s link-local address");
    if (flags & has_external)
      r.external = in.ip(r.fam, name + "'s external address");
    r.port = in.u16(name + "'s port");
    r.nat = static_cast<net::nat_type>(in.u8(name + "'s NAT type"));
    r.delta.type = static_cast<net::delta_type>(in.u8(name + "'s delta type"));
    r.delta.value = static_cast<int32_t>(in.u32(name + "'s delta value"));
    if (flags & has_mapped) {
      r.mapped = in.ip(r.fam, name + "'s mapped address");
      r.mapped_tcp = in.u16(name + "'s mapped TCP port");
      r.mapped_udp = in.u16(name + "'s mapped UDP port");
    }
    a.routes.push_back(std::move(r));
  }
  if (in.err())
    return a;
  auto channels = in.u8("the channel count");
  if (channels > max_signal_channels)
    in.fail("channel count " + std::to_string(channels) + " is above "
            + std::to_string(max_signal_channels));
  for (size_t i = 0; i < channels && !in.err(); ++i) {
    auto name = "channel " + std::to_string(i);
    signal_channel c;
    c.kind = static_cast<channel_kind>(in.u8(name + "'s kind"));
    auto len = in.u8(name + "'s name length");
    c.name = in.text(len, name + "'s name");
    a.channels.push_back(std::move(c));
  }
  return a;
}

} // namespace

bool operator==(const peer_route& x, const peer_route& y) {
  return x.interface == y.interface && x.fam == y.fam && x.nic == y.nic && x.prefix == y.prefix
         && x.link_local == y.link_local && x.external == y.external && x.port == y.port
         && x.nat == y.nat && x.delta == y.delta && x.mapped == y.mapped
         && x.mapped_tcp == y.mapped_tcp && x.mapped_udp == y.mapped_udp;
}

bool operator==(const peer_address& x, const peer_address& y) {
  return x.keys == y.keys && x.issued_ms == y.issued_ms && x.routes == y.routes
         && x.channels == y.channels;
}

const char* to_string(channel_kind k) {
  switch (k) {
    case channel_kind::mqtt: return "mqtt";
    case channel_kind::hub: return "hub";
  }
  return "unknown";
}

net::error check(const peer_address& a) {
  if (a.routes.empty() && a.channels.empty())
    return {errc::invalid_argument, "a peer address needs a route or a signalling channel"};
  size_t per_family[2] = {0, 0};
  std::set<std::pair<uint8_t, family>> seen;
  for (size_t i = 0; i < a.routes.size(); ++i) {
    const auto& r = a.routes[i];
    auto name = route_name(i, r.fam);
    if (r.fam != family::v4 && r.fam != family::v6)
      return {errc::invalid_argument, "route " + std::to_string(i) + ": unknown family"};
    if (auto err = check_route(r, name))
      return err;
    if (++per_family[r.fam == family::v4 ? 0 : 1] > max_routes_per_family)
      return {errc::invalid_argument, name + ": more than " + std::to_string(max_routes_per_family)
                                        + " " + net::to_string(r.fam) + " routes"};
    if (!seen.emplace(r.interface, r.fam).second)
      return {errc::invalid_argument, name + ": interface " + std::to_string(r.interface)
                                        + " has a " + net::to_string(r.fam) + " route already"};
  }
  if (a.channels.size() > max_signal_channels)
    return {errc::invalid_argument, "more than " + std::to_string(max_signal_channels)
                                      + " signalling channels"};
  for (size_t i = 0; i < a.channels.size(); ++i)
    if (auto err = check_channel(a.channels[i], i))
      return err;
  return {};
}

net::result<std::string> encode_peer_address(const peer_address& a, const net::identity& signer) {
  if (auto err = check(a))
    return err;
  if (signer.pub() != a.keys)
    return error{errc::invalid_argument,
                 "the address carries the keys of node " + a.id().to_string()
                   + ", not those of the signer " + signer.id().to_string()};
  return sign_peer_address_body(peer_address_body(a), signer);
}

std::string sign_peer_address_body(const std::vector<uint8_t>& body,
                                   const net::identity& signer) {
  auto sig = signer.sign(net::sign_purpose::peer_address, net::byte_view{body.data(), body.size()});
  auto signed_body = body;
  signed_body.insert(signed_body.end(), sig.begin(), sig.end());
  std::string out{peer_address_prefix};
  out += net::base32_encode(signed_body.data(), signed_body.size());
  return out;
}

net::result<peer_address> parse_peer_address(std::string_view text) {
  if (text.size() > max_peer_address_text)
    return error{errc::message_too_large, "peer address: " + std::to_string(text.size())
                                            + " characters; at most "
                                            + std::to_string(max_peer_address_text)
                                            + " are read"};
  if (text.substr(0, peer_address_prefix.size()) != peer_address_prefix) {
    // "p2pd<digits>_" is a version this build does not know; anything else
    // is not a peer address at all.
    auto us = text.find('_');
    if (text.substr(0, 4) == "p2pd" && us != std::string_view::npos && us > 4
        && std::all_of(text.begin() + 4, text.begin() + us,
                       [](char c) { return c >= '0' && c <= '9'; }))
      return error{errc::unsupported_version,
                   "peer address: version " + std::string{text.substr(4, us - 4)}
                     + " is not known to this build (it reads version "
                     + std::to_string(peer_address_version) + ")"};
    return error{errc::malformed, "peer address: it does not begin with \""
                                    + std::string{peer_address_prefix} + "\""};
  }
  auto enc = text.substr(peer_address_prefix.size());
  std::vector<uint8_t> raw(enc.size() * 5 / 8);
  if (auto bad = net::base32_decode(enc, raw.data()))
    return error{errc::malformed, "peer address: character "
                                    + std::to_string(*bad + peer_address_prefix.size())
                                    + " is not base32 (a-z, 2-7)"};
  // One spelling per address: trailing bits that base32_decode ignores
  // must be zero, and the length must be one an encoder writes.
  if (net::base32_encode(raw.data(), raw.size()) != enc)
    return error{errc::malformed, "peer address: its base32 is not canonical (truncated or altered)"};
  if (raw.size() < 1 + signature_size)
    return error{errc::malformed, "peer address: " + std::to_string(raw.size())
                                    + " bytes are too few for a body and a signature"};
  auto body_size = raw.size() - signature_size;
  reader in{raw.data(), body_size};
  auto a = read_body(in);
  if (in.err())
    return in.err();
  if (in.left() != 0)
    return error{errc::malformed, "peer address: " + std::to_string(in.left())
                                    + " bytes after the last field"};
  if (auto err = net::check_public_keys(a.keys))
    return error{err.code, "peer address: " + err.what};
  std::array<uint8_t, signature_size> sig{};
  std::copy(raw.begin() + static_cast<std::ptrdiff_t>(body_size), raw.end(), sig.begin());
  if (!net::verify(net::sign_purpose::peer_address, a.keys,
                   net::byte_view{raw.data(), body_size}, sig))
    return error{errc::crypto_failed,
                 "peer address: the signature does not check out (altered, or not made by node "
                   + a.id().to_string() + ")"};
  if (auto err = check(a))
    return error{errc::malformed, "peer address: " + err.what};
  return a;
}

std::string describe(const peer_address& a) {
  std::string out = "node " + a.id().to_string() + " (made at " + std::to_string(a.issued_ms)
                    + " ms)\n";
  for (const auto& r : a.routes) {
    out += "  if" + std::to_string(r.interface) + " " + net::to_string(r.fam) + ":";
    if (r.nic)
      out += " nic " + r.nic->to_string() + "/" + std::to_string(r.prefix);
    if (r.link_local)
      out += " link-local " + r.link_local->to_string();
    out += " ext " + (r.external ? r.external->to_string() : std::string{"unknown"});
    out += " port " + std::to_string(r.port) + " nat " + net::to_string(r.nat) + " delta "
           + net::to_string(r.delta.type);
    if (r.delta.value != 0)
      out += " " + std::to_string(r.delta.value);
    if (r.mapped)
      out += " mapped " + r.mapped->to_string() + " tcp " + std::to_string(r.mapped_tcp) + " udp "
             + std::to_string(r.mapped_udp);
    out += "\n";
  }
  for (const auto& c : a.channels)
    out += std::string{"  signal "} + to_string(c.kind) + " " + c.name + "\n";
  return out;
}

} // namespace p2pd::node
