#include "p2pd/net/iface/detail/netlink.hpp"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "p2pd/net/sock/socket.hpp"

namespace p2pd::net {

namespace {

constexpr size_t align4(size_t n) {
  return (n + 3) & ~size_t{3};
}

// A dump that changes under the kernel's feet is flagged NLM_F_DUMP_INTR;
// tries this often before giving up.
constexpr int max_dump_attempts = 5;

// The kernel answers a dump at once; this only guards against a kernel that
// never does.
constexpr int recv_timeout_sec = 5;

enum class dump_status { done, interrupted };

error netlink_error(const std::string& what, int err) {
  return sys_error(errc::netlink_failed, "rtnetlink " + what, err);
}

result<unique_fd> open_route_socket() {
  unique_fd fd{::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE)};
  if (!fd)
    return netlink_error("socket() failed", errno);
  timeval tv{recv_timeout_sec, 0};
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0)
    return netlink_error("setting SO_RCVTIMEO failed", errno);
  return fd;
}

// Reads one datagram whole, sized with MSG_PEEK | MSG_TRUNC first so a large
// dump part is never cut. Returns the bytes or an error; rejects datagrams
// that do not come from the kernel (port id 0).
result<std::vector<uint8_t>> recv_datagram(int fd) {
  std::vector<uint8_t> buf(16384);
  for (;;) {
    auto n = ::recv(fd, buf.data(), buf.size(), MSG_PEEK | MSG_TRUNC);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return netlink_error("recv() failed", errno);
    }
    if (static_cast<size_t>(n) > buf.size()) {
      buf.resize(static_cast<size_t>(n));
      continue;
    }
    break;
  }
  sockaddr_nl from{};
  iovec iov{buf.data(), buf.size()};
  msghdr msg{};
  msg.msg_name = &from;
  msg.msg_namelen = sizeof(from);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  ssize_t n;
  do {
    n = ::recvmsg(fd, &msg, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0)
    return netlink_error("recvmsg() failed", errno);
  buf.resize(static_cast<size_t>(n));
  if (from.nl_pid != 0)
    buf.clear(); // not the kernel: ignore
  return buf;
}

// One attempt at a dump on a fresh socket; appends the data messages to out.
result<dump_status> dump_once(uint16_t type, const void* header, size_t header_size,
                              uint32_t seq, std::vector<netlink_message>& out) {
  auto fd = open_route_socket();
  if (!fd)
    return fd.error();
  std::vector<uint8_t> req(NLMSG_HDRLEN + align4(header_size), 0);
  nlmsghdr nh{};
  nh.nlmsg_len = static_cast<uint32_t>(req.size());
  nh.nlmsg_type = type;
  nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  nh.nlmsg_seq = seq;
  std::memcpy(req.data(), &nh, sizeof(nh));
  std::memcpy(req.data() + NLMSG_HDRLEN, header, header_size);
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(fd->get(), req.data(), req.size(), 0, reinterpret_cast<sockaddr*>(&kernel),
               sizeof(kernel))
      < 0)
    return netlink_error("sendto() failed", errno);
  auto status = dump_status::done;
  for (;;) {
    auto dgram = recv_datagram(fd->get());
    if (!dgram)
      return dgram.error();
    size_t pos = 0;
    const auto& buf = *dgram;
    while (pos + sizeof(nlmsghdr) <= buf.size()) {
      nlmsghdr h;
      std::memcpy(&h, buf.data() + pos, sizeof(h));
      if (h.nlmsg_len < sizeof(nlmsghdr) || pos + h.nlmsg_len > buf.size())
        return error{errc::netlink_failed, "rtnetlink sent a malformed message"};
      const uint8_t* body = buf.data() + pos + NLMSG_HDRLEN;
      size_t body_size = h.nlmsg_len - NLMSG_HDRLEN;
      pos += align4(h.nlmsg_len);
      if (h.nlmsg_seq != seq)
        continue; // a stray answer to someone else's request
      if ((h.nlmsg_flags & NLM_F_DUMP_INTR) != 0)
        status = dump_status::interrupted;
      if (h.nlmsg_type == NLMSG_DONE) {
        // Since Linux 4.x a dump that fails part-way says so in DONE.
        int32_t err = 0;
        if (body_size >= sizeof(err))
          std::memcpy(&err, body, sizeof(err));
        if (err < 0)
          return netlink_error("dump failed", -err);
        return status;
      }
      if (h.nlmsg_type == NLMSG_ERROR) {
        int32_t err = 0;
        if (body_size >= sizeof(err))
          std::memcpy(&err, body, sizeof(err));
        return netlink_error("request refused", err < 0 ? -err : EPROTO);
      }
      if (h.nlmsg_type < NLMSG_MIN_TYPE)
        continue; // NOOP, OVERRUN
      out.push_back(netlink_message{h.nlmsg_type, std::vector<uint8_t>(body, body + body_size)});
    }
  }
}

} // namespace

result<std::vector<netlink_message>> netlink_dump(uint16_t type, const void* header,
                                                  size_t header_size) {
  static std::atomic<uint32_t> seq{0};
  for (int attempt = 1;; ++attempt) {
    std::vector<netlink_message> out;
    // Each attempt uses its own socket, so a sequence number only has to be
    // distinct within one socket; this one merely helps reading straces.
    auto status = dump_once(type, header, header_size, ++seq, out);
    if (!status)
      return status.error();
    if (*status == dump_status::done)
      return out;
    if (attempt == max_dump_attempts)
      return error{errc::netlink_failed,
                   "rtnetlink dump interrupted by concurrent changes "
                     + std::to_string(max_dump_attempts) + " times in a row"};
  }
}

std::optional<uint32_t> netlink_attr::u32() const {
  if (size != sizeof(uint32_t))
    return std::nullopt;
  uint32_t v;
  std::memcpy(&v, data, sizeof(v));
  return v;
}

std::string netlink_attr::str() const {
  auto p = static_cast<const char*>(static_cast<const void*>(data));
  return std::string{p, strnlen(p, size)};
}

std::vector<netlink_attr> netlink_attrs(const uint8_t* data, size_t size) {
  std::vector<netlink_attr> out;
  size_t pos = 0;
  while (pos + sizeof(rtattr) <= size) {
    rtattr a;
    std::memcpy(&a, data + pos, sizeof(a));
    if (a.rta_len < sizeof(rtattr) || pos + a.rta_len > size)
      break;
    out.push_back(netlink_attr{static_cast<uint16_t>(a.rta_type & NLA_TYPE_MASK),
                               data + pos + RTA_LENGTH(0),
                               static_cast<size_t>(a.rta_len) - RTA_LENGTH(0)});
    pos += align4(a.rta_len);
  }
  return out;
}

} // namespace p2pd::net
