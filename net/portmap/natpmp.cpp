#include "p2pd/net/portmap/natpmp.hpp"

#include <algorithm>

#include "p2pd/net/portmap/detail/wire.hpp"

namespace p2pd::net {

using namespace portmap_detail;

namespace {

// The sizes of a success response per op, and of the shortest error response.
constexpr size_t external_address_response_size = 12;
constexpr size_t map_response_size = 16;
constexpr size_t map_request_size = 12;
constexpr size_t short_error_size = 8;

size_t response_size(natpmp_op op) {
  return op == natpmp_op::external_address ? external_address_response_size : map_response_size;
}

bool is_map(natpmp_op op) {
  return op == natpmp_op::map_udp || op == natpmp_op::map_tcp;
}


} // namespace

const char* to_string(natpmp_op x) {
  switch (x) {
    case natpmp_op::external_address: return "external address";
    case natpmp_op::map_udp: return "map UDP";
    case natpmp_op::map_tcp: return "map TCP";
  }
  return "unknown op";
}

const char* to_string(natpmp_result x) {
  switch (x) {
    case natpmp_result::success: return "success";
    case natpmp_result::unsupported_version: return "unsupported version";
    case natpmp_result::not_authorized: return "not authorized/refused";
    case natpmp_result::network_failure: return "network failure";
    case natpmp_result::out_of_resources: return "out of resources";
    case natpmp_result::unsupported_opcode: return "unsupported opcode";
  }
  return "unknown result code";
}

std::vector<uint8_t> encode_natpmp_external_address_request() {
  return {natpmp_version, static_cast<uint8_t>(natpmp_op::external_address)};
}

result<std::vector<uint8_t>> encode_natpmp_map_request(const natpmp_map_request& x) {
  if (!is_map(x.op))
    return error{errc::invalid_argument,
                 strf("NAT-PMP op %u is not a map request (1 UDP, 2 TCP)",
                      static_cast<unsigned>(x.op))};
  if (x.internal_port == 0 && x.lifetime != 0)
    return error{errc::invalid_argument,
                 strf("NAT-PMP internal port 0 means \"delete all\": lifetime must be 0, not %u",
                      x.lifetime)};
  std::vector<uint8_t> out(map_request_size, 0);
  out[0] = natpmp_version;
  out[1] = static_cast<uint8_t>(x.op);
  // out[2..3]: reserved, 0.
  put16(out.data() + 4, x.internal_port);
  put16(out.data() + 6, x.suggested_external_port);
  put32(out.data() + 8, x.lifetime);
  return out;
}

std::vector<uint8_t> encode_natpmp_response(const natpmp_response& x) {
  std::vector<uint8_t> out(response_size(x.op), 0);
  out[0] = natpmp_version;
  out[1] = static_cast<uint8_t>(natpmp_response_bit + static_cast<uint8_t>(x.op));
  put16(out.data() + 2, static_cast<uint16_t>(x.result));
  put32(out.data() + 4, x.epoch);
  if (x.op == natpmp_op::external_address) {
    auto ip = x.external_ip.unmapped();
    if (ip.is_v4())
      put32(out.data() + 8, ip.v4_value());
  } else {
    put16(out.data() + 8, x.internal_port);
    put16(out.data() + 10, x.external_port);
    put32(out.data() + 12, x.lifetime);
  }
  return out;
}

result<natpmp_response> decode_natpmp_response(const uint8_t* data, size_t size,
                                               natpmp_op asked) {
  if (size < short_error_size)
    return malformed(strf("NAT-PMP response of %zu bytes is shorter than the 8 of the shortest", size));
  if (size > map_response_size)
    return malformed(strf("NAT-PMP response of %zu bytes is longer than the 16 of the longest", size));
  if (data[0] != natpmp_version) {
    if (data[0] == 2)
      return error{errc::unsupported_version,
                   "NAT-PMP response has version 2 at offset 0: the gateway speaks PCP"};
    return malformed(strf("NAT-PMP response has version %u at offset 0, not 0", data[0]));
  }
  natpmp_response r;
  r.result = static_cast<natpmp_result>(get16(data + 2));
  r.epoch = get32(data + 4);
  uint8_t op = data[1];
  if (op < natpmp_response_bit) {
    // Erratum 3618: RFC 6886's figure gave "unsupported version" op 0, and
    // some gateways send just that. It answers whatever we asked.
    if (op == 0 && size == short_error_size && r.result == natpmp_result::unsupported_version) {
      r.op = asked;
      return r;
    }
    return malformed(strf("NAT-PMP op %u at offset 1 has no top bit: a request, not a response", op));
  }
  if (op > natpmp_response_bit + static_cast<uint8_t>(natpmp_op::map_tcp))
    return malformed(strf("NAT-PMP op %u at offset 1 answers no NAT-PMP request (128 to 130)", op));
  r.op = static_cast<natpmp_op>(op - natpmp_response_bit);
  if (r.op != asked)
    return error{errc::not_for_us, strf("NAT-PMP response at offset 1 answers op %u (%s), not "
                                        "the op %u (%s) asked",
                                        static_cast<unsigned>(r.op), to_string(r.op),
                                        static_cast<unsigned>(asked), to_string(asked))};
  size_t full = response_size(r.op);
  if (r.ok() && size != full)
    return malformed(strf("NAT-PMP %s response has %zu bytes, not %zu", to_string(r.op), size, full));
  if (!r.ok() && size != full && size != short_error_size
      && !(is_map(r.op) && size == map_request_size))
    return malformed(strf("NAT-PMP %s error response has %zu bytes, not %zu or %zu%s",
                    to_string(r.op), size, short_error_size, full,
                    is_map(r.op) ? " (or 12: the request sent back)" : ""));
  if (size == full) {
    if (r.op == natpmp_op::external_address) {
      r.external_ip = ip_address::v4_bytes(data + 8);
    } else {
      r.internal_port = get16(data + 8);
      r.external_port = get16(data + 10);
      r.lifetime = get32(data + 12);
    }
  } else if (size == map_request_size) {
    // The request sent back: bytes 4..11 are its ports and lifetime, not an
    // epoch.
    r.epoch = 0;
    r.internal_port = get16(data + 4);
    r.external_port = get16(data + 6);
    r.lifetime = get32(data + 8);
  }
  return r;
}

bool natpmp_restarted(uint32_t previous_epoch, uint32_t epoch, uint64_t client_elapsed_s) {
  // epoch < previous + 7/8 elapsed - 2, times 8 so that nothing is rounded.
  // Elapsed times past 2^40 s (35,000 years) are cut so that 7x cannot
  // overflow; they are restarts anyway.
  uint64_t elapsed = std::min<uint64_t>(client_elapsed_s, uint64_t{1} << 40);
  return uint64_t{epoch} * 8 + 16 < uint64_t{previous_epoch} * 8 + elapsed * 7;
}

} // namespace p2pd::net
