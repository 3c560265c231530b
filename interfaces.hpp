#pragma once

/// Interfaces, routes and NATs: the interface actor (NIC addresses, external
/// addresses, NAT type per family), the STUN client and server, the NAT
/// probe, the NTP clock and responder, the TURN client (a pipe whose address
/// is a relay) and server,
/// the port mapper (PCP, NAT-PMP, UPnP IGD),
/// and their blocking helpers for code outside actors.

#include "p2pd/pipes.hpp"

#include "p2pd/actors/interface/interface_actor.hpp"
#include "p2pd/actors/ntp/ntp_clock.hpp"
#include "p2pd/actors/ntp/ntp_responder.hpp"
#include "p2pd/actors/stun/external_address.hpp"
#include "p2pd/actors/stun/nat_probe.hpp"
#include "p2pd/actors/stun/stun_client.hpp"
#include "p2pd/actors/stun/stun_timing.hpp"
#include "p2pd/actors/stun/stun_server.hpp"
#include "p2pd/actors/portmap/port_mapper.hpp"
#include "p2pd/actors/turn/turn_pipe.hpp"
#include "p2pd/actors/turn_server/turn_server.hpp"
#include "p2pd/api/blocking.hpp"
#include "p2pd/messages/interface.hpp"
#include "p2pd/net/iface/if_filter.hpp"
#include "p2pd/net/iface/interfaces.hpp"
#include "p2pd/net/iface/route.hpp"
#include "p2pd/net/nat/nat_type.hpp"
#include "p2pd/net/util/server_list.hpp"
