#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "p2pd/net/addr/address.hpp"
#include "p2pd/net/nat/nat_type.hpp"
#include "p2pd/net/nat/port_delta.hpp"
#include "p2pd/sim/nat/nat_table.hpp"
#include "p2pd/sim/time.hpp"

namespace p2pd::sim {

/// An RFC 5780 STUN server as the probe sees it: it answers a binding
/// request from the primary, or, on a change request, from the other IP
/// and/or port, with the source it saw as the mapped address.
struct stun_addresses {
  net::endpoint primary;
  net::endpoint other; ///< OTHER-ADDRESS: another IP and another port
};

/// How the probe runs: the same sequence and sampling as the project's NAT
/// prober (actors/stun/nat_prober.cpp), over a nat_table instead of sockets.
struct probe_plan {
  /// The probe socket: the host's address and port.
  net::endpoint local;
  /// The prober's delta sampling: this many mappings from random, explicit
  /// local ports in [sample_port_min, sample_port_max], none equal or
  /// adjacent to one used before.
  size_t delta_samples = 8;
  uint16_t sample_port_min = 20000;
  uint16_t sample_port_max = 60000;
  /// Then this many mappings from consecutive local ports, as the prober's
  /// second round (nat_probe_spec::consecutive_samples); 0: none.
  size_t consecutive_samples = 6;
  /// Seeds the sample ports (the prober takes it from its stack).
  uint64_t seed = 1;
  /// When the first request leaves, and the time between requests.
  sim_time start{0};
  sim_time step = std::chrono::milliseconds{10};
};

/// What the probe saw and what the project's classifier made of it.
struct probe_result {
  net::nat_tests tests;
  std::vector<net::port_sample> samples;
  net::nat_type nat = net::nat_type::unknown;
  net::delta_result delta;
  /// Test I got no answer over UDP nor TCP: the prober's "server
  /// unreachable" error (nat says blocked all the same).
  bool unreachable = false;
  /// Why a test or sample is missing, as the prober notes it.
  std::vector<std::string> notes;
};

/// Runs test I, then II and III, then I' (plan_nat_tests decides which can
/// run), then the delta samples (skipped when test I got no answer), each as
/// a request out through `nat` and the server's answer back in, and
/// classifies them with net::classify_nat and net::classify_delta. When test
/// I gets no answer over UDP, one TCP handshake with the primary tells a
/// blocked network (it completes) from a server that is down (`unreachable`).
/// Pure: no socket, no clock.
probe_result probe_through(nat_table& nat, const stun_addresses& server, const probe_plan& plan);

} // namespace p2pd::sim
