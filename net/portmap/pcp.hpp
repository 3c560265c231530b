#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "p2pd/net/addr/address.hpp"
#include "p2pd/net/error.hpp"

// PCP (RFC 6887), version 2: MAP and ANNOUNCE requests and their responses,
// as bytes. No socket here (see "Port mapping codecs" in
// docs/design-notes.md). Addresses are 16 bytes on the wire, IPv4 ones
// IPv4-mapped (::ffff:a.b.c.d); decoded IPv4-mapped addresses come back as
// IPv4.
//
// decode_pcp_response() refuses, saying what and at which offset:
// - more than 1100 bytes: errc::message_too_large;
// - version 0 at offset 0: errc::unsupported_version, and only for this: the
//   server speaks NAT-PMP only (a NAT-PMP gateway answers a PCP request with
//   its 8-byte "unsupported version"), so the client falls back to NAT-PMP;
// - fewer than 24 bytes, a size that is not a multiple of 4, a version
//   other than 0 and 2, the R bit clear (a request), an opcode it does not
//   read (PEER and unknown ones), a MAP success response without its 36
//   bytes of opcode data, an option whose length runs past the end:
//   errc::malformed;
// - an opcode other than the one asked, a MAP nonce other than ours:
//   errc::not_for_us (an answer to another request: keep waiting).
// An error response may lack the opcode data (RFC 6887 has some carry the
// header only); then map is empty and no nonce is checked. Options are read
// and kept, whatever their code: the client decides what to make of them.

namespace p2pd::net {

/// The server's port, shared with NAT-PMP (RFC 6887 Appendix A).
inline constexpr uint16_t pcp_server_port = 5351;
/// The port a server multicasts ANNOUNCE to (224.0.0.1, ff02::1).
inline constexpr uint16_t pcp_client_port = 5350;
inline constexpr uint8_t pcp_version = 2;
inline constexpr size_t pcp_header_size = 24;
/// Requests and responses are at most this long (and multiples of 4).
inline constexpr size_t pcp_max_size = 1100;
/// The MAP opcode's data: nonce, protocol, ports, external address.
inline constexpr size_t pcp_map_size = 36;

enum class pcp_opcode : uint8_t { announce = 0, map = 1, peer = 2 };

/// "ANNOUNCE", "MAP", "PEER", "unknown opcode".
const char* to_string(pcp_opcode x);

/// Result codes (RFC 6887 §7.4). Codes above 13 decode as they are and are
/// named "unknown result code".
enum class pcp_result : uint8_t {
  success = 0,
  unsupp_version = 1,
  not_authorized = 2,
  malformed_request = 3,
  unsupp_opcode = 4,
  unsupp_option = 5,
  malformed_option = 6,
  network_failure = 7,
  no_resources = 8,
  unsupp_protocol = 9,
  user_ex_quota = 10,
  cannot_provide_external = 11,
  address_mismatch = 12,
  excessive_remote_peers = 13,
};

/// The RFC's name: "SUCCESS", "UNSUPP_VERSION", ... "EXCESSIVE_REMOTE_PEERS".
const char* to_string(pcp_result x);

/// The MAP protocol field: IANA protocol numbers.
namespace pcp_protocol {
inline constexpr uint8_t all = 0;
inline constexpr uint8_t tcp = 6;
inline constexpr uint8_t udp = 17;
} // namespace pcp_protocol

/// Option codes of RFC 6887 §13 (0-127 must be understood, 128-255 may be
/// ignored).
namespace pcp_option_code {
inline constexpr uint8_t third_party = 1;
inline constexpr uint8_t prefer_failure = 2;
inline constexpr uint8_t filter = 3;
} // namespace pcp_option_code

/// A MAP request's nonce: the server echoes it, and only the client that
/// sent it can change or delete the mapping.
using pcp_nonce = std::array<uint8_t, 12>;

/// 12 bytes from OpenSSL's CSPRNG (RFC 6887 §11.1 wants nonces an attacker
/// off the path cannot guess).
pcp_nonce pcp_random_nonce();

/// Lower-case hex.
std::string to_string(const pcp_nonce& x);

/// An option: its code and data (unpadded; padding to 4 is the codec's).
struct pcp_option {
  uint8_t code = 0;
  std::vector<uint8_t> data;

  friend bool operator==(const pcp_option& x, const pcp_option& y) {
    return x.code == y.code && x.data == y.data;
  }
  friend bool operator!=(const pcp_option& x, const pcp_option& y) { return !(x == y); }
};

/// The MAP opcode's data. In a request the external port and address are
/// suggestions (0 and the all-zeros address of a family: no preference, but
/// that family); in a response they are what the server assigned.
struct pcp_map {
  pcp_nonce nonce{};
  uint8_t protocol = pcp_protocol::udp;
  /// 0: all ports (with protocol 0 it must be 0).
  uint16_t internal_port = 0;
  uint16_t external_port = 0;
  /// 0.0.0.0 (the default) asks for an IPv4 external address, :: for IPv6.
  ip_address external_ip;
};

/// A request: MAP (with `map`) or ANNOUNCE (without).
struct pcp_request {
  pcp_opcode opcode = pcp_opcode::map;
  /// Seconds; 0 deletes a mapping, and ANNOUNCE's must be 0.
  uint32_t lifetime = 7200;
  /// The address the request is sent from: the server compares it with the
  /// packet's source (ADDRESS_MISMATCH when a NAT is between).
  ip_address client_ip;
  std::optional<pcp_map> map;
  /// None by default.
  std::vector<pcp_option> options;
};

/// A MAP request for `protocol` and `internal_port` with a fresh nonce, no
/// suggested external port and "any" IPv4 external address.
pcp_request pcp_map_request(const ip_address& client_ip, uint8_t protocol,
                            uint16_t internal_port, uint32_t lifetime = 7200);

/// The request's bytes. errc::invalid_argument for: an unspecified client
/// IP, MAP without `map` or ANNOUNCE with it, ANNOUNCE with a lifetime,
/// PEER (not encoded here), protocol 0 with an internal port, more than
/// 1100 bytes in all.
result<std::vector<uint8_t>> encode_pcp_request(const pcp_request& x);

/// A decoded response.
struct pcp_response {
  pcp_opcode opcode = pcp_opcode::map;
  pcp_result result = pcp_result::success;
  /// Seconds the mapping lasts; for an error, how long the error holds.
  uint32_t lifetime = 0;
  /// The server's epoch time (pcp_lost_state()).
  uint32_t epoch = 0;
  /// MAP's data, when the response has it (a success always does).
  std::optional<pcp_map> map;
  std::vector<pcp_option> options;

  bool ok() const { return result == pcp_result::success; }
};

/// What decode_pcp_response checks beyond the format.
struct pcp_decode_options {
  /// The opcode of the request this answers; any ANNOUNCE or MAP if unset.
  std::optional<pcp_opcode> opcode;
  /// The nonce of the MAP request this answers.
  std::optional<pcp_nonce> nonce;
};

/// Decodes a datagram from the server (see the rules at the top).
result<pcp_response> decode_pcp_response(const uint8_t* data, size_t size,
                                         const pcp_decode_options& opts = {});

inline result<pcp_response> decode_pcp_response(const std::vector<uint8_t>& bytes,
                                                const pcp_decode_options& opts = {}) {
  return decode_pcp_response(bytes.data(), bytes.size(), opts);
}

/// A response's bytes, for tests and a test server. errc::invalid_argument
/// for an opcode other than ANNOUNCE and MAP or more than 1100 bytes.
result<std::vector<uint8_t>> encode_pcp_response(const pcp_response& x);

/// RFC 6887 §8.5: whether the server may have lost its mappings (renew them
/// all now), from the epoch of the previous response from this server, the
/// one just received, and the seconds the client's clock counted between
/// the two. Lost: the epoch went back by more than 1 s, or the server's and
/// the client's deltas differ by more than 2 s plus 1/16. The first response
/// from a server has nothing to compare with and is always valid.
bool pcp_lost_state(uint32_t previous_epoch, uint32_t epoch, uint64_t client_elapsed_s);

} // namespace p2pd::net
