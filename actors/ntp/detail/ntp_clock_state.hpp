#pragma once

// The NTP clock's state and the measurement that fills it, shared by the
// actor (ntp_clock.cpp) and the measurement's steps (ntp_round.cpp).

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "caf/typed_event_based_actor.hpp"

#include "p2pd/actors/ntp/ntp_clock_spec.hpp"
#include "p2pd/messages/clock.hpp"
#include "p2pd/messages/pipe.hpp"
#include "p2pd/net/ntp/ntp_sample.hpp"

namespace p2pd::actors::ntp_detail {

// Internal messages: a datagram from a pipe's handler with its arrival
// time; a request's wait ended; the next request of a server is due; the
// periodic measurement.
using ntp_dgram_atom = caf::atom_constant<caf::atom("p2ntpdg")>;
using ntp_wait_atom = caf::atom_constant<caf::atom("p2ntpwait")>;
using ntp_next_atom = caf::atom_constant<caf::atom("p2ntpnext")>;
using ntp_tick_atom = caf::atom_constant<caf::atom("p2ntptick")>;

using ntp_clock_impl = ntp_clock_actor::extend<
  caf::reacts_to<ntp_dgram_atom, bytes, endpoint, int64_t>,
  caf::reacts_to<ntp_wait_atom, uint64_t, uint32_t, uint32_t>,
  caf::reacts_to<ntp_next_atom, uint64_t, uint32_t>, caf::reacts_to<ntp_tick_atom>>;

// Between the pipes' handlers (on the I/O thread) and the actor: how many
// datagrams wait in its mailbox, and how many were dropped for that.
struct inbox_count {
  std::atomic<size_t> queued{0};
  std::atomic<uint64_t> dropped{0};
};

// One server's part of a measurement.
struct server_run {
  endpoint ep;
  std::vector<net::ntp_sample> samples;
  uint32_t sends = 0;
  uint32_t waiting = 0;  // the send whose answer is awaited; 0: none
  uint32_t unanswered = 0;
  bool done = false;
  bool refused = false; // it said no (kiss-o'-death, not synchronised)
  std::string why;      // the last thing that went wrong, but silence

  // Why it gave no sample.
  std::string failure(caf::timespan reply_timeout) const {
    std::string out = why;
    if (unanswered > 0) {
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(reply_timeout).count();
      out += (out.empty() ? "" : "; ") + std::to_string(unanswered) + " of "
             + std::to_string(sends) + " requests unanswered within " + std::to_string(ms)
             + " ms";
    }
    return out.empty() ? "not asked" : out;
  }
};

// A request sent, by the nonce its answer must echo.
struct sent_request {
  uint32_t server;
  uint32_t send;
  int64_t t1_ns;
};

struct ntp_clock_state {
  ntp_clock_spec spec;
  std::shared_ptr<inbox_count> inbox = std::make_shared<inbox_count>();
  std::map<net::family, pipe_actor> pipes;
  size_t opening = 0;
  bool running = false;
  uint64_t round = 0;
  std::vector<server_run> servers;
  std::vector<std::string> notes;
  std::unordered_map<uint64_t, sent_request> sent;
  std::optional<clock_offset> last;
  std::vector<caf::typed_response_promise<clock_offset>> waiters;
  std::set<endpoint> denied;
  ntp_clock_stats stats;
};

using clock_ptr = ntp_clock_impl::stateful_pointer<ntp_clock_state>;

/// Starts a measurement unless one runs: resolves the servers' names,
/// opens the pipes, sends the requests.
void start_round(clock_ptr self);
/// An answer (or anything else) a pipe's handler passed on, read at `t4`.
void on_datagram(clock_ptr self, const bytes& data, const endpoint& from, int64_t t4);
/// Request `send` of server `i` waited its reply_timeout.
void on_reply_wait(clock_ptr self, uint64_t round, uint32_t i, uint32_t send);
/// The next request of server `i` is due.
void on_next(clock_ptr self, uint64_t round, uint32_t i);

} // namespace p2pd::actors::ntp_detail
