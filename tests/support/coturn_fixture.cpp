#include "coturn_fixture.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <random>

#include "sockets.hpp"

#include "p2pd/net/sock/socket.hpp"
#include "p2pd/net/stun/stun_builder.hpp"
#include "p2pd/net/stun/stun_message.hpp"

namespace p2pd::test {

namespace {

// One binding request to `to`; true if a success response comes within
// `wait_ms`.
bool answers(const net::endpoint& to, int wait_ms) {
  net::unique_fd fd{::socket(net::to_af(to.fam()), SOCK_DGRAM | SOCK_CLOEXEC, 0)};
  auto id = net::stun_txid::random();
  net::stun_builder b{net::stun_class::request, net::stun_method::binding, id};
  auto bytes = b.finish();
  if (!bytes)
    return false;
  sockaddr_storage ss;
  auto len = to.to_sockaddr(ss);
  if (::sendto(fd.get(), bytes->data(), bytes->size(), 0, reinterpret_cast<sockaddr*>(&ss),
               len) < 0)
    return false;
  pollfd p{fd.get(), POLLIN, 0};
  if (::poll(&p, 1, wait_ms) != 1)
    return false;
  uint8_t buf[1500];
  auto n = ::recv(fd.get(), buf, sizeof(buf), 0);
  if (n <= 0)
    return false;
  net::stun_decode_options opts;
  opts.expect_txid = id;
  auto msg = net::decode_stun(buf, static_cast<size_t>(n), opts);
  return msg && msg->cls() == net::stun_class::success;
}

} // namespace

std::unique_ptr<coturn_server> coturn_server::start(std::string& why) {
  if (!have_program("turnserver")) {
    why = "not installed: turnserver (Debian package coturn)";
    return nullptr;
  }
  std::unique_ptr<coturn_server> s{new coturn_server};
  if (!s->dir_) {
    why = "cannot make a temporary directory";
    return nullptr;
  }
  s->ip1_ = *net::ip_address::parse("127.0.0.1");
  s->ip2_ = *net::ip_address::parse("127.0.0.2");
  std::mt19937 rng{std::random_device{}()};
  std::uniform_int_distribution<int> pick{20000, 60000};
  for (int i = 0; i < 50 && s->port_ == 0; ++i) {
    auto p = static_cast<uint16_t>(pick(rng));
    auto a = static_cast<uint16_t>(p + 1);
    auto udp = net::protocol::udp;
    if (bindable(udp, {s->ip1_, p}) && bindable(udp, {s->ip2_, p}) && bindable(udp, {s->ip1_, a})
        && bindable(udp, {s->ip2_, a})) {
      s->port_ = p;
      s->alt_port_ = a;
    }
  }
  if (s->port_ == 0) {
    why = "no free port pair on 127.0.0.1 and 127.0.0.2";
    return nullptr;
  }
  auto d = s->dir_.path();
  std::vector<std::string> argv{
    "turnserver", "-n", "--listening-ip=127.0.0.1", "--listening-ip=127.0.0.2",
    "--listening-port=" + std::to_string(s->port_),
    "--alt-listening-port=" + std::to_string(s->alt_port_), "--stun-only", "--no-tls",
    "--no-dtls", "--no-cli", "--fingerprint", "--userdb=" + d + "/turndb",
    "--pidfile=" + d + "/turnserver.pid", "--log-file=stdout", "--simple-log"};
  if (!s->proc_.start(argv, d + "/coturn.log", why))
    return nullptr;
  // Up when both addresses answer; 100 tries of 100 ms at most.
  for (int i = 0; i < 100; ++i) {
    if (!s->proc_.alive()) {
      why = "turnserver exited: " + s->log();
      return nullptr;
    }
    if (answers(s->primary(), 100) && answers(s->other_ip(), 100))
      return s;
  }
  why = "turnserver did not answer within 10 s: " + s->log();
  return nullptr;
}

std::string coturn_server::log() const {
  return read_file(dir_.path() + "/coturn.log");
}

} // namespace p2pd::test
