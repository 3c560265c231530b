#include "p2pd/net/turn/channel_data.hpp"

#include <string>

#include "p2pd/net/stun/stun_message.hpp"

namespace p2pd::net {

namespace {

std::string channel_hex(uint16_t x) {
  static constexpr char digits[] = "0123456789ABCDEF";
  return std::string{"0x"} + digits[x >> 12] + digits[(x >> 8) & 15] + digits[(x >> 4) & 15]
         + digits[x & 15];
}

} // namespace

turn_frame_kind turn_frame_of(const uint8_t* data, size_t size) {
  if (size == 0)
    return turn_frame_kind::unknown;
  switch (data[0] >> 6) {
    case 0: return turn_frame_kind::stun;
    case 1: return turn_frame_kind::channel_data;
    default: return turn_frame_kind::unknown;
  }
}

result<std::vector<uint8_t>> encode_channel_data(uint16_t channel, const uint8_t* data,
                                                 size_t size, bool stream, uint16_t max_channel) {
  if (!turn_valid_channel(channel, max_channel))
    return error{errc::invalid_argument, "channel number " + std::to_string(channel)
                                           + " is outside 0x4000.." + channel_hex(max_channel)};
  if (size > 0xFFFF)
    return error{errc::message_too_large,
                 "ChannelData carries at most 65535 bytes, not " + std::to_string(size)};
  size_t padded = stream ? (size + 3) & ~size_t{3} : size;
  std::vector<uint8_t> out(turn_channel_header + padded, 0);
  out[0] = static_cast<uint8_t>(channel >> 8);
  out[1] = static_cast<uint8_t>(channel);
  out[2] = static_cast<uint8_t>(size >> 8);
  out[3] = static_cast<uint8_t>(size);
  if (size > 0)
    std::copy(data, data + size, out.begin() + turn_channel_header);
  return out;
}

result<channel_data_view> decode_channel_data(const uint8_t* data, size_t size,
                                              uint16_t max_channel) {
  if (size < turn_channel_header)
    return error{errc::malformed, "ChannelData of " + std::to_string(size)
                                    + " bytes is shorter than its 4-byte header"};
  uint16_t channel = static_cast<uint16_t>(data[0] << 8 | data[1]);
  size_t len = static_cast<size_t>(data[2] << 8 | data[3]);
  if (!turn_valid_channel(channel, max_channel))
    return error{errc::malformed, "ChannelData channel " + std::to_string(channel)
                                    + " is outside 0x4000.." + channel_hex(max_channel)};
  if (len > size - turn_channel_header)
    return error{errc::malformed, "ChannelData length " + std::to_string(len) + " at offset 2 runs "
                                    + std::to_string(len - (size - turn_channel_header))
                                    + " bytes past the end"};
  return channel_data_view{channel, data + turn_channel_header, len};
}

result<std::optional<size_t>> turn_stream_frame_size(const uint8_t* data, size_t size) {
  if (size == 0)
    return std::optional<size_t>{};
  switch (turn_frame_of(data, size)) {
    case turn_frame_kind::stun:
      return stun_message_size(data, size);
    case turn_frame_kind::channel_data: {
      if (size < turn_channel_header)
        return std::optional<size_t>{};
      size_t len = static_cast<size_t>(data[2] << 8 | data[3]);
      return std::optional<size_t>{turn_channel_header + ((len + 3) & ~size_t{3})};
    }
    default:
      return error{errc::malformed, "a frame from the TURN server starts with byte "
                                      + std::to_string(data[0])
                                      + ", which is neither STUN nor ChannelData"};
  }
}

} // namespace p2pd::net
