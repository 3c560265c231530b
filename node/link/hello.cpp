#include "p2pd/node/link/hello.hpp"

namespace p2pd::node {

namespace {

constexpr size_t hello_size = 1 + 1 + 8;

} // namespace

std::string encode_hello(const hello& h) {
  std::string out;
  out.push_back(static_cast<char>(h.version));
  out.push_back(static_cast<char>(h.purpose));
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((h.request_id >> shift) & 0xff));
  return out;
}

net::result<hello> read_hello(std::string_view msg) {
  using net::errc;
  using net::error;
  if (msg.empty())
    return error{errc::malformed, "an empty hello"};
  hello h;
  h.version = static_cast<uint8_t>(msg[0]);
  if (h.version != link_version)
    return error{errc::unsupported_version, "a hello of link version " + std::to_string(h.version)
                                              + "; this build speaks "
                                              + std::to_string(link_version)};
  if (msg.size() != hello_size)
    return error{errc::malformed, "a hello of " + std::to_string(msg.size()) + " bytes; it has "
                                    + std::to_string(hello_size)};
  auto purpose = static_cast<uint8_t>(msg[1]);
  if (purpose != static_cast<uint8_t>(link_purpose::direct)
      && purpose != static_cast<uint8_t>(link_purpose::reverse)
      && purpose != static_cast<uint8_t>(link_purpose::punch))
    return error{errc::malformed, "a hello of unknown purpose " + std::to_string(purpose)};
  h.purpose = static_cast<link_purpose>(purpose);
  for (size_t i = 2; i < hello_size; ++i)
    h.request_id = (h.request_id << 8) | static_cast<uint8_t>(msg[i]);
  return h;
}

} // namespace p2pd::node
