#pragma once

// TURN ChannelData messages (RFC 8656 §12.4): a 4-byte header (channel
// number, length) and the application data, with no STUN header. Channel
// numbers are 0x4000..0x4FFF; over a stream the message is padded to a
// multiple of 4 bytes (the padding is not counted in the length), over UDP
// it need not be.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "p2pd/net/error.hpp"

namespace p2pd::net {

constexpr uint16_t turn_channel_min = 0x4000;
constexpr uint16_t turn_channel_max = 0x4FFF;
constexpr size_t turn_channel_header = 4;

/// RFC 5766 (TURN before RFC 8656) allowed 0x4000..0x7FFF, and its
/// clients (coturn's) still pick numbers above 0x4FFF: a server that serves
/// them takes this bound.
constexpr uint16_t turn_channel_max_rfc5766 = 0x7FFF;

constexpr bool turn_valid_channel(uint16_t c, uint16_t max = turn_channel_max) {
  return c >= turn_channel_min && c <= max;
}

/// What came from a TURN server: a STUN message, ChannelData, or neither
/// (RFC 8656 §12: the first two bits say which).
enum class turn_frame_kind : uint8_t { stun, channel_data, unknown };

/// The kind of the frame at `data`, from its first byte; unknown when empty.
turn_frame_kind turn_frame_of(const uint8_t* data, size_t size);

/// A decoded ChannelData message: its channel and a view of its data.
struct channel_data_view {
  uint16_t channel = 0;
  const uint8_t* data = nullptr;
  size_t size = 0;
};

/// Encodes ChannelData for `channel` (errc::invalid_argument outside
/// 0x4000..`max_channel`, errc::message_too_large past 65535 data bytes);
/// padded to 4 bytes when `stream`.
result<std::vector<uint8_t>> encode_channel_data(uint16_t channel, const uint8_t* data,
                                                 size_t size, bool stream,
                                                 uint16_t max_channel = turn_channel_max);

/// Decodes one ChannelData message that fills `size` bytes (a datagram):
/// errc::malformed for a header shorter than 4 bytes, a channel number out
/// of 0x4000..`max_channel` or a length field that runs past the end. Bytes
/// past the length (padding; RFC 8656 lets a datagram carry it) are ignored.
result<channel_data_view> decode_channel_data(const uint8_t* data, size_t size,
                                              uint16_t max_channel = turn_channel_max);

/// For a stream from the server: the size of the frame (STUN message or
/// ChannelData with its padding) that starts at `data`, or nothing while its
/// header is not all there. errc::malformed for a first byte that starts
/// neither.
result<std::optional<size_t>> turn_stream_frame_size(const uint8_t* data, size_t size);

} // namespace p2pd::net
