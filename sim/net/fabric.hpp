#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "p2pd/net/addr/address.hpp"
#include "p2pd/net/error.hpp"
#include "p2pd/net/util/splitmix64.hpp"
#include "p2pd/sim/nat/nat_table.hpp"
#include "p2pd/sim/nat/packet.hpp"
#include "p2pd/sim/net/event_queue.hpp"
#include "p2pd/sim/net/link.hpp"
#include "p2pd/sim/net/topology.hpp"
#include "p2pd/sim/net/trace.hpp"

namespace p2pd::sim {

/// A packet as the fabric carries it: what a NAT sees, and the payload
/// beside it (a UDP datagram's bytes, a TCP DATA segment's).
struct frame {
  packet pkt;
  std::vector<uint8_t> payload;
};

/// What the fabric counted (every packet that does not arrive is in one).
struct fabric_stats {
  uint64_t sent = 0;
  uint64_t sent_tcp = 0;   ///< of `sent`, TCP segments (the rest: UDP)
  uint64_t delivered = 0;  ///< handed to a host's stack
  uint64_t lost = 0;       ///< by a link's loss rate
  uint64_t no_route = 0;   ///< to an address nobody has
  uint64_t nat_dropped = 0;
  uint64_t nat_resets = 0; ///< RSTs a NAT sent back
  uint64_t no_socket = 0;  ///< reported by host stacks: a closed port
  uint64_t no_stack = 0;   ///< the host has no stack for the protocol
};

/// The simulated network: public hosts, sites (a NAT box, a LAN and its
/// hosts) and the Internet between, on one event queue. A send is a call
/// that schedules the packet's hops as events: source host → its NAT
/// (outbound) → Internet → the peer's NAT (inbound) → the peer host. Each
/// NAT is evaluated when the packet arrives at it, so a hole the peer
/// opened while ours was in flight counts. Deterministic: the draws come
/// from one seed, split per link and per NAT in the order they are added.
///
/// Delays: a host's access link, its site's uplink, the Internet's core,
/// the peer site's uplink, the peer's access link; between two hosts of one
/// LAN only the two access links; a hairpin crosses the sender's access
/// link, then the receiver's. Loss and jitter apply to UDP only: TCP rides
/// its links at their plain latency (see host_tcp).
class fabric {
public:
  struct config {
    uint64_t seed = 1;
    link_config internet; ///< the core, crossed once between two edges
    size_t trace_log_limit = 0; ///< lines of text trace to keep
  };

  using receiver = std::function<void(frame)>;

  fabric(event_queue& queue, config cfg);
  fabric(const fabric&) = delete;
  fabric& operator=(const fabric&) = delete;

  /// A host on the Internet. Errors: no address, an address someone has.
  net::result<host_id> add_public_host(public_host_config cfg);
  /// A site. Errors: an invalid profile, an external address in use.
  net::result<site_id> add_site(site_config cfg);
  /// A host in a site's LAN, with the next LAN address (and IPv6 address,
  /// if the site has a prefix).
  net::result<host_id> add_host(site_id site, link_config access = {});

  const std::vector<net::ip_address>& addresses(host_id h) const { return hosts_.at(h).addresses; }
  /// The host's address of family `f`, if it has one.
  std::optional<net::ip_address> address_of(host_id h, net::family f) const;
  bool owns(host_id h, const net::ip_address& ip) const;
  std::optional<site_id> site_of(host_id h) const { return hosts_.at(h).site; }
  nat_table& nat(site_id s) { return *sites_.at(s).v4; }
  const net::ip_address& external_ip(site_id s) const { return sites_.at(s).cfg.external; }

  /// The host's stack for `proto` (one per protocol): where the fabric
  /// delivers its packets.
  void attach(host_id h, protocol proto, receiver r);

  /// Sends a packet from host `from`: its source address must be the host's.
  /// Errors: invalid_argument for another source. Where it goes is then the
  /// fabric's business (counted and traced, never an error here).
  net::error send(host_id from, frame f);

  /// A stack reports a packet it had no socket for (counted, traced).
  void note_no_socket(host_id h, const frame& f, const char* why);
  /// A stack notes something of its own in the trace (a timer, a state).
  void note(host_id h, const packet& p, const char* why);

  /// A fresh seed for a stack (ephemeral ports, ...), from the fabric's
  /// sequence: deterministic in the order asked.
  uint64_t draw_seed() { return rng_.next(); }

  event_queue& queue() { return queue_; }
  sim_time now() const { return queue_.now(); }
  const trace& run_trace() const { return trace_; }
  const fabric_stats& stats() const { return stats_; }

private:
  struct host_rec {
    std::vector<net::ip_address> addresses;
    std::optional<site_id> site;
    link access;
    receiver udp, tcp;
  };
  struct site_rec {
    site_config cfg;
    link uplink;
    std::unique_ptr<nat_table> v4;
    std::unique_ptr<nat_table> v6;
    uint32_t next_host = 0;
  };
  // Where an address leads from the Internet.
  struct route {
    enum kind_t : uint8_t { public_host, site_external, site_direct } kind;
    host_id host = 0; // public_host, site_direct
    site_id site = 0; // site_external, site_direct
  };

  net::error claim(const net::ip_address& ip, route r);
  // Places in the trace: hosts as their id, sites with the top bit set.
  static uint32_t site_place(site_id s) { return 0x80000000u | s; }
  void record(trace_kind k, uint32_t where, const frame& f, const char* why);
  nat_table& table_for(site_rec& s, const net::endpoint& e) {
    return e.ip.is_v6() ? *s.v6 : *s.v4;
  }
  // Crosses `l`: false (counted, traced) when the packet is lost; adds the
  // delay otherwise.
  bool cross(link& l, const frame& f, uint32_t where, sim_time& delay);
  // A packet from host `h` inside site `s`, at its NAT now.
  void at_nat_out(site_id s, host_id h, frame f);
  // A packet from the Internet at site `s`'s NAT now.
  void at_nat_in(site_id s, frame f);
  // A packet leaving `delay_so_far` into the Internet core towards its
  // destination; `from` is where it is now, for the trace.
  void into_internet(frame f, sim_time delay_so_far, uint32_t from);
  // A packet reaching host `h` now.
  void at_host(host_id h, frame f);
  // Within a site: to the LAN host with the packet's destination address.
  void to_lan_host(site_id s, frame f, sim_time delay_so_far);
  std::optional<host_id> lan_host(site_id s, const net::ip_address& ip) const;

  event_queue& queue_;
  config cfg_;
  net::splitmix64 rng_;
  link internet_;
  std::vector<host_rec> hosts_;
  std::vector<site_rec> sites_;
  std::map<net::ip_address, route> routes_;
  std::map<std::pair<site_id, net::ip_address>, host_id> lan_; // LANs may overlap
  trace trace_;
  fabric_stats stats_;
};

} // namespace p2pd::sim
