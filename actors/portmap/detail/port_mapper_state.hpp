#pragma once

// The port mapper's state and the PCP/NAT-PMP exchanges over its pipe,
// shared by port_mapper.cpp (requests, refreshes) and pmp_exchange.cpp
// (retransmission, matching answers, epochs).

#include <functional>
#include <map>
#include <optional>
#include <vector>

#include "caf/actor_clock.hpp"
#include "caf/stateful_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "p2pd/actors/portmap/detail/upnp_igd.hpp"
#include "p2pd/actors/portmap/detail/upnp_pinhole.hpp"
#include "p2pd/actors/portmap/port_mapper.hpp"
#include "p2pd/net/portmap/natpmp.hpp"
#include "p2pd/net/portmap/pcp.hpp"

namespace p2pd::actors::detail {

/// What a PCP or NAT-PMP request got back.
struct pmp_answer {
  uint32_t lifetime = 0;
  endpoint external;     ///< NAT-PMP map: port only (the address is op 0's)
  bool pcp_version0 = false; ///< PCP answered with version 0: speak NAT-PMP
  bool restarted = false; ///< the epoch says the gateway lost its state
};

using pmp_done = std::function<void(caf::expected<pmp_answer>)>;

/// One request in flight, retransmitted until answered.
struct pmp_exchange {
  portmap_method method = portmap_method::pcp;
  std::vector<char> wire;
  net::pcp_nonce nonce{};
  net::natpmp_op op = net::natpmp_op::map_udp;
  uint32_t sends = 0;
  caf::timespan wait{};
  pmp_done done;
};

struct pm_entry {
  port_mapping m;
  uint32_t asked_lifetime = 0;
  net::pcp_nonce nonce{};
  upnp_lease upnp;
  upnp_pinhole_lease pinhole;
  /// The IGD gave this pinhole's unique id to another pinhole of ours (it
  /// rebooted and numbers from 1 again): add it anew, do not update.
  bool stale_id = false;
  bool busy = false; ///< a renewal is in flight: another waits for its answer
  bool lost = false;
  bool restore_pending = false; ///< the epoch said the gateway restarted
  uint64_t gen = 0;            ///< refresh timers of older generations are void
  caf::actor timer;
};

struct epoch_seen {
  bool have = false;
  uint32_t epoch = 0;
  caf::actor_clock::time_point at;
};

struct port_mapper_state {
  port_mapper_spec spec;
  caf::actor_system* sys = nullptr;
  pipe_actor pipe;
  bool pipe_open = false;
  caf::error pipe_error;
  std::vector<std::function<void()>> until_open; ///< run once the pipe is open
  std::map<uint64_t, pm_entry> maps;
  std::map<uint64_t, pmp_exchange> xs;
  std::map<uint64_t, caf::actor> x_timers;
  uint64_t next_id = 1;
  std::vector<caf::actor> subs;
  port_mapper_stats stats;
  epoch_seen pcp_epoch;
  epoch_seen natpmp_epoch;
  std::optional<net::ip_address> natpmp_external_ip;

  /// Deletes what the gateway still holds for us (best effort: no answer
  /// is awaited, the actor is ending).
  ~port_mapper_state();

  static inline const char* name = "p2pd.port_mapper";
};

using mapper_ptr = caf::stateful_actor<port_mapper_state, port_mapper_actor::base>*;

/// Sends `wire` to the gateway's port 5351 and calls `done` with the answer,
/// or errc::recv_timeout after the timing's retransmissions.
void start_exchange(mapper_ptr self, pmp_exchange x);

/// A retransmission timer fired for exchange `id` (after send `sends`).
void exchange_timer(mapper_ptr self, uint64_t id, uint64_t sends);

/// A datagram from the pipe: to the exchange it answers, else counted.
void on_datagram(mapper_ptr self, const std::vector<char>& data, const endpoint& from);

/// A request that deletes `e` at the gateway (lifetime 0), PCP or NAT-PMP.
std::vector<char> delete_wire(const port_mapper_state& st, const pm_entry& e);

using done_fn = std::function<void(caf::expected<pm_entry>)>;

/// One attempt of `method` for `e` (a new mapping or a refresh): `done`
/// gets the entry with what the gateway granted, or an error
/// (errc::unsupported_version: PCP answered in NAT-PMP's version).
void attempt(mapper_ptr self, portmap_method method, pm_entry e, done_fn done);

/// The blocking job that deletes a UPnP mapping or pinhole at the IGD
/// (nothing for PCP/NAT-PMP entries, deleted over the pipe).
std::function<net::result<bool>()> upnp_delete_job(const pm_entry& e);

/// A weak one-shot timer to `self` with (pm_timer_atom, id, gen).
caf::actor arm_timer(mapper_ptr self, caf::timespan delay, uint64_t id, uint64_t gen);

} // namespace p2pd::actors::detail
