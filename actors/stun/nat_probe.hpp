#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "caf/expected.hpp"

#include "caf/actor_system.hpp"

#include "p2pd/actors/stack/net_stack.hpp"
#include "p2pd/actors/stun/stun_client.hpp"
#include "p2pd/actors/stun/stun_timing.hpp"
#include "p2pd/net/addr/address.hpp"
#include "p2pd/net/nat/nat_type.hpp"
#include "p2pd/net/nat/port_delta.hpp"

namespace p2pd {

/// What probe_nat() measures and how.
struct nat_probe_spec {
  /// The RFC 5780 server's primary address and port. Its alternate address
  /// comes from OTHER-ADDRESS (or CHANGED-ADDRESS) of test I.
  endpoint server;
  /// Where the probe socket binds; default: the any-address of the server's
  /// family and a free port.
  std::optional<endpoint> local;
  /// STUN timing of every test (actors/stun/stun_timing.hpp says why).
  stun_timing timing = fast_stun_timing();
  /// How many mappings the port delta test makes from random local ports
  /// (one socket each); 0 skips the test (both rounds).
  size_t delta_samples = 8;
  /// Then this many from consecutive local ports (p, p + 1, ...), so that a
  /// dependent allocator, which steps only when the local port goes + 1,
  /// shows (the random round alone makes it look random).
  size_t consecutive_samples = 6;
  /// The inclusive range the delta sockets' explicit, random local ports are
  /// drawn from (random so that consecutive local ports do not make an
  /// independent allocator look dependent).
  uint16_t sample_port_min = 20000;
  uint16_t sample_port_max = 60000;
  /// How often binding a random port may fail (in use) before giving up.
  size_t bind_retries = 20;
  /// The network the probe runs on (null: os_stack()): its sockets, the
  /// local addresses of an any-address probe, and the seed of the sample
  /// ports come from it.
  stack_ptr stack = os_stack();
};

/// What probe_nat() found.
struct nat_report {
  net::nat_type nat = net::nat_type::unknown;
  net::delta_result delta;
  /// Test I's mapping (none when test I got no answer).
  std::optional<endpoint> mapped;
  /// The raw test outcomes, local_ips and local_port included.
  net::nat_tests tests;
  /// The probe socket's bound address.
  endpoint local;
  /// The server the tests ran against (spec.server).
  endpoint server;
  /// The server's alternate address (OTHER-ADDRESS), if it sent one.
  std::optional<endpoint> alternate;
  /// Where test I' went: the alternate IP on the primary port (none when
  /// the server has no other IP).
  std::optional<endpoint> test1_alt_to;
  /// The delta samples, in the order they were taken.
  std::vector<net::port_sample> samples;
  /// The lowest and highest mapped port of the samples.
  std::optional<net::mapped_range> mapped_ports;
  /// Why tests were not run or samples are missing (error responses, bind
  /// failures); empty when everything ran.
  std::vector<std::string> notes;
};

/// Classifies the NAT between this host and `spec.server` (RFC 3489 §10.1
/// with RFC 5780's OTHER-ADDRESS) and its port allocation.
///
/// One UDP server pipe (so it can receive from any address) runs test I
/// (binding to the primary), then tests II (change IP and port) and III
/// (change port) at the same time, and only after both test I' (binding to
/// the alternate IP on the primary port). I' must come last: its request
/// opens the NAT's filter for the alternate address, so a test II reply that
/// arrived after it would make a (port-)restricted NAT look like a full cone.
/// II and III both go to the primary and open nothing for each other; each
/// has its own transaction id. No test's request goes where an earlier test's
/// unanswered reply came from (net::plan_nat_tests says why), and a test the
/// server cannot run (its OTHER-ADDRESS shares its IP or port) is not run,
/// with a note: the type is then unknown rather than a guess.
///
/// When test I gets no answer over UDP, one binding over TCP tells a blocked
/// network from a server that is down: an answer gives nat_type::blocked
/// (with a note), none the error "server unreachable".
///
/// The delta test then opens `delta_samples` pipes on random, explicit,
/// non-consecutive local ports and makes one binding to the primary from
/// each, one after the other (the order is what the step checks compare),
/// then `consecutive_samples` more on a run of consecutive ports.
/// It is skipped when test I got no answer (blocked): no sample could come
/// back, and the delta is then classify_delta(blocked, {}).
///
/// Errors: opening the probe socket fails; test I fails with anything but a
/// timeout (an error response, a malformed answer); errc::recv_timeout
/// "server unreachable" when the server answers neither over UDP nor TCP.
///
/// Blocks the calling thread until the prober actor that does the work
/// (spawn_nat_prober(), actors/stun/nat_prober.hpp) answers: for code outside
/// actors; an actor asks a prober itself.
caf::expected<nat_report> probe_nat(caf::actor_system& sys, const nat_probe_spec& spec);

/// probe_nat() with each of `servers` in turn (spec.server is ignored) until
/// one gives a type other than unknown: a server that is down, or one that
/// cannot run every test, does not decide alone. The report is the first
/// with a type, else the first that ran; its notes say first what went wrong
/// with the servers before it ("<server>: <why>").
///
/// Errors: no servers (errc::invalid_argument); none of them gave a report:
/// errc::recv_timeout "server unreachable" when none answered at all, else
/// the first other error. The message names every server and why.
caf::expected<nat_report> probe_nat_any(caf::actor_system& sys,
                                        const std::vector<endpoint>& servers,
                                        const nat_probe_spec& spec);

} // namespace p2pd
