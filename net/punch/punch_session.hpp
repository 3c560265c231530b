#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "p2pd/net/addr/address.hpp"
#include "p2pd/net/crypto/session_key.hpp"
#include "p2pd/net/error.hpp"
#include "p2pd/net/punch/datagram_seal.hpp"

// The protocol of a UDP punch, apart from sockets and timers (the actor,
// actors/punch/udp_punch, owns those and calls in): which probes a round
// sends, what each received datagram means, and which path both sides
// keep. Pure and deterministic, so that every exchange can be tested (and
// simulated) without a socket.
//
// Both sides probe every target from every local socket each round. A side
// answers every authentic probe with a probe_ack on the path it came by,
// and probes that path back once (a triggered probe, as ICE does: the
// probe that reached us opened the peer's mapping, so ours now passes
// too). A probe_ack proves a path both ways. The controlling side
// nominates the first path that proved itself and resends the nomination
// until the controlled side's nominate_ack (or the first data on it)
// confirms it, at most nominate_tries times; the controlled side takes the
// first nominated path. From then on both use only that path: data and
// keepalives on its socket, from whatever source the peer's NAT now uses
// (an authentic frame from a new source moves the path there: NAT
// rebinding), and nothing else.

namespace p2pd::net {

/// One of our sockets (by index) and a remote endpoint.
struct punch_path {
  size_t socket = 0;
  endpoint remote;

  friend bool operator==(const punch_path& x, const punch_path& y) {
    return x.socket == y.socket && x.remote == y.remote;
  }
  friend bool operator<(const punch_path& x, const punch_path& y) {
    return x.socket != y.socket ? x.socket < y.socket : x.remote < y.remote;
  }
};

/// A datagram to send from one of our sockets.
struct punch_send {
  size_t socket = 0;
  endpoint to;
  std::vector<uint8_t> bytes;
};

/// What a punch does.
struct punch_config {
  /// Our sockets (indexes 0 .. sockets-1).
  size_t sockets = 1;
  /// The peer's predicted endpoints, probed in every round.
  std::vector<endpoint> targets;
  /// Endpoints of a port search (a spray), probed in the first
  /// `spray_rounds` rounds only.
  std::vector<endpoint> spray;
  size_t spray_rounds = 2;
  /// No probes of our own: only answers (probe_acks and triggered probes)
  /// on the paths the peer's probes came by; targets and spray stay empty.
  bool answer_only = false;
  /// This side nominates the path (both sides must agree who does).
  bool controlling = false;
  /// Probes sent in all, triggered ones included: past it, rounds are
  /// empty.
  size_t max_probes = 4096;
  /// Nominations sent at most (the first and its resends).
  uint32_t nominate_tries = 8;
  /// Paths remembered for triggered probes at most.
  size_t max_triggered = 1024;
};

enum class punch_phase : uint8_t {
  probing,    ///< sending probes, answering the peer's
  nominating, ///< controlling: a path is nominated, its confirmation awaited
  open,       ///< a path is in use
  done,       ///< failed or closed: everything received is ignored
};

const char* to_string(punch_phase p);

/// What a received datagram did.
struct punch_received {
  /// Why it was refused (errc::none: it was not): malformed, not_for_us
  /// (foreign), replayed or forged.
  error dropped;
  /// Authentic, but nothing for the session now (a probe on another
  /// path once one is in use, a late control frame): ignored.
  bool stray = false;
  /// It settled the path: the session is open from now on.
  bool selected = false;
  /// The path's remote moved to the sender (NAT rebinding).
  bool rebound = false;
  /// The peer ended the session, or gave up its punch.
  bool peer_closed = false;
  /// The peer nominates too: both sides think they are controlling.
  bool conflict = false;
  /// Application bytes that came on the path.
  std::optional<std::vector<uint8_t>> data;
};

class punch_session {
public:
  /// A session with `keys` (errc::crypto_failed if the cipher cannot be
  /// set up); errc::invalid_argument without sockets or anything to probe.
  static result<punch_session> make(const session_keys& keys, punch_config cfg);

  /// The probes of the next round while probing: from each socket to each
  /// target (and spray endpoint, in the first rounds), within max_probes.
  std::vector<punch_send> round();

  /// Controlling and nominating: the nomination again, or nothing once
  /// nominate_tries are used (the session is then done).
  std::optional<punch_send> renominate();

  /// Handles a datagram that came on `socket` from `from`; what must go
  /// out in answer is appended to `out`.
  punch_received on_datagram(size_t socket, const endpoint& from, byte_view bytes,
                             std::vector<punch_send>& out);

  /// A frame on the path: application data, a keepalive, or the close.
  /// errc::pipe_closed while no path is in use (for close: none was ever
  /// chosen), or the seal's error.
  result<punch_send> data(byte_view payload);
  result<punch_send> keepalive();
  /// The close frame on the path in use or nominated (also after the
  /// session is done: the peer may have taken it); errc::pipe_closed when
  /// no path was ever chosen. The session is done afterwards either way.
  result<punch_send> close();

  /// Ends the session without a word (the window passed, the owner left).
  void fail() { phase_ = punch_phase::done; }

  punch_phase phase() const { return phase_; }
  /// The path in use, or nominated.
  const std::optional<punch_path>& path() const { return path_; }
  const seal_counters& counters() const { return seal_.counters(); }
  size_t probes_sent() const { return probes_; }
  size_t rounds() const { return rounds_; }
  uint32_t nominations() const { return nominations_; }
  /// Authentic datagrams received, and how many of them were probe_acks.
  uint64_t authentic() const { return authentic_; }
  uint64_t acks() const { return acks_; }
  /// Authentic frames ignored (punch_received::stray).
  uint64_t stray() const { return stray_; }
  const punch_config& config() const { return cfg_; }

  /// What the punch did, for an error: "12 probes in 3 rounds from 1
  /// socket to 2 endpoints; no authentic datagram came (...)".
  std::string summary() const;

private:
  punch_session(datagram_seal seal, punch_config cfg);

  // Seals `kind` to `to` from `socket` into `out`; false if sealing failed.
  bool emit(std::vector<punch_send>& out, size_t socket, const endpoint& to, frame_kind kind,
            byte_view payload = {});
  bool emit_probe(std::vector<punch_send>& out, size_t socket, const endpoint& to);
  result<punch_send> on_path(frame_kind kind, byte_view payload);
  void handle_probing(const punch_path& via, const frame& f, punch_received& r,
                      std::vector<punch_send>& out);
  void handle_open(const punch_path& via, const frame& f, punch_received& r,
                   std::vector<punch_send>& out);

  datagram_seal seal_;
  punch_config cfg_;
  punch_phase phase_ = punch_phase::probing;
  std::optional<punch_path> path_;
  std::set<punch_path> triggered_;
  size_t probes_ = 0;
  size_t rounds_ = 0;
  uint32_t nominations_ = 0;
  uint64_t authentic_ = 0;
  uint64_t acks_ = 0;
  uint64_t stray_ = 0;
};

} // namespace p2pd::net
