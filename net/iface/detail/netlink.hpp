#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "p2pd/net/error.hpp"

namespace p2pd::net {

/// One message of an rtnetlink dump: its type (RTM_NEWLINK, ...) and the
/// bytes after the netlink header (the family header, then attributes).
struct netlink_message {
  uint16_t type = 0;
  std::vector<uint8_t> payload;
};

/// Sends one NETLINK_ROUTE dump request (`type` is RTM_GETLINK, RTM_GETADDR or
/// RTM_GETROUTE; `header` the ifinfomsg / ifaddrmsg / rtmsg that follows the
/// netlink header) and returns every message of the answer. Blocking, but
/// local: the kernel answers at once. A dump that the kernel marks as
/// interrupted by a concurrent change is run again.
result<std::vector<netlink_message>> netlink_dump(uint16_t type, const void* header,
                                                  size_t header_size);

/// A routing attribute (struct rtattr): its type without the nested and
/// byte-order flags, and its payload.
struct netlink_attr {
  uint16_t type = 0;
  const uint8_t* data = nullptr;
  size_t size = 0;

  /// The payload as a 32-bit value; nullopt if it is not 4 bytes.
  std::optional<uint32_t> u32() const;
  /// The payload as a NUL-terminated string, without the NUL.
  std::string str() const;
};

/// The attributes in `size` bytes at `data`; stops at the first malformed one.
std::vector<netlink_attr> netlink_attrs(const uint8_t* data, size_t size);

/// The family header at the start of a payload, copied out (payload bytes
/// carry no alignment promise for C++ objects). False if it is too short.
template <class T>
bool read_header(const std::vector<uint8_t>& payload, T& out) {
  if (payload.size() < sizeof(T))
    return false;
  std::memcpy(&out, payload.data(), sizeof(T));
  return true;
}

/// The attributes after a family header of type T in a payload.
template <class T>
std::vector<netlink_attr> attrs_after(const std::vector<uint8_t>& payload) {
  constexpr size_t offset = (sizeof(T) + 3) & ~size_t{3};
  if (payload.size() <= offset)
    return {};
  return netlink_attrs(payload.data() + offset, payload.size() - offset);
}

} // namespace p2pd::net
