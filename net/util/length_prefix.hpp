#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "p2pd/net/error.hpp"

// Messages on a byte stream, each behind its length: a u32, big-endian.
// Unlike newline-split text (the original's node protocol), a message may
// hold any byte, and a receiver refuses an oversized one on its header,
// before buffering it.

namespace p2pd::net {

/// Bytes before each message.
inline constexpr size_t length_prefix_size = 4;

/// Appends `msg` behind its length to `out`. Errors: `msg` is above
/// `max_message` (errc::message_too_large).
error append_length_prefixed(std::string_view msg, size_t max_message, std::string& out);

/// The size (prefix included) of the message `buffered` begins: 0 while the
/// prefix is incomplete; errc::malformed for a message above `max_message`.
result<size_t> length_prefixed_size(std::string_view buffered, size_t max_message);

} // namespace p2pd::net
