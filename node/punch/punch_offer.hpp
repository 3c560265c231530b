#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "p2pd/net/addr/address.hpp"
#include "p2pd/net/nat/nat_type.hpp"
#include "p2pd/net/nat/port_delta.hpp"
#include "p2pd/net/nat/punch_prediction.hpp" // net::protocol, the NAT types
#include "p2pd/net/error.hpp"

// The punch exchange over signalling (the hole_punch_request payload):
//
//   initiator -> offer  (its NAT, predictions, local ports, ephemeral key)
//   responder -> answer (the same of its side) or refuse (why)
//   initiator -> sync   (the meeting time: now + round trip / 2 + margin)
//
// The payload travels sealed and signed, so the ephemeral keys give the
// punched datagrams keys that only the two nodes know. Decoding is strict:
// everything a peer sends here aims our sockets at addresses, so a value
// out of range is refused with the field's name, not clamped.

namespace p2pd::node {

enum class punch_phase : uint8_t { offer = 1, answer = 2, sync = 3, refuse = 4 };

const char* to_string(punch_phase p);

/// Bounds of what a punch message may carry.
inline constexpr size_t max_punch_predictions = 64;
inline constexpr size_t max_punch_local_ports = 512;
inline constexpr uint32_t max_punch_spray_probes = 1024;
inline constexpr uint32_t min_punch_interval_ms = 10;
inline constexpr uint32_t max_punch_interval_ms = 2000;
inline constexpr uint32_t max_punch_window_ms = 15000;
inline constexpr size_t max_punch_reason = 300;
/// Predicted and local ports below this are refused (privileged ports are
/// never a NAT's mapping of an unprivileged socket).
inline constexpr uint16_t min_punch_port = 1024;

/// Credentials at most this long (RFC 8489 allows 513 bytes of USERNAME;
/// no deployment uses more than a few dozen).
inline constexpr size_t max_relay_credential = 256;

/// A relayed punch (strategy::relay): the TURN server both sides allocate
/// on, and the sender's relayed address. The offer carries the offerer's
/// credentials (the payload is sealed end to end), so the answering side
/// needs no account of its own; the answer carries its relayed address.
struct punch_relay_info {
  net::endpoint server;
  net::protocol transport = net::protocol::udp;
  std::string username;
  std::string password;
  net::endpoint relayed;
};

/// One message of the exchange, parsed and checked.
struct punch_message {
  uint64_t request_id = 0;
  punch_phase phase = punch_phase::offer;
  net::protocol proto = net::protocol::tcp;
  net::family fam = net::family::v4;
  /// The sender's interface number the punch leaves from.
  uint8_t route = 0;
  net::nat_type nat = net::nat_type::unknown;
  net::delta_result delta;
  /// Where the peer should aim: the sender's predicted external endpoints,
  /// likeliest first (empty: unpredictable).
  std::vector<net::endpoint> predictions;
  /// The sender's external address: where a spray's probes go when the
  /// sender (the spraying side) predicts no port.
  std::optional<net::ip_address> external_ip;
  /// The sender's local ports, one per socket.
  std::vector<uint16_t> local_ports;
  /// A spray's probing side: how many random ports it probes.
  uint32_t spray_probes = 0;
  /// offer and answer: the sender's X25519 public key.
  std::optional<std::array<uint8_t, 32>> ephemeral_key;
  /// sync: the meeting time (Unix ms), NTP-corrected when clock_synced.
  int64_t start_time_ms = 0;
  bool clock_synced = false;
  uint32_t interval_ms = 100;
  uint32_t window_ms = 3000;
  /// refuse: why.
  std::string reason;
  /// offer and answer of a relayed punch.
  std::optional<punch_relay_info> relay;
  /// offer and answer, UDP only: a punch through the answerer's UDP port
  /// mapping. The offerer probes the mapped endpoint (the answer's one
  /// prediction); the answerer answers from its node port's socket, which
  /// the mapping points at, and probes nobody first.
  bool mapped = false;
};

/// The payload bytes (wire::hole_punch_request).
std::vector<uint8_t> encode_punch(const punch_message& m);

/// Parses and checks a payload: errc::malformed when it does not decode,
/// errc::invalid_argument naming the field otherwise (a port below
/// min_punch_port, an address of the other family, too many entries, a key
/// of the wrong size, a phase that needs a field without it).
net::result<punch_message> decode_punch(const uint8_t* data, size_t size);

} // namespace p2pd::node
