#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "caf/actor.hpp"

#include "p2pd/messages/pipe.hpp"
#include "p2pd/net/sock/bind_spec.hpp"
#include "p2pd/net/addr/resolver.hpp"
#include "p2pd/net/iface/route.hpp"
#include "p2pd/net/tls/tls_context.hpp"

namespace p2pd {

/// What an inline message handler can do while it runs.
class pipe_io {
public:
  virtual ~pipe_io() = default;
  /// Sends to the sender of the message being handled.
  virtual caf::error reply(std::string_view data) = 0;
  /// Sends to `to` (UDP) or to that client (TCP server).
  virtual caf::error send(std::string_view data, const endpoint& to) = 0;
  /// The pipe the message arrived on.
  virtual const pipe_actor& pipe() const = 0;
};

/// A message handler that runs inside the pipe, on the I/O thread, as each
/// message arrives (the seed's msg_cb without a hop to another actor). It
/// must not block: a blocking handler stalls every socket of the system.
using msg_handler = std::function<void(pipe_io& io, std::string_view data,
                                       const endpoint& from)>;

/// Cuts a TCP byte stream into messages, so that a handler and subscribers
/// get whole ones. Given the bytes buffered so far, which begin a message,
/// it returns that message's size (it may be more than is buffered), 0 while
/// too few bytes have come to tell, or an error when they cannot begin a
/// message: the connection is then reset and counted as malformed. Messages
/// above net_conf::reader_limit are refused the same way, and a server
/// resets a client whose message is not whole within net_conf::msg_deadline.
using framer_fn = std::function<net::result<size_t>(std::string_view buffered)>;

/// A framer told which connection's bytes it cuts (pipe_spec::peer_framer):
/// for a server whose connections change framing as they go (TURN's client
/// data connections carry raw bytes once bound, RFC 6062).
using peer_framer_fn =
  std::function<net::result<size_t>(const endpoint& peer, std::string_view buffered)>;

/// Resolves host names; blocking, so pipes call it off the I/O thread.
using resolver_fn = std::function<net::result<std::vector<net::ip_address>>(
  const std::string& host, std::optional<net::family> fam)>;

/// An actor that gets a pipe's events from the start (the seed's msg_cb,
/// up_cb and end_cb registered before a server starts).
struct subscriber {
  caf::actor hdl;
  uint8_t events = events::all;
};

/// Adds `sub` with `evs` to `subs`, or sets its events if it is there
/// already (a second subscribe changes what it gets). True when it was
/// added: the pipe then monitors it, to drop it when it ends.
bool add_subscriber(std::vector<subscriber>& subs, const caf::actor& sub, uint8_t evs);

/// Removes `sub` from `subs` (nothing if it is not there).
void remove_subscriber(std::vector<subscriber>& subs, const caf::actor& sub);

/// Which end of TLS a pipe's connections are (pipe_spec::tls_as).
enum class tls_role : uint8_t {
  /// The TCP direction decides: a client pipe is the TLS client, a server
  /// pipe's accepted connections are TLS servers.
  by_direction,
  /// Every connection is a TLS client (it sends the ClientHello), also the
  /// ones a server pipe accepts.
  client,
  /// Every connection is a TLS server (it waits for the ClientHello), also a
  /// client pipe's.
  server,
};

/// An exchange a TCP client pipe makes before anything else on its
/// connection, TLS included: `request` goes out once connected, and
/// `answer` is given what has arrived (from its start) until it takes it.
/// It returns the answer's size (the bytes after it are the stream's: they
/// reach TLS, the framer or the handler as if they had come later), 0 while
/// the answer is not whole, or an error, which fails the open. The answer
/// must come within conf.con_timeout and fit in conf.reader_limit. Made
/// for TURN's ConnectionBind (RFC 6062), after which a connection to the
/// TURN server carries a peer's stream.
struct pipe_preamble {
  std::string request;
  framer_fn answer;
};

/// Everything needed to open a pipe.
struct pipe_spec {
  net::protocol proto = net::protocol::tcp;

  /// Client pipes: the destination, a host name or an IP literal, and port.
  /// Empty host: a server pipe.
  std::string host;
  uint16_t port = 0;
  /// Only addresses of this family are used for `host`.
  std::optional<net::family> fam;

  /// The local address to bind; port 0 takes a free port. Default: servers
  /// bind 127.0.0.1 (nothing listens beyond what the user asked), clients the
  /// any-address of the destination's family.
  std::optional<endpoint> local;
  /// Or bind on a route: `bind` picks the address (default: the route's
  /// first NIC address; a link-local one gets the interface's scope id).
  /// Without a route, `bind` alone resolves any-address, loopback or an IP.
  std::optional<net::route> route;
  std::optional<net::bind_spec> bind;

  /// Adopt an existing socket instead: a listening TCP socket (server), a
  /// connected TCP socket (client), or a bound UDP socket (a server; with
  /// host/port set, a client with that default destination).
  int adopt_fd = -1;

  net_conf conf;
  /// TLS settings; setting them turns TLS on (as conf.use_ssl does with the
  /// defaults: a client that verifies against the system's CAs and `host`).
  std::optional<net::tls_config> tls;
  /// A ready TLS context instead of `tls` (turns TLS on too): one shared by
  /// many pipes, such as a node's (tls_context::make_node), whose sessions
  /// then report the peer's node id (pipe_up::peer_node, pipe_info::peer_node).
  std::shared_ptr<net::tls_context> tls_context;
  /// With a node TLS context: the node the peer must be, checked on every
  /// connection whichever TLS end it is; the handshake fails with
  /// errc::tls_verify_failed otherwise (a client pipe's open fails, a
  /// server's connection ends with that reason and is never up).
  std::optional<net::node_id> expect_node;
  /// Which TLS end the connections are. By default the TCP direction
  /// decides, and a tls_context of the other end is refused. TCP hole
  /// punching needs the end chosen apart from the direction: in a
  /// simultaneous open both sides connect, and a side that listens while it
  /// connects may get the peer's connection on its listener instead; so both
  /// sides pick their ends by a rule of their own (node id order) and set
  /// client or server here, with a tls_context (or tls) for that end. The
  /// TLS server waits for the ClientHello; a pipe is open, and a server's
  /// connection up, only once the handshake is done, whichever end it is.
  tls_role tls_as = tls_role::by_direction;
  /// TCP servers: close the listening socket once a connection is up (its
  /// TLS handshake done), keeping the connections; the pipe then ends with
  /// its last connection. For connect-while-listening (hole punching): the
  /// listener is there to catch the peer's SYN, and the connection kept must
  /// not leave a listener on the port behind it.
  bool listen_until_up = false;
  /// TCP only: every message travels behind its length (a u32, big-endian;
  /// net/util/length_prefix.hpp). Sends are framed, and received frames are
  /// delivered without the prefix, one message each; a frame above
  /// reader_limit - 4 bytes is malformed. Replaces `framer`.
  bool length_prefixed = false;
  std::vector<subscriber> subscribers;
  msg_handler on_msg;
  /// TCP only. Unset, each read is delivered as it came (a stream has no
  /// message boundaries of its own).
  framer_fn framer;
  /// TCP only: a framer that is also told the connection; replaces `framer`
  /// when set. It runs on the I/O thread, as `framer` does.
  peer_framer_fn peer_framer;
  /// Default: net::resolve_host.
  resolver_fn resolver;
  /// TCP clients: an exchange before the stream is the pipe's (see
  /// pipe_preamble). Such a pipe also tells its subscribers pipe_up once
  /// its connection is ready (after TLS), as a server does for a
  /// connection it accepted: what it carries was usually opened by a peer
  /// (a relay hands it on), and a subscriber that takes connections as its
  /// listener's handles it the same way.
  std::optional<pipe_preamble> preamble;

  bool is_client() const { return !host.empty(); }
  /// Whether the connections are TLS servers (tls_as, else the direction).
  bool tls_server() const {
    return tls_as == tls_role::by_direction ? !is_client() : tls_as == tls_role::server;
  }
  bool use_tls() const { return conf.use_ssl || tls.has_value() || tls_context != nullptr; }
};

/// A TCP or UDP server spec bound to `local`.
pipe_spec server_spec(net::protocol proto, endpoint local, msg_handler on_msg = {});

/// A TCP or UDP client spec toward host:port.
pipe_spec client_spec(net::protocol proto, std::string host, uint16_t port);

} // namespace p2pd
