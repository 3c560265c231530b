#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <tuple>
#include <utility>
#include <vector>

#include "p2pd/net/addr/address.hpp"
#include "p2pd/sim/nat/nat_profile.hpp"
#include "p2pd/sim/nat/packet.hpp"
#include "p2pd/net/util/splitmix64.hpp"
#include "p2pd/sim/time.hpp"

namespace p2pd::sim {

/// Where a packet goes after the NAT box.
enum class nat_action : uint8_t {
  to_internet, ///< out, with the (translated) source
  to_lan,      ///< in to an inside host: an accepted inbound packet, or a hairpin
  drop,        ///< nowhere; `why` says why
  reset,       ///< dropped, and the box answers its sender with `pkt`, an RST
};

const char* to_string(nat_action x);

/// A NAT's answer to one packet.
struct verdict {
  nat_action action = nat_action::drop;
  /// to_internet / to_lan: the packet as translated; reset: the RST to send
  /// back to the sender; drop: the packet as it came.
  packet pkt;
  /// Why (static text), for traces and test failures.
  const char* why = "";
};

/// The state of one NAT box for one address family: mappings, the flows
/// through them, their lifetimes and the port allocator, as a pure function
/// of the packets, the times they are given and the seed. Nothing reads a
/// clock or does I/O; the same calls with the same seed give the same
/// answers.
///
/// A mapping binds an inside endpoint (per destination, as profile.mapping
/// says) to an external port; it lives while one of its flows (one per remote
/// endpoint, conntrack's tuples) lives. Without translation (firewall)
/// the mapping is the inside endpoint itself and only filters.
class nat_table {
public:
  /// `external` is the box's public address (unused without translation);
  /// `seed` drives the allocator. The profile must pass check().
  nat_table(nat_profile profile, net::ip_address external, uint64_t seed);

  /// A packet from the LAN: translated to the Internet (creating or
  /// refreshing its mapping and flow), hairpinned back to the LAN, or dropped.
  verdict outbound(const packet& p, sim_time now);

  /// A packet from the Internet: translated to its inside host, dropped, or
  /// (an unsolicited TCP SYN, if the profile says so) answered with an RST.
  verdict inbound(const packet& p, sim_time now);

  /// The external endpoint an outbound packet from `internal` to `remote`
  /// would leave with now, if a live mapping exists; creates nothing.
  std::optional<net::endpoint> mapping_for(protocol proto, const net::endpoint& internal,
                                           const net::endpoint& remote, sim_time now);

  /// Live mappings at `now` (expired ones are removed first).
  size_t mapping_count(sim_time now);

  const nat_profile& profile() const { return profile_; }
  const net::ip_address& external_ip() const { return external_; }

private:
  // tcp_closing: after a FIN (conntrack's FIN_WAIT .. TIME_WAIT);
  // tcp_closed: after an RST (conntrack's CLOSE).
  enum class flow_state : uint8_t {
    udp_unreplied, udp_assured, tcp_opening, tcp_established, tcp_closing, tcp_closed
  };

  struct flow {
    flow_state state;
    bool from_outside; // who sent the packet that created it
    sim_time last;     // the last packet that refreshed it
  };

  // The part of the destination a mapping depends on (profile.mapping).
  using mapping_key = std::tuple<protocol, net::endpoint, net::endpoint>;
  using external_key = std::pair<protocol, net::endpoint>;

  struct mapping {
    mapping_key key;
    protocol proto;
    net::endpoint internal;
    net::endpoint external;
    std::map<net::endpoint, flow> flows; // by remote endpoint
  };

  bool translates() const {
    return profile_.mode == nat_mode::nat || profile_.mode == nat_mode::blocked;
  }
  sim_time lifetime(flow_state s) const;
  sim_time expiry(const flow& f) const { return f.last + lifetime(f.state); }
  void expire(sim_time now);
  void note_expiry(const flow& f);
  mapping_key key_of(protocol proto, const net::endpoint& internal,
                     const net::endpoint& remote) const;
  std::optional<uint16_t> allocate(protocol proto, uint16_t internal_port);
  bool port_free(protocol proto, uint16_t port) const;
  uint16_t wrap(long port) const;

  // What the mode decides before any table: open passes (as `pass`),
  // blocked drops UDP; nullopt: the table decides.
  std::optional<verdict> by_mode(const packet& p, nat_action pass) const;
  // Outbound through a mapping (created if needed); nullopt: no free port.
  std::optional<verdict> translate_out(const packet& p, sim_time now);
  // Inbound to a known external endpoint, filtered; the verdict for `p`.
  verdict filter_in(const packet& p, sim_time now);
  // The RST a box sends back for `p`.
  static packet rst_for(const packet& p);

  nat_profile profile_;
  net::ip_address external_;
  net::splitmix64 rng_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, mapping> mappings_;
  std::map<mapping_key, uint64_t> by_key_;
  std::map<external_key, uint64_t> by_external_;
  sim_time next_expiry_ = sim_time::max();
  // The allocator's memory, per protocol (index: protocol): the last port
  // handed out and the inside port it was for.
  std::optional<uint16_t> last_port_[2];
  uint16_t last_internal_[2] = {0, 0};
};

} // namespace p2pd::sim
