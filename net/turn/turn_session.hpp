#pragma once

// A TURN client allocation as a state machine without I/O (RFC 8656, long-
// term credentials of RFC 8489 §9.2, RFC 6156 for IPv6 relays). The caller
// owns the transport to the server: it passes in what the server sent and
// the time, and sends what take_output() gives it, and it wakes the session
// at next_tick(). So the same code runs on CAF's multiplexer, in a
// simulated network, and in unit tests that play the server byte by byte.
//
// What the session does by itself:
// - Allocate, answered by 401 (REALM, NONCE): signed again; 438 (stale
//   nonce): signed again with the new nonce, everywhere, at most 3 times a
//   request;
// - Refresh before the allocation's lifetime ends (a minute before, or at
//   half of a short lifetime);
// - a ChannelBind for each peer it sends to, which installs the permission
//   too; data waits for it (bounded, the overflow counted) and then goes as
//   ChannelData; both refreshed every permission_refresh;
// - CreatePermission for peers that only send to us (permit());
// - a Refresh answered by 437, or not answered at all, means the allocation
//   is lost (server restarted or gone): a `lost` event, then a new Allocate
//   with backoff, the channels and permissions made again, and `allocated`
//   with the new relayed address;
// - close(): Refresh with LIFETIME 0, then `closed`.
// A TCP allocation (allocate.relay_transport = tcp, RFC 6062; the
// connection to the server must be a stream) has no channels: connect()
// asks the server to open a connection to a peer (`connected` with its
// CONNECTION-ID, or `connect_failed`), and a peer's connection to the
// relayed address is told as `connection_attempt`; either is then bound on
// a new connection to the server (turn_tcp.hpp, with auth()).
// Responses are matched by transaction id and, once signed, must carry a
// MESSAGE-INTEGRITY that checks with our key: others are refused and
// counted.

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "p2pd/net/addr/address.hpp"
#include "p2pd/net/error.hpp"
#include "p2pd/net/turn/turn_requests.hpp"

namespace p2pd::net {

using turn_clock = std::chrono::steady_clock;
using turn_time = turn_clock::time_point;

/// What a TURN client asks for and how it waits.
struct turn_config {
  endpoint server; ///< for messages only: the caller owns the transport
  std::string username;
  std::string password;
  /// A stream (TCP or TLS) to the server: a request is sent once and
  /// waited for stream_timeout; ChannelData is padded to 4 bytes.
  bool stream = false;
  turn_allocate_params allocate;
  /// UDP retransmission (RFC 8489 §6.2.1): sends at 0, rto, 3 rto, ...
  /// max_sends times, then a last wait of last_wait_factor x rto.
  std::chrono::milliseconds rto{500};
  uint32_t max_sends = 7;
  uint32_t last_wait_factor = 16;
  std::chrono::milliseconds stream_timeout{39500};
  /// Permissions last 300 s and channels 600 s (RFC 8656 §9, §12); both
  /// are refreshed this often. A server configured shorter needs less.
  std::chrono::milliseconds permission_refresh{240000};
  /// After a lost allocation, the first new Allocate waits this long, then
  /// twice as long each time, up to realloc_max.
  std::chrono::milliseconds realloc_backoff{500};
  std::chrono::milliseconds realloc_max{30000};
  /// Peers (channels) at most; sends to more are refused.
  size_t max_peers = 256;
  /// Datagrams that wait for a peer's channel at most; more are dropped.
  size_t max_waiting = 16;
  std::string software = "p2pd";
};

enum class turn_state : uint8_t {
  idle,       ///< not started
  allocating, ///< the first Allocate (or a new one after a loss) is out
  allocated,  ///< the relayed address is ours
  failed,     ///< the server refused or never answered; nothing more happens
  closing,    ///< the deleting Refresh is out
  closed,
};
const char* to_string(turn_state x);

/// What the caller hears about.
struct turn_event {
  enum class kind : uint8_t {
    allocated,         ///< a relayed address (again, after a loss: maybe another)
    lost,              ///< the allocation is gone (err says why); a new one follows
    failed,            ///< no allocation, and none will be tried (err says why)
    permission_failed, ///< the server refused a peer (err says why)
    permitted,         ///< the server installed (or refreshed) `peer`'s IP permission
    closed,            ///< close() is done
    // TCP allocations (RFC 6062)
    connected,          ///< connect(`peer`) answered: `connection_id`, for the tag
    connect_failed,     ///< connect(`peer`) refused (err says why), for the tag
    connection_attempt, ///< `peer` connected to the relayed address: `connection_id`
  };
  kind what = kind::allocated;
  error err;
  endpoint peer; ///< permission_failed, connect's, connection_attempt
  uint32_t connection_id = 0;
  uint64_t tag = 0; ///< connect()'s
};

/// A received frame: refused (and counted), control only, or data from a
/// peer.
struct turn_received {
  error refused;
  std::optional<endpoint> peer;
  /// ChannelData: a view into the caller's buffer.
  const uint8_t* view = nullptr;
  size_t size = 0;
  /// A Data indication's DATA (the slow path, before a channel is bound).
  std::vector<uint8_t> owned;
  const uint8_t* data() const { return view != nullptr ? view : owned.data(); }
};

/// What the session threw away or resent, for the caller's stats.
struct turn_counters {
  uint64_t malformed = 0;       ///< frames that decode as nothing
  uint64_t forged = 0;          ///< responses whose integrity does not check
  uint64_t not_for_us = 0;      ///< responses to no request of ours
  uint64_t unknown_channel = 0; ///< ChannelData on a channel we did not bind
  uint64_t waiting_dropped = 0; ///< data dropped while its channel was not bound
  uint64_t retransmits = 0;
  uint64_t allocations = 0;     ///< successful Allocates, the first included
  uint64_t attempts = 0;        ///< ConnectionAttempt indications (TCP allocations)
};

/// The allocation.
struct turn_allocation {
  endpoint relayed;
  endpoint mapped; ///< our address as the server sees it (XOR-MAPPED-ADDRESS)
  std::chrono::seconds lifetime{0};
};

class turn_session {
public:
  explicit turn_session(turn_config cfg);

  /// Sends the first Allocate.
  void start(turn_time now);
  /// A frame from the server (one datagram, or one frame cut from a stream
  /// with turn_stream_frame_size).
  turn_received receive(const uint8_t* data, size_t size, turn_time now);
  /// Retransmissions, refreshes, a new Allocate after a loss: call at
  /// next_tick() (early calls do what is due only).
  void tick(turn_time now);
  /// When tick() has something to do; nothing once failed or closed.
  std::optional<turn_time> next_tick() const;

  /// The channel bound to `peer`, if any: the caller frames data for it as
  /// ChannelData itself (encode_channel_data), the fast path.
  std::optional<uint16_t> channel_of(const endpoint& peer) const;
  /// Data for `peer` while its channel is not bound yet: binds it (once) and
  /// keeps the data until then (max_waiting, then dropped and counted).
  /// errc::pipe_closed unless allocated (or re-allocating), errc::queue_full
  /// past max_peers.
  error send(const endpoint& peer, const uint8_t* data, size_t size, turn_time now);
  /// Lets `peer`'s IP send to us (CreatePermission), kept fresh until close.
  error permit(const endpoint& peer, turn_time now);
  /// Whether a CreatePermission for `ip` is out and not answered yet.
  bool permit_pending(const ip_address& ip) const {
    auto i = permits_.find(ip);
    return i != permits_.end() && i->second.pending;
  }
  /// The peers we send to (a channel bound or being bound).
  std::vector<endpoint> peers() const;
  /// Stops sending to `peer` and drops what waits for it; false if unknown.
  /// Its channel stays bound on the server until it expires (TURN has no
  /// unbind), so its number is not given to another peer.
  bool forget(const endpoint& peer);
  /// TCP allocations: asks the server to connect the relayed address to
  /// `peer` (permitting its IP first); `connected` or `connect_failed`
  /// follows with `tag`. errc::invalid_argument on a UDP allocation,
  /// pipe_closed unless allocated, family_unsupported.
  error connect(const endpoint& peer, uint64_t tag, turn_time now);
  /// The long-term credentials in use (after the first 401): what a
  /// ConnectionBind on a data connection is signed with.
  const std::optional<turn_auth>& auth() const { return auth_; }
  bool tcp() const { return cfg_.allocate.relay_transport == protocol::tcp; }
  /// Deletes the allocation (Refresh, LIFETIME 0); `closed` follows.
  void close(turn_time now);

  /// What must go to the server now, in order; empties the queue.
  std::vector<std::vector<uint8_t>> take_output();
  std::vector<turn_event> take_events();

  turn_state state() const { return state_; }
  const std::optional<turn_allocation>& allocation() const { return alloc_; }
  const turn_counters& counters() const { return counters_; }

private:
  enum class txn_kind : uint8_t { allocate, refresh, permission, channel_bind, remove, connect };
  struct txn {
    txn_kind kind;
    std::vector<uint8_t> bytes;
    uint32_t sends = 0;
    uint32_t nonce_retries = 0;
    bool signed_ = false;
    turn_time next_send;
    std::vector<endpoint> peers; ///< permission: the IPs; channel_bind: the peer
    uint16_t channel = 0;
    uint64_t tag = 0; ///< connect
  };
  struct peer_state {
    uint16_t channel = 0;
    bool bound = false;
    bool binding = false;
    turn_time refresh_at;
    std::deque<std::vector<uint8_t>> waiting;
  };
  struct permit_state {
    bool pending = false;
    turn_time refresh_at;
  };

  txn* issue(txn_kind kind, turn_time now, std::vector<endpoint> peers = {},
             uint16_t channel = 0, uint64_t tag = 0);
  result<std::vector<uint8_t>> build(const txn& t, const stun_txid& id) const;
  void transmit(txn& t, turn_time now);
  void reissue(const txn& t, turn_time now);
  bool pending(txn_kind kind) const;
  void on_response(const stun_message& m, turn_time now, turn_received& out);
  void on_success(const txn& t, const stun_message& m, turn_time now);
  void on_error(txn& t, const stun_message& m, turn_time now);
  void on_timeout(const txn& t, turn_time now);
  void on_data_indication(const stun_message& m, turn_received& out);
  void on_connection_attempt(const stun_message& m, turn_received& out);
  void allocated(const stun_message& m, turn_time now);
  void lose(error why, turn_time now);
  /// Tells each Connect under way that it failed for `why`.
  void drop_connects(const error& why);
  void fail(error why);
  void flush(peer_state& p);
  void rebind_all(turn_time now);
  std::chrono::milliseconds last_wait() const;
  std::string server_text() const;

  turn_config cfg_;
  turn_state state_ = turn_state::idle;
  std::optional<turn_auth> auth_;
  std::optional<turn_allocation> alloc_;
  turn_time refresh_at_{};
  std::optional<turn_time> realloc_at_;
  bool alloc_never_ = true; // no Allocate succeeded yet: its failures are final
  std::chrono::milliseconds backoff_{0};
  std::map<std::vector<uint8_t>, txn> txns_; // by transaction id bytes
  std::map<endpoint, peer_state> peers_;
  std::map<uint16_t, endpoint> channels_;
  std::map<ip_address, permit_state> permits_;
  uint16_t next_channel_ = 0x4000;
  std::vector<std::vector<uint8_t>> out_;
  std::vector<turn_event> events_;
  turn_counters counters_;
};

} // namespace p2pd::net
