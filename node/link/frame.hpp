#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "p2pd/net/error.hpp"

// What travels inside a node-to-node TLS connection: length-prefixed frames,
// never newline-split text (the original split on '\n', so a message with a
// newline in it arrived as two).
//
//   frame = length (u32, big-endian, counts what follows) || type (u8) || body
//
// The connecting side sends one hello first; after it, both sides send data
// frames. A hello binds the connection to the connect request that asked for
// it, inside the authenticated channel (the original's plaintext
// "P2P_CON_ID_EQ <id>" line could be sent by anyone who reached the port).

namespace p2pd::node {

/// The link format this build speaks.
inline constexpr uint8_t link_version = 1;
/// The default largest message a node accepts from a peer.
inline constexpr size_t default_max_message = 1024 * 1024;
/// Bytes before a frame's body: length and type.
inline constexpr size_t frame_header = 5;

enum class frame_type : uint8_t {
  hello = 1, ///< the connecting side's first frame: why it connects
  data = 2,  ///< an application message
};

/// Why a connection was made, as its hello says.
enum class link_purpose : uint8_t {
  direct = 1,  ///< the connecting side's own connect
  reverse = 2, ///< the answer to a reverse request the other side sent
};

/// The first frame of a connection.
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

/// The frame of a hello.
std::string encode_hello(const hello& h);

/// Appends the frame of a data message to `out`. Errors: `msg` is above
/// `max_message` (errc::message_too_large).
net::error append_data_frame(std::string_view msg, size_t max_message, std::string& out);

/// The size of the frame `buffered` begins (a pipe_spec::framer): 0 while
/// the header is incomplete; errc::malformed for an empty frame, an unknown
/// type, or a frame above `max_message` (the limit is checked on the header,
/// before the body is read).
net::result<size_t> frame_size(std::string_view buffered, size_t max_message);

/// A whole frame, split.
struct frame {
  frame_type type = frame_type::data;
  std::string_view body;
};

/// Splits one whole frame (as frame_size() measured it). errc::malformed if
/// it is not exactly one frame.
net::result<frame> read_frame(std::string_view whole);

/// Reads a hello's body. errc::malformed for a wrong size or an unknown
/// purpose, errc::unsupported_version for another version.
net::result<hello> read_hello(std::string_view body);

} // namespace p2pd::node
