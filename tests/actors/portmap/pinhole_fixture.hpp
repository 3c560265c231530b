#pragma once

// IPv6 pinholes against miniupnpd (support/miniupnpd_fixture with ipv6):
// the client's sockets and mapper live in the client's namespace; the peer
// probes them from its namespace, across the router's IPv6 firewall.

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>

#include "actors/portmap/portmap_fixture.hpp"

namespace p2pd::test {

/// Namespace names "p2pd-ph<pid>-...": apart from the IPv4 tests'.
inline miniupnpd_options pinhole_lab_options(bool pinholes = true) {
  miniupnpd_options o;
  o.ipv6 = true;
  o.ipv6_pinholes = pinholes;
  o.tag = "ph";
  return o;
}

/// A mapper for pinholes: UPnP only, toward the router's LAN address.
inline port_mapper_spec pinhole_mapper_spec() {
  port_mapper_spec s;
  s.gateway = miniupnpd_lab::gateway6();
  s.local_ip = miniupnpd_lab::client_ip6();
  s.methods = {portmap_method::upnp};
  s.timing = lab_portmap_timing();
  return s;
}

/// A listening TCP socket on `local` (made in the calling thread's
/// namespace).
inline net::unique_fd raw_listen(const net::endpoint& local) {
  net::unique_fd fd{::socket(net::to_af(local.fam()), SOCK_STREAM | SOCK_CLOEXEC, 0)};
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_storage ss;
  auto len = local.to_sockaddr(ss);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0 || ::listen(fd.get(), 4) != 0)
    return net::unique_fd{};
  return fd;
}

/// Whether a TCP connect from the peer's namespace to `to` completes within
/// `limit` (a SYN the firewall drops gets no answer at all).
inline bool peer_connects(miniupnpd_lab& lab, const net::endpoint& to,
                          std::chrono::milliseconds limit) {
  netns_guard g{lab.peer_ns()};
  if (!g.error().empty())
    return false;
  net::unique_fd fd{::socket(net::to_af(to.fam()), SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)};
  sockaddr_storage ss;
  auto len = to.to_sockaddr(ss);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) == 0)
    return true;
  if (errno != EINPROGRESS)
    return false;
  pollfd p{fd.get(), POLLOUT, 0};
  if (::poll(&p, 1, static_cast<int>(limit.count())) != 1)
    return false;
  return sockopt_int(fd.get(), SOL_SOCKET, SO_ERROR) == 0;
}

/// Whether a datagram from the peer's namespace to `to` reaches `fd` (a
/// client socket) within `limit`.
inline bool peer_datagram_arrives(miniupnpd_lab& lab, int fd, const net::endpoint& to,
                                  const std::string& text, std::chrono::milliseconds limit) {
  {
    netns_guard g{lab.peer_ns()};
    if (!g.error().empty())
      return false;
    auto s = raw_udp({miniupnpd_lab::peer_ip6(), 0});
    if (!raw_send_to(s.get(), to, text))
      return false;
  }
  auto got = raw_recv_from(fd, limit);
  return got && got->data == text;
}

inline bool has_pinhole(const std::vector<router_pinhole>& ps, net::protocol proto,
                        const net::endpoint& internal) {
  for (auto& p : ps)
    if (p.proto == proto && p.internal == internal)
      return true;
  return false;
}

/// True once `pred(lab.pinholes())` holds, within `limit`.
template <class Pred>
bool router_pinholes_become(miniupnpd_lab& lab, std::chrono::milliseconds limit, Pred pred) {
  return table_becomes(limit, [&] { return lab.pinholes(); }, pred);
}

/// pinhole requests from the test thread.
inline caf::expected<port_mapping> open_pinhole(mapper_client& c, net::protocol proto,
                                                net::endpoint internal, uint32_t lease) {
  caf::expected<port_mapping> out{make_error(errc::io_failed, "no answer")};
  c.self->request(c.mapper, c.deadline, pinhole_atom::value, proto, internal, lease)
    .receive([&](port_mapping& m) { out = std::move(m); },
             [&](caf::error& err) { out = std::move(err); });
  return out;
}

} // namespace p2pd::test
