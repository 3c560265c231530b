#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "caf/error.hpp"
#include "caf/timespan.hpp"

#include "p2pd/actors/pipe/pipe_spec.hpp"
#include "p2pd/actors/stack/net_stack.hpp"
#include "p2pd/actors/stun/stun_timing.hpp"
#include "p2pd/messages/pipe.hpp"
#include "p2pd/net/util/server_list.hpp"

namespace p2pd {

/// A TURN server and our account on it.
struct turn_server {
  endpoint server; ///< an IP literal and port (a name is resolved by the caller)
  /// How we reach it: UDP, or TCP (RFC 8656 §3.1: for networks that block
  /// UDP; the relayed address is UDP either way).
  net::protocol transport = net::protocol::udp;
  /// Long-term credentials (RFC 8489 §9.2); printable ASCII (see stun_key).
  std::string username;
  std::string password;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, turn_server& x) {
  return f(caf::meta::type_name("p2pd::turn_server"), x.server, x.transport, x.username,
           x.password);
}

/// What spawn_turn_pipe() allocates and how it behaves.
struct turn_pipe_spec {
  turn_server server;
  /// The relayed address's family (IPv6: RFC 6156).
  net::family relay_family = net::family::v4;
  /// The allocation lifetime asked for, in seconds; the server may cut it.
  uint32_t lifetime_s = 600;
  /// Our socket toward the server. Default: the any-address of the
  /// server's family on a free port.
  std::optional<endpoint> local;
  /// UDP retransmission of requests to the server (and the TCP wait).
  stun_timing timing = rfc8489_stun_timing();
  /// Permissions and channels are refreshed this often (they last 300 and
  /// 600 s on the server).
  caf::timespan permission_refresh = std::chrono::seconds(240);
  /// After a lost allocation, the first new Allocate waits this long, then
  /// twice as long each time up to realloc_max.
  caf::timespan realloc_backoff = std::chrono::milliseconds(500);
  caf::timespan realloc_max = std::chrono::seconds(30);
  /// Peers (channels) at most, and datagrams waiting for a peer's channel.
  size_t max_peers = 256;
  size_t max_waiting = 16;
  /// max_qsize bounds the receive queues and the datagrams waiting in the
  /// pipe's mailbox; reader_limit the datagrams read from the server.
  net_conf conf;
  std::vector<subscriber> subscribers;
  /// Runs for each datagram from a peer, in the TURN pipe (not on the I/O
  /// thread); io.send goes through the relay.
  msg_handler on_msg;
  /// The network the socket to the server is opened on (default os_stack()).
  stack_ptr stack;

  /// errc::invalid_argument, saying what, for a spec that cannot work.
  caf::error check() const;
};

/// The checks both TURN actors' specs make of the account, the local
/// address, the lifetime and the permission refresh: errc::invalid_argument
/// saying what, prefixed by `who`.
caf::error check_turn_account(const char* who, const turn_server& server,
                              std::optional<net::family> local_fam, uint32_t lifetime_s,
                              caf::timespan permission_refresh);

/// Cuts a stream from a TURN server into STUN messages and ChannelData
/// (turn_stream_frame_size).
framer_fn turn_stream_framer();

/// The turn lines of a server file that name an IP literal and carry
/// credentials, as turn_server values (UDP). Lines with a host name or no
/// credentials are skipped and said in `skipped` ("line 4: turn
/// relay.example:3478: a host name; give an IP literal"): a node does not
/// resolve names for its relays.
std::vector<turn_server> turn_servers_of(const std::vector<net::server_entry>& list,
                                         std::vector<std::string>* skipped = nullptr);

} // namespace p2pd
