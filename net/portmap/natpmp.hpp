#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "p2pd/net/addr/address.hpp"
#include "p2pd/net/error.hpp"

// NAT-PMP (RFC 6886): the requests a client sends to its gateway's port 5351
// and the responses it gets, as bytes. No socket here: the caller sends and
// receives through the project's UDP pipes (see "Port mapping codecs" in
// docs/design-notes.md).
//
// decode_natpmp_response() takes the op the client asked and refuses, with
// errc::malformed saying what and at which offset, a datagram that:
// - is shorter than 4 bytes, or has a version other than 0;
// - has an op without the top bit (a request, not a response), except the
//   8-byte "unsupported version" answer with op 0 that RFC 6886's figure
//   showed and some gateways send (erratum 3618);
// - is not the size of its op's response: 12 bytes for op 128, 16 for 129
//   and 130. An error response (result code not 0) may instead be 8 bytes
//   (version, op, result, epoch: what a gateway sends for "unsupported
//   version"; miniupnpd for any error but a map's), or, to a map, the
//   12-byte request sent back ("unsupported opcode": RFC 6886 has the
//   gateway return the request with the top bit set and the result code in
//   the reserved field);
// and with errc::not_for_us one that answers another op than the one asked.
// Fields a short error response lacks are zero; a map request sent back
// gives its internal port, suggested port (as external_port) and lifetime,
// and no epoch (0).

namespace p2pd::net {

/// The gateway's port, shared with PCP (RFC 6887 Appendix A).
inline constexpr uint16_t natpmp_server_port = 5351;
/// The port a gateway multicasts its address announcements to (224.0.0.1).
inline constexpr uint16_t natpmp_client_port = 5350;
/// The one version of NAT-PMP.
inline constexpr uint8_t natpmp_version = 0;
/// A response's op is the request's plus this.
inline constexpr uint8_t natpmp_response_bit = 128;

/// Request ops.
enum class natpmp_op : uint8_t { external_address = 0, map_udp = 1, map_tcp = 2 };

const char* to_string(natpmp_op x);

/// Result codes (RFC 6886 §3.5). Codes above 5 decode as they are and are
/// named "unknown result code".
enum class natpmp_result : uint16_t {
  success = 0,
  unsupported_version = 1,
  not_authorized = 2, ///< the gateway can map, but its user turned it off
  network_failure = 3, ///< e.g. the gateway has no DHCP lease itself yet
  out_of_resources = 4,
  unsupported_opcode = 5,
};

/// RFC 6886's name: "success", "unsupported version", "not
/// authorized/refused", "network failure", "out of resources", "unsupported
/// opcode".
const char* to_string(natpmp_result x);

/// A map request: ops 1 (UDP) and 2 (TCP).
struct natpmp_map_request {
  natpmp_op op = natpmp_op::map_udp;
  uint16_t internal_port = 0;
  /// 0: no preference.
  uint16_t suggested_external_port = 0;
  /// Seconds; RFC 6886 recommends 7200. 0 deletes the mapping (and with
  /// internal port 0, every mapping of that protocol the client has).
  uint32_t lifetime = 7200;
};

/// The external address request: 2 bytes, version 0 and op 0.
std::vector<uint8_t> encode_natpmp_external_address_request();

/// A map request's 12 bytes. errc::invalid_argument for an op that is not a
/// map, or internal port 0 with a non-zero lifetime (port 0 is only for
/// "delete all").
result<std::vector<uint8_t>> encode_natpmp_map_request(const natpmp_map_request& x);

/// A decoded response.
struct natpmp_response {
  /// The op it answers (the response's op less 128).
  natpmp_op op = natpmp_op::external_address;
  natpmp_result result = natpmp_result::success;
  /// Seconds since the gateway's mapping table started (natpmp_restarted()).
  uint32_t epoch = 0;
  /// Op 0: the gateway's external IPv4 address (0.0.0.0 when it has none).
  ip_address external_ip;
  /// Ops 1 and 2: our internal port (to match the request), the external
  /// port mapped to it and the lifetime granted in seconds.
  uint16_t internal_port = 0;
  uint16_t external_port = 0;
  uint32_t lifetime = 0;

  bool ok() const { return result == natpmp_result::success; }
};

/// Decodes a datagram from the gateway as the answer to a request of op
/// `asked` (see the rules at the top of this file).
result<natpmp_response> decode_natpmp_response(const uint8_t* data, size_t size,
                                               natpmp_op asked);

inline result<natpmp_response> decode_natpmp_response(const std::vector<uint8_t>& bytes,
                                                      natpmp_op asked) {
  return decode_natpmp_response(bytes.data(), bytes.size(), asked);
}

/// The encoding of a response, for tests and a test gateway: 12 bytes for op
/// 0, 16 for ops 1 and 2.
std::vector<uint8_t> encode_natpmp_response(const natpmp_response& x);

/// RFC 6886 §3.6: whether the gateway restarted (lost its mappings: renew
/// them all now). From the epoch of the previous packet from the gateway,
/// the one just received, and the seconds the client's own clock counted
/// between the two: the client expects at least previous + 7/8 of the
/// elapsed time, and a restart is an epoch more than 2 s below that.
bool natpmp_restarted(uint32_t previous_epoch, uint32_t epoch, uint64_t client_elapsed_s);

} // namespace p2pd::net
