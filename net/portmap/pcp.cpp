#include "p2pd/net/portmap/pcp.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "p2pd/net/portmap/detail/wire.hpp"

namespace p2pd::net {

using namespace portmap_detail;

namespace {

constexpr uint8_t r_bit = 0x80;
constexpr size_t option_header_size = 4;

size_t padded(size_t n) {
  return (n + 3) & ~size_t{3};
}

// 16 bytes, IPv4 as ::ffff:a.b.c.d (RFC 6887 §5).
void put_ip(uint8_t* p, const ip_address& ip) {
  if (ip.is_v4()) {
    std::memset(p, 0, 10);
    p[10] = 0xff;
    p[11] = 0xff;
    std::memcpy(p + 12, ip.bytes().data(), 4);
  } else {
    std::memcpy(p, ip.bytes().data(), 16);
  }
}

ip_address get_ip(const uint8_t* p) {
  ip_address::bytes_type b;
  std::memcpy(b.data(), p, 16);
  return ip_address::v6(b).unmapped();
}

void append_map(std::vector<uint8_t>& out, const pcp_map& m) {
  size_t at = out.size();
  out.resize(at + pcp_map_size, 0);
  uint8_t* p = out.data() + at;
  std::memcpy(p, m.nonce.data(), m.nonce.size());
  p[12] = m.protocol;
  // p[13..15]: reserved, 0.
  put16(p + 16, m.internal_port);
  put16(p + 18, m.external_port);
  put_ip(p + 20, m.external_ip);
}

pcp_map read_map(const uint8_t* p) {
  pcp_map m;
  std::memcpy(m.nonce.data(), p, m.nonce.size());
  m.protocol = p[12];
  m.internal_port = get16(p + 16);
  m.external_port = get16(p + 18);
  m.external_ip = get_ip(p + 20);
  return m;
}

void append_options(std::vector<uint8_t>& out, const std::vector<pcp_option>& opts) {
  for (auto& o : opts) {
    size_t at = out.size();
    out.resize(at + option_header_size + padded(o.data.size()), 0);
    out[at] = o.code;
    // out[at + 1]: reserved, 0.
    put16(out.data() + at + 2, static_cast<uint16_t>(o.data.size()));
    std::copy(o.data.begin(), o.data.end(), out.begin() + at + option_header_size);
  }
}

// The size an encoding will have, options counted before anything is
// written (so that an option's length cannot wrap its 16-bit field).
error check_size(const char* what, bool has_map, const std::vector<pcp_option>& opts) {
  size_t n = pcp_header_size + (has_map ? pcp_map_size : 0);
  for (auto& o : opts)
    n += option_header_size + padded(std::min<size_t>(o.data.size(), pcp_max_size));
  if (n > pcp_max_size)
    return error{errc::invalid_argument,
                 strf("PCP %s of %zu bytes is over the limit of %zu", what, n, pcp_max_size)};
  return {};
}


} // namespace

const char* to_string(pcp_opcode x) {
  switch (x) {
    case pcp_opcode::announce: return "ANNOUNCE";
    case pcp_opcode::map: return "MAP";
    case pcp_opcode::peer: return "PEER";
  }
  return "unknown opcode";
}

const char* to_string(pcp_result x) {
  switch (x) {
    case pcp_result::success: return "SUCCESS";
    case pcp_result::unsupp_version: return "UNSUPP_VERSION";
    case pcp_result::not_authorized: return "NOT_AUTHORIZED";
    case pcp_result::malformed_request: return "MALFORMED_REQUEST";
    case pcp_result::unsupp_opcode: return "UNSUPP_OPCODE";
    case pcp_result::unsupp_option: return "UNSUPP_OPTION";
    case pcp_result::malformed_option: return "MALFORMED_OPTION";
    case pcp_result::network_failure: return "NETWORK_FAILURE";
    case pcp_result::no_resources: return "NO_RESOURCES";
    case pcp_result::unsupp_protocol: return "UNSUPP_PROTOCOL";
    case pcp_result::user_ex_quota: return "USER_EX_QUOTA";
    case pcp_result::cannot_provide_external: return "CANNOT_PROVIDE_EXTERNAL";
    case pcp_result::address_mismatch: return "ADDRESS_MISMATCH";
    case pcp_result::excessive_remote_peers: return "EXCESSIVE_REMOTE_PEERS";
  }
  return "unknown result code";
}

pcp_nonce pcp_random_nonce() {
  pcp_nonce n;
  // RAND_bytes fails only without an entropy source; then no nonce an
  // attacker cannot guess can be made either (as for STUN's ids).
  if (RAND_bytes(n.data(), static_cast<int>(n.size())) != 1)
    std::abort();
  return n;
}

std::string to_string(const pcp_nonce& x) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (auto b : x) {
    out += hex[b >> 4];
    out += hex[b & 15];
  }
  return out;
}

pcp_request pcp_map_request(const ip_address& client_ip, uint8_t protocol,
                            uint16_t internal_port, uint32_t lifetime) {
  pcp_request r;
  r.opcode = pcp_opcode::map;
  r.lifetime = lifetime;
  r.client_ip = client_ip;
  pcp_map m;
  m.nonce = pcp_random_nonce();
  m.protocol = protocol;
  m.internal_port = internal_port;
  r.map = m;
  return r;
}

result<std::vector<uint8_t>> encode_pcp_request(const pcp_request& x) {
  auto invalid = [](std::string what) { return error{errc::invalid_argument, std::move(what)}; };
  if (x.client_ip.unmapped().is_any())
    return invalid("PCP client IP " + x.client_ip.to_string()
                   + " is unspecified: it must be the address the request is sent from");
  switch (x.opcode) {
    case pcp_opcode::map:
      if (!x.map)
        return invalid("PCP MAP request without its MAP data");
      if (x.map->protocol == pcp_protocol::all && x.map->internal_port != 0)
        return invalid(strf("PCP MAP for all protocols (0) must have internal port 0, not %u",
                            x.map->internal_port));
      break;
    case pcp_opcode::announce:
      if (x.map)
        return invalid("PCP ANNOUNCE request with MAP data");
      if (x.lifetime != 0)
        return invalid(strf("PCP ANNOUNCE request has lifetime %u, must have 0", x.lifetime));
      break;
    default:
      return invalid(strf("PCP opcode %u (%s) is not encoded here (ANNOUNCE, MAP)",
                          static_cast<unsigned>(x.opcode), to_string(x.opcode)));
  }
  if (auto err = check_size("request", x.map.has_value(), x.options))
    return err;
  std::vector<uint8_t> out(pcp_header_size, 0);
  out[0] = pcp_version;
  out[1] = static_cast<uint8_t>(x.opcode); // R bit clear: a request
  // out[2..3]: reserved, 0.
  put32(out.data() + 4, x.lifetime);
  put_ip(out.data() + 8, x.client_ip);
  if (x.map)
    append_map(out, *x.map);
  append_options(out, x.options);
  return out;
}

result<std::vector<uint8_t>> encode_pcp_response(const pcp_response& x) {
  if (x.opcode != pcp_opcode::map && x.opcode != pcp_opcode::announce)
    return error{errc::invalid_argument,
                 strf("PCP opcode %u (%s) is not encoded here (ANNOUNCE, MAP)",
                      static_cast<unsigned>(x.opcode), to_string(x.opcode))};
  if (auto err = check_size("response", x.map.has_value(), x.options))
    return err;
  std::vector<uint8_t> out(pcp_header_size, 0);
  out[0] = pcp_version;
  out[1] = static_cast<uint8_t>(r_bit | static_cast<uint8_t>(x.opcode));
  out[3] = static_cast<uint8_t>(x.result);
  put32(out.data() + 4, x.lifetime);
  put32(out.data() + 8, x.epoch);
  // out[12..23]: reserved, 0.
  if (x.map)
    append_map(out, *x.map);
  append_options(out, x.options);
  return out;
}

result<pcp_response> decode_pcp_response(const uint8_t* data, size_t size,
                                         const pcp_decode_options& opts) {
  if (size > pcp_max_size)
    return error{errc::message_too_large,
                 strf("PCP response of %zu bytes is over the limit of %zu", size, pcp_max_size)};
  if (size > 0 && data[0] == 0)
    return error{errc::unsupported_version,
                 strf("PCP response of %zu bytes has version 0 at offset 0: the server speaks "
                      "NAT-PMP only",
                      size)};
  if (size < pcp_header_size)
    return malformed(strf("PCP response of %zu bytes is shorter than the 24-byte header", size));
  if (size % 4 != 0)
    return malformed(strf("PCP response of %zu bytes is not a multiple of 4", size));
  if (data[0] != pcp_version)
    return malformed(strf("PCP response has version %u at offset 0, not 2", data[0]));
  if ((data[1] & r_bit) == 0)
    return malformed(strf("PCP message has the R bit clear at offset 1 (opcode %u): a request, not a "
                    "response",
                    data[1]));
  pcp_response r;
  auto op = static_cast<uint8_t>(data[1] & ~r_bit);
  r.opcode = static_cast<pcp_opcode>(op);
  if (opts.opcode && *opts.opcode != r.opcode)
    return error{errc::not_for_us,
                 strf("PCP response at offset 1 answers opcode %u (%s), not the %s asked", op,
                      to_string(r.opcode), to_string(*opts.opcode))};
  if (r.opcode != pcp_opcode::map && r.opcode != pcp_opcode::announce)
    return malformed(strf("PCP response has opcode %u (%s) at offset 1, not one read here (ANNOUNCE, "
                    "MAP)",
                    op, to_string(r.opcode)));
  r.result = static_cast<pcp_result>(data[3]);
  r.lifetime = get32(data + 4);
  r.epoch = get32(data + 8);
  size_t at = pcp_header_size;
  if (r.opcode == pcp_opcode::map) {
    if (size - at >= pcp_map_size) {
      r.map = read_map(data + at);
      at += pcp_map_size;
    } else if (r.ok()) {
      return malformed(strf("PCP MAP success response has %zu bytes of opcode data at offset %zu, "
                      "not 36",
                      size - at, at));
    }
    if (r.map && opts.nonce && *opts.nonce != r.map->nonce)
      return error{errc::not_for_us,
                   "PCP MAP response's nonce " + to_string(r.map->nonce) + " at offset 24 is not "
                       + to_string(*opts.nonce) + ", the one of our request"};
  }
  while (at < size) {
    // Offsets and size are multiples of 4: an option header always fits.
    pcp_option o;
    o.code = data[at];
    size_t len = get16(data + at + 2);
    if (len > size - at - option_header_size)
      return malformed(strf("PCP option %u at offset %zu has length %zu, past the end (%zu bytes left)",
                      o.code, at, len, size - at - option_header_size));
    o.data.assign(data + at + option_header_size, data + at + option_header_size + len);
    r.options.push_back(std::move(o));
    at += option_header_size + padded(len);
  }
  return r;
}

bool pcp_lost_state(uint32_t previous_epoch, uint32_t epoch, uint64_t client_elapsed_s) {
  int64_t prev = previous_epoch;
  int64_t curr = epoch;
  // Back by up to 1 s is reordering on the path, not a restart.
  if (curr < prev - 1)
    return true;
  int64_t server_delta = curr - prev;
  // Cut so that the arithmetic cannot overflow; such gaps are lost state.
  auto client_delta = static_cast<int64_t>(std::min<uint64_t>(client_elapsed_s, uint64_t{1} << 40));
  return client_delta + 2 < server_delta - server_delta / 16
         || server_delta + 2 < client_delta - client_delta / 16;
}

} // namespace p2pd::net
