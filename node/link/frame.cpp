#include "p2pd/node/link/frame.hpp"

namespace p2pd::node {

namespace {

using net::errc;
using net::error;

constexpr size_t hello_body = 1 + 1 + 8;

void put_u32(std::string& out, uint32_t x) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((x >> shift) & 0xff));
}

uint32_t get_u32(std::string_view in) {
  uint32_t x = 0;
  for (size_t i = 0; i < 4; ++i)
    x = (x << 8) | static_cast<uint8_t>(in[i]);
  return x;
}

bool known(uint8_t type) {
  return type == static_cast<uint8_t>(frame_type::hello)
         || type == static_cast<uint8_t>(frame_type::data);
}

} // namespace

std::string encode_hello(const hello& h) {
  std::string out;
  put_u32(out, static_cast<uint32_t>(1 + hello_body));
  out.push_back(static_cast<char>(frame_type::hello));
  out.push_back(static_cast<char>(h.version));
  out.push_back(static_cast<char>(h.purpose));
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((h.request_id >> shift) & 0xff));
  return out;
}

net::error append_data_frame(std::string_view msg, size_t max_message, std::string& out) {
  if (msg.size() > max_message)
    return error{errc::message_too_large, "a message of " + std::to_string(msg.size())
                                            + " bytes is above the peer limit of "
                                            + std::to_string(max_message)};
  put_u32(out, static_cast<uint32_t>(1 + msg.size()));
  out.push_back(static_cast<char>(frame_type::data));
  out.append(msg.data(), msg.size());
  return {};
}

net::result<size_t> frame_size(std::string_view buffered, size_t max_message) {
  if (buffered.size() < frame_header)
    return size_t{0};
  auto len = get_u32(buffered);
  auto type = static_cast<uint8_t>(buffered[4]);
  if (len == 0)
    return error{errc::malformed, "an empty frame (length 0)"};
  if (!known(type))
    return error{errc::malformed, "a frame of unknown type " + std::to_string(type)};
  if (len - 1 > max_message)
    return error{errc::malformed, "a frame of " + std::to_string(len - 1)
                                    + " bytes is above the limit of " + std::to_string(max_message)};
  return size_t{4} + len;
}

net::result<frame> read_frame(std::string_view whole) {
  if (whole.size() < frame_header || get_u32(whole) != whole.size() - 4)
    return error{errc::malformed, "not one whole frame"};
  auto type = static_cast<uint8_t>(whole[4]);
  if (!known(type))
    return error{errc::malformed, "a frame of unknown type " + std::to_string(type)};
  return frame{static_cast<frame_type>(type), whole.substr(frame_header)};
}

net::result<hello> read_hello(std::string_view body) {
  if (body.size() < 1)
    return error{errc::malformed, "an empty hello"};
  hello h;
  h.version = static_cast<uint8_t>(body[0]);
  if (h.version != link_version)
    return error{errc::unsupported_version, "a hello of link version " + std::to_string(h.version)
                                              + "; this build speaks "
                                              + std::to_string(link_version)};
  if (body.size() != hello_body)
    return error{errc::malformed, "a hello of " + std::to_string(body.size()) + " bytes; it has "
                                    + std::to_string(hello_body)};
  auto purpose = static_cast<uint8_t>(body[1]);
  if (purpose != static_cast<uint8_t>(link_purpose::direct)
      && purpose != static_cast<uint8_t>(link_purpose::reverse))
    return error{errc::malformed, "a hello of unknown purpose " + std::to_string(purpose)};
  h.purpose = static_cast<link_purpose>(purpose);
  for (size_t i = 2; i < hello_body; ++i)
    h.request_id = (h.request_id << 8) | static_cast<uint8_t>(body[i]);
  return h;
}

} // namespace p2pd::node
