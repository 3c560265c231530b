#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <vector>

#include "p2pd/net/addr/address.hpp"
#include "p2pd/net/error.hpp"
#include "p2pd/sim/net/fabric.hpp"
#include "p2pd/sim/net/ports.hpp"

namespace p2pd::sim {

/// A datagram a UDP socket received.
struct udp_datagram {
  net::endpoint from;
  net::endpoint to; ///< the local address it came to
  std::vector<uint8_t> payload;
};

/// One host's UDP sockets over a fabric. A socket is bound to an address of
/// the host (or the any address of a family) and a port; datagrams for it
/// go to its handler, or, without one, to its inbox (bounded; what does not
/// fit is counted). A datagram for a port nobody has is dropped and counted
/// (no ICMP is modelled).
class host_udp {
public:
  using handler = std::function<void(udp_datagram)>;
  static constexpr size_t inbox_limit = 1024;

  /// Attaches itself to `h` in `f` (detaches when destroyed; `f` must
  /// outlive it).
  host_udp(fabric& f, host_id h);
  ~host_udp();
  host_udp(const host_udp&) = delete;
  host_udp& operator=(const host_udp&) = delete;

  /// Binds `local` (port 0: an ephemeral one). Errors: bind_failed for an
  /// address that is not the host's, or a port in use on an overlapping
  /// address; bind_failed when no ephemeral port is free.
  net::result<int> bind(net::endpoint local);
  void close(int sock);

  /// Sends from the socket; its source address is the bound one, or for the
  /// any address the host's address of the destination's family. Errors:
  /// invalid_argument for an unknown socket, family_unsupported when the
  /// host has no address of the destination's family.
  net::error send_to(int sock, const net::endpoint& to, std::vector<uint8_t> payload);

  void on_receive(int sock, handler h);
  /// The oldest datagram in the inbox.
  std::optional<udp_datagram> take(int sock);

  net::result<net::endpoint> local_endpoint(int sock) const;
  host_id host() const { return host_; }
  /// Datagrams dropped because the inbox was full.
  uint64_t inbox_dropped() const { return inbox_dropped_; }

private:
  struct socket {
    net::endpoint local;
    handler h;
    std::deque<udp_datagram> inbox;
  };
  bool port_taken(const net::endpoint& local) const;
  void deliver(frame f);

  fabric& fabric_;
  host_id host_;
  ephemeral_ports ports_;
  int next_id_ = 1;
  std::map<int, socket> sockets_;
  uint64_t inbox_dropped_ = 0;
};

} // namespace p2pd::sim
