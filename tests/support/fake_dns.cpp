#include "fake_dns.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

namespace p2pd::test {

std::string use_resolv_conf(const std::string& text) {
  if (::unshare(CLONE_NEWNS) != 0)
    return std::string{"unshare(CLONE_NEWNS): "} + std::strerror(errno);
  // Private, so that the bind mount below never reaches the host.
  if (::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
    return std::string{"making / private: "} + std::strerror(errno);
  char path[] = "/tmp/p2pd-resolv-XXXXXX";
  int fd = ::mkstemp(path);
  if (fd < 0)
    return std::string{"mkstemp: "} + std::strerror(errno);
  bool wrote = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  std::string err;
  if (!wrote)
    err = "writing " + std::string{path};
  else if (::mount(path, "/etc/resolv.conf", nullptr, MS_BIND, nullptr) != 0)
    err = std::string{"bind-mounting over /etc/resolv.conf: "} + std::strerror(errno);
  ::unlink(path); // the mount keeps the file
  return err;
}

fake_dns::fake_dns(std::set<std::string> nxdomain) : nxdomain_(std::move(nxdomain)) {
  fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    error_ = std::string{"socket: "} + std::strerror(errno);
    return;
  }
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(53);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
    error_ = std::string{"bind 127.0.0.1:53: "} + std::strerror(errno);
    return;
  }
  thread_ = std::thread{[this] { serve(); }};
}

fake_dns::~fake_dns() {
  stop_ = true;
  if (thread_.joinable())
    thread_.join();
  if (fd_ >= 0)
    ::close(fd_);
}

void fake_dns::serve() {
  std::vector<uint8_t> buf(1500);
  while (!stop_) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0)
      continue; // a bounded wait, so that the destructor is heard
    sockaddr_storage from{};
    socklen_t len = sizeof(from);
    auto n = ::recvfrom(fd_, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from),
                        &len);
    if (n < 12)
      continue;
    ++queries_;
    // The question's name: length-prefixed labels from byte 12.
    std::string name;
    size_t i = 12;
    while (i < static_cast<size_t>(n) && buf[i] != 0) {
      size_t l = buf[i];
      if (i + 1 + l > static_cast<size_t>(n))
        break;
      if (!name.empty())
        name += '.';
      name.append(reinterpret_cast<const char*>(&buf[i + 1]), l);
      i += 1 + l;
    }
    size_t end = i + 1 + 4; // the root label, QTYPE and QCLASS
    if (end > static_cast<size_t>(n) || nxdomain_.count(name) == 0)
      continue; // silent, like a resolver that is down
    // NXDOMAIN: the query's header and question, QR and RA set, RCODE 3,
    // no answer, authority or additional records.
    std::vector<uint8_t> out(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(end));
    out[2] = static_cast<uint8_t>(0x80 | (out[2] & 0x01)); // QR, keep RD
    out[3] = 0x80 | 0x03;                                   // RA, NXDOMAIN
    for (size_t k = 6; k < 12; ++k)
      out[k] = 0;
    ::sendto(fd_, out.data(), out.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
  }
}

} // namespace p2pd::test
