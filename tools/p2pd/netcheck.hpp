#pragma once

// What `p2pd netcheck` finds out, per interface and family, and how: the
// interface actor's start (addresses, external address, NAT type and port
// allocation), one STUN binding per configured server from the NIC address
// (whether UDP works, and the latency to each server), and one port mapping
// request per method to the default gateway (which of PCP, NAT-PMP and UPnP
// answers).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "p2pd/api/runtime.hpp"
#include "p2pd/p2pd.hpp"

#include "netcheck_stop.hpp"

namespace p2pd::cli {

/// One STUN server asked from one NIC address.
struct stun_probe {
  std::string server;
  std::optional<double> rtt_ms;   ///< set when it answered
  std::string mapped;             ///< the address it saw us as
  std::string error;              ///< why not, when it did not
};

/// One family of one interface.
struct family_check {
  net::family fam = net::family::v4;
  std::string nic;                ///< the NIC address ("none")
  std::string external;           ///< the agreed external address, empty when unknown
  nat_summary nat;
  /// True: a STUN server answered over UDP; false: none did; unset: none
  /// configured for this family.
  std::optional<bool> udp;
  std::vector<stun_probe> stun;
  std::vector<std::string> notes;
};

/// One port mapping method at one gateway.
struct portmap_probe {
  std::string method;             ///< "PCP", "NAT-PMP", "UPnP"
  bool available = false;
  std::string detail;             ///< the external endpoint it gave, or why none
};

struct interface_check {
  std::string name;
  std::vector<family_check> families;
  std::string gateway;            ///< the IPv4 default gateway via it; empty: none
  std::vector<portmap_probe> portmap;  ///< empty without a gateway
  std::string portmap_note;       ///< why nothing was asked, when so
  std::vector<std::string> notes; ///< the interface actor's: why something is missing
};

struct netcheck_report {
  std::vector<interface_check> interfaces;
  std::vector<std::string> unresolved;  ///< server lines whose names did not resolve
  size_t stun_servers = 0;              ///< STUN and NAT endpoints configured
};

/// Checks `nic` with the servers of `servers` (resolved already).
interface_check check_interface(runtime& rt, const net::interface_table& table,
                                const net::interface_info& nic,
                                const std::vector<net::server_entry>& servers,
                                const net::resolved_servers& resolved, netcheck_stop& stop);

/// Asks the IPv4 default gateway via `nic` for a short UDP mapping by each
/// method, all at once, and deletes what it got; a stop signal meanwhile
/// (`stop`) ends the wait, and what was got is deleted all the same.
void check_port_mapping(runtime& rt, const net::interface_table& table,
                        const net::interface_info& nic, interface_check& out,
                        netcheck_stop& stop);

} // namespace p2pd::cli
