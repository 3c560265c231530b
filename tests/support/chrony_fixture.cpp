#include "chrony_fixture.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>

#include "sockets.hpp"

#include "p2pd/net/ntp/ntp_packet.hpp"
#include "p2pd/net/sock/socket.hpp"

namespace p2pd::test {

namespace {

// One NTP request to `to`; true if a valid answer comes within `wait_ms`.
bool ntp_answers(const net::endpoint& to, int wait_ms) {
  net::unique_fd fd{::socket(net::to_af(to.fam()), SOCK_DGRAM | SOCK_CLOEXEC, 0)};
  auto nonce = net::ntp_timestamp::random();
  auto req = net::encode_ntp(net::ntp_request(nonce));
  sockaddr_storage ss;
  auto len = to.to_sockaddr(ss);
  if (::sendto(fd.get(), req.data(), req.size(), 0, reinterpret_cast<sockaddr*>(&ss), len) < 0)
    return false;
  pollfd p{fd.get(), POLLIN, 0};
  if (::poll(&p, 1, wait_ms) != 1)
    return false;
  uint8_t buf[net::ntp_max_size];
  auto n = ::recv(fd.get(), buf, sizeof(buf), 0);
  return n > 0 && net::decode_ntp_reply(buf, static_cast<size_t>(n), nonce).has_value();
}

} // namespace

std::unique_ptr<chrony_server> chrony_server::start(std::string& why) {
  if (!have_program("chronyd")) {
    why = "not installed: chronyd (Debian package chrony; scripts/install-deps.sh)";
    return nullptr;
  }
  std::unique_ptr<chrony_server> s{new chrony_server};
  if (!s->dir_) {
    why = "cannot make a temporary directory";
    return nullptr;
  }
  auto port = free_port(net::protocol::udp);
  if (port == 0) {
    why = "no free UDP port on 127.0.0.1";
    return nullptr;
  }
  s->ep_ = net::endpoint{net::ip_address::loopback(net::family::v4), port};
  auto d = s->dir_.path();
  {
    std::ofstream conf{d + "/chrony.conf"};
    // "bindcmdaddress /" closes the Unix command socket, cmdport 0 the UDP
    // one: nothing of the host's chronyd (if any) is touched.
    conf << "local stratum 8\n"
         << "allow 127.0.0.1\n"
         << "bindaddress 127.0.0.1\n"
         << "port " << port << "\n"
         << "cmdport 0\n"
         << "bindcmdaddress /\n"
         << "pidfile " << d << "/chronyd.pid\n"
         << "driftfile " << d << "/chrony.drift\n";
    if (!conf) {
      why = "cannot write " + d + "/chrony.conf";
      return nullptr;
    }
  }
  // As root chronyd drops to _chrony, which could not read this directory;
  // as another user it must be told not to insist on root (-U).
  std::vector<std::string> argv{"chronyd", "-d", "-x", "-t", "600", "-f", d + "/chrony.conf"};
  if (::geteuid() == 0) {
    argv.push_back("-u");
    argv.push_back("root");
  } else {
    argv.push_back("-U");
  }
  if (!s->proc_.start(argv, d + "/chronyd.log", why))
    return nullptr;
  // Up once it answers; each try waits for the answer at most 100 ms.
  for (int i = 0; i < 100; ++i) {
    if (!s->proc_.alive()) {
      why = "chronyd exited: " + s->log();
      return nullptr;
    }
    if (ntp_answers(s->ep_, 100))
      return s;
  }
  why = "chronyd did not answer within 10 s: " + s->log();
  return nullptr;
}

std::string chrony_server::log() const {
  return read_file(dir_.path() + "/chronyd.log");
}

} // namespace p2pd::test
