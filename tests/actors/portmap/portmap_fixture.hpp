#pragma once

// The port mapper against miniupnpd in namespaces (support/miniupnpd_fixture):
// the test thread enters the client's namespace, where the runtime's threads
// (and the blocking executor's, which miniupnpc runs on) are started, so
// every socket of the mapper is the client's. The peer's datagrams are sent
// from a socket made in the peer's namespace.

#include <poll.h>

#include <memory>
#include <optional>

#include "support/actors.hpp"
#include "support/miniupnpd_fixture.hpp"
#include "support/sockets.hpp"
#include "support/values.hpp"

#include "p2pd/actors/portmap/port_mapper.hpp"
#include "p2pd/api/runtime.hpp"
#include "p2pd/messages/errors.hpp"

namespace p2pd::test {

inline port_mapper_spec lab_mapper_spec(portmap_method m) {
  port_mapper_spec s;
  s.gateway = miniupnpd_lab::gateway();
  s.local_ip = miniupnpd_lab::client_ip();
  s.methods = {m};
  s.timing = lab_portmap_timing();
  return s;
}

/// A datagram from the peer's namespace to `to`; true if `fd` (a client
/// socket) gets it within 2 s.
inline bool peer_reaches(miniupnpd_lab& lab, int fd, const net::endpoint& to,
                         const std::string& text) {
  {
    netns_guard g{lab.peer_ns()};
    if (!g.error().empty())
      return false;
    auto s = raw_udp({miniupnpd_lab::peer_ip(), 0});
    if (!raw_send_to(s.get(), to, text))
      return false;
  }
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 2000) != 1)
    return false;
  char buf[256];
  auto n = ::recv(fd, buf, sizeof(buf), 0);
  return n > 0 && std::string(buf, static_cast<size_t>(n)) == text;
}

/// True once `pred` holds for what `table()` reads (a result of a vector:
/// the router's mappings or pinholes), checked every 100 ms for at most
/// `limit` (the router's table has no notification to wait on).
template <class Table, class Pred>
bool table_becomes(std::chrono::milliseconds limit, Table table, Pred pred) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    auto m = table();
    if (m && pred(*m))
      return true;
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    pollfd none{-1, 0, 0};
    ::poll(&none, 0, 100);
  }
}

/// True once `pred(lab.mappings())` holds, within `limit`.
template <class Pred>
bool router_table_becomes(miniupnpd_lab& lab, std::chrono::milliseconds limit, Pred pred) {
  return table_becomes(limit, [&] { return lab.mappings(); }, pred);
}

inline bool has_port(const std::vector<router_mapping>& ms, uint16_t port) {
  for (auto& m : ms)
    if (m.external_port == port)
      return true;
  return false;
}

/// Blocking calls on a mapper from the test thread.
struct mapper_client {
  caf::scoped_actor& self;
  port_mapper_actor mapper;
  caf::timespan deadline;

  caf::expected<port_mapping> map(net::protocol proto, net::endpoint internal, uint32_t life) {
    caf::expected<port_mapping> out{make_error(errc::io_failed, "no answer")};
    self->request(mapper, deadline, portmap_atom::value, proto, internal, life)
      .receive([&](port_mapping& m) { out = std::move(m); },
               [&](caf::error& err) { out = std::move(err); });
    return out;
  }
  caf::error unmap(uint64_t id) {
    caf::error out;
    self->request(mapper, deadline, unmap_atom::value, id)
      .receive([](caf::ok_atom) {}, [&](caf::error& err) { out = std::move(err); });
    return out;
  }
  port_mapper_stats stats() {
    port_mapper_stats out;
    self->request(mapper, deadline, stats_atom::value)
      .receive([&](port_mapper_stats& s) { out = s; }, [](caf::error&) {});
    return out;
  }
};

} // namespace p2pd::test
