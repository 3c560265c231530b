#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "p2pd/net/error.hpp"

// The first message of a node-to-node connection, from the side that
// connected, inside the TLS channel (so it is authenticated): why it
// connects. It binds a reverse connection to the request that asked for it;
// the original's plaintext "P2P_CON_ID_EQ <id>" line could be sent by anyone
// who reached the port. Messages on the connection are length-prefixed
// (net/util/length_prefix.hpp), never newline-split.

namespace p2pd::node {

/// The link format this build speaks.
inline constexpr uint8_t link_version = 1;
/// The default largest message a node accepts from a peer.
inline constexpr size_t default_max_message = 1024 * 1024;

/// Why a connection was made.
enum class link_purpose : uint8_t {
  direct = 1,  ///< the connecting side's own connect
  reverse = 2, ///< the answer to a reverse request the other side sent
  /// The connection a TCP punch keeps, named by the punch's initiator: of
  /// the connections a punch may open, the responder keeps the one this
  /// hello arrives on (request_id: the punch's).
  punch = 3,
};

struct hello {
  uint8_t version = link_version;
  link_purpose purpose = link_purpose::direct;
  /// The connect's id: for reverse, the one the request carried, which the
  /// accepting side must have sent to this very node.
  uint64_t request_id = 0;

  friend bool operator==(const hello& x, const hello& y) {
    return x.version == y.version && x.purpose == y.purpose && x.request_id == y.request_id;
  }
};

/// The hello as a message (10 bytes).
std::string encode_hello(const hello& h);

/// Reads a hello. errc::unsupported_version for another version (checked
/// first: a newer hello may be longer), errc::malformed for a wrong size or
/// an unknown purpose.
net::result<hello> read_hello(std::string_view msg);

} // namespace p2pd::node
