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
bool stun_answers(const net::endpoint& to, int wait_ms) {
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

// coturn binds UDP and TCP (its "TLS/TCP listener") on every listening
// address and port.
bool all_bindable(const std::vector<net::ip_address>& ips, uint16_t port) {
  for (auto& ip : ips)
    if (!bindable(net::protocol::udp, {ip, port}) || !bindable(net::protocol::tcp, {ip, port}))
      return false;
  return true;
}

constexpr const char* port_taken = "Address already in use";

} // namespace

std::unique_ptr<coturn_server> coturn_server::start(std::string& why, coturn_options opts) {
  if (!have_program("turnserver")) {
    why = "not installed: turnserver (Debian package coturn)";
    return nullptr;
  }
  std::unique_ptr<coturn_server> s{new coturn_server};
  if (!s->dir_) {
    why = "cannot make a temporary directory";
    return nullptr;
  }
  s->opts_ = std::move(opts);
  s->ip1_ = *net::ip_address::parse("127.0.0.1");
  s->ip2_ = *net::ip_address::parse("127.0.0.2");
  // Another test may take a port between our check and coturn's bind; then
  // coturn says so in its log and the start goes on with other ports.
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (!s->pick_ports()) {
      why = "no free port pair (UDP and TCP) on 127.0.0.1 and 127.0.0.2";
      return nullptr;
    }
    if (s->launch(why))
      return s;
    if (why.find(port_taken) == std::string::npos)
      return nullptr;
    s->proc_.stop();
  }
  return nullptr;
}

bool coturn_server::pick_ports() {
  std::vector<net::ip_address> ips{ip1_, ip2_};
  if (opts_.ipv6)
    ips.push_back(*net::ip_address::parse("::1"));
  std::mt19937 rng{std::random_device{}()};
  // Below coturn's relay range (49152-65535), so that relayed ports do not
  // collide with the listeners of other coturns running at once.
  std::uniform_int_distribution<int> pick{20000, 48000};
  for (int i = 0; i < 50; ++i) {
    auto p = static_cast<uint16_t>(pick(rng));
    auto a = static_cast<uint16_t>(p + 1);
    if (all_bindable(ips, p) && all_bindable(ips, a)) {
      port_ = p;
      alt_port_ = a;
      return true;
    }
  }
  return false;
}

bool coturn_server::launch(std::string& why) {
  auto d = dir_.path();
  auto log_path = d + "/coturn.log";
  auto from = read_file(log_path).size();
  std::vector<std::string> argv{"turnserver",
                                "-n",
                                "--listening-ip=127.0.0.1",
                                "--listening-ip=127.0.0.2",
                                "--listening-port=" + std::to_string(port_),
                                "--alt-listening-port=" + std::to_string(alt_port_),
                                "--no-tls",
                                "--no-dtls",
                                "--no-cli",
                                "--fingerprint",
                                "--userdb=" + d + "/turndb",
                                "--pidfile=" + d + "/turnserver.pid",
                                "--log-file=stdout",
                                "--simple-log"};
  if (opts_.ipv6)
    argv.push_back("--listening-ip=::1");
  if (opts_.verbose)
    argv.push_back("--verbose");
  if (!opts_.turn) {
    argv.push_back("--stun-only");
  } else {
    argv.insert(argv.end(), {"--lt-cred-mech", "--user=" + opts_.user + ":" + opts_.password,
                             "--realm=" + opts_.realm, "--allow-loopback-peers",
                             "--relay-ip=127.0.0.1", "--no-multicast-peers"});
    if (opts_.ipv6)
      argv.push_back("--relay-ip=::1");
    if (opts_.user_quota > 0)
      argv.push_back("--user-quota=" + std::to_string(opts_.user_quota));
    if (opts_.stale_nonce_s > 0)
      argv.push_back("--stale-nonce=" + std::to_string(opts_.stale_nonce_s));
    if (opts_.max_lifetime_s > 0)
      argv.push_back("--max-allocate-lifetime=" + std::to_string(opts_.max_lifetime_s));
  }
  if (!proc_.start(argv, log_path, why))
    return false;
  // Up when both addresses answer; 100 tries of 100 ms at most.
  for (int i = 0; i < 100; ++i) {
    if (!proc_.alive()) {
      why = "turnserver exited: " + log();
      return false;
    }
    if (read_file(log_path).find(port_taken, from) != std::string::npos) {
      why = "turnserver could not bind its ports (" + std::string{port_taken} + ")";
      return false;
    }
    if (stun_answers(primary(), 100) && stun_answers(other_ip(), 100)
        && (!opts_.ipv6 || stun_answers(primary_v6(), 100)))
      return true;
  }
  why = "turnserver did not answer within 10 s: " + log();
  return false;
}

bool coturn_server::restart(std::string& why) {
  proc_.stop();
  // The same ports: clients must find it where it was. They are ours again
  // once the old process is gone (SO_REUSEADDR on coturn's side).
  return launch(why);
}

std::string coturn_server::log() const {
  return read_file(dir_.path() + "/coturn.log");
}

} // namespace p2pd::test
