#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "caf/actor_system.hpp"
#include "caf/allowed_unsafe_message_type.hpp"
#include "caf/expected.hpp"
#include "caf/replies_to.hpp"
#include "caf/timespan.hpp"
#include "caf/typed_actor.hpp"

#include "p2pd/actors/common/timeouts.hpp"
#include "p2pd/actors/stack/net_stack.hpp"
#include "p2pd/messages/atoms.hpp"
#include "p2pd/net/names/name_pick.hpp"
#include "p2pd/net/util/server_list.hpp"
#include "p2pd/proto/names_codec.hpp"

// The client side of the name service (issue 16), as an actor: it asks
// every name server at once through pipes of its stack and trusts only
// signatures. The node owns one; api/names.hpp's blocking calls spawn one
// per call.

namespace p2pd {

/// A name server as a client sees it.
struct name_server_addr {
  net::protocol proto = net::protocol::udp;
  endpoint ep;
};

/// One server's answer to a request, or why there was none (the request
/// could not be sent, no answer within the timeout, an answer that did not
/// decode or answered another request).
struct name_reply {
  name_reply(name_server_addr s, caf::error why) : server(s), answer(std::move(why)) {}
  name_server_addr server;
  caf::expected<wire::names::response> answer;
};

/// What a put or a deletion did.
struct name_publish {
  size_t stored = 0; ///< servers that answered ok
  std::vector<name_reply> replies;
};

/// What a lookup found, and how far the servers agreed.
struct name_lookup {
  /// The newest live record whose signature checks, from any server: where
  /// servers disagree, the newest valid version wins (pick_newest).
  std::optional<net::names::name_record> record;
  /// No `record`, and the name was deleted: the newest valid tombstone its
  /// owner signed, which some server served (pick_newest).
  std::optional<net::names::name_record> deleted;
  size_t answered = 0;  ///< servers that answered at all
  size_t forged = 0;    ///< records refused: their signature did not check
  /// Live records left out for a newer tombstone of their owner: servers
  /// that missed a deletion.
  size_t overridden = 0;
  /// Servers that sent exactly `record` (or, deleted, exactly `deleted`).
  size_t agreed = 0;
  /// Servers that sent another valid, live record of the name: an older
  /// version (a server that missed an update), or one of another key (a
  /// server that never saw the holder's record).
  size_t disagreed = 0;
  std::vector<name_reply> replies;
};

/// A lookup as the client actor takes it.
struct name_query {
  std::string name;
  /// Only records of this key count (pick_newest's `owner`).
  std::optional<net::names::owner_key> owner;
  /// Unix seconds to judge expiry at; default: the stack's clock.
  std::optional<int64_t> now_s;
};

/// What a name client asks and how.
struct name_client_spec {
  /// Servers asked as they are.
  std::vector<name_server_addr> servers;
  /// Server-file lines (kind name; add_name_servers): resolved once, on the
  /// first request, as a blocking job within dns_timeout, and asked over TCP.
  std::vector<net::server_entry> entries;
  caf::timespan dns_timeout = timeouts::dns;
  /// How long a request waits for the servers in all (their waits overlap).
  /// UDP requests are sent once: a lost one is a server that did not answer.
  caf::timespan timeout = std::chrono::seconds(5);
  /// Every pipe and the clock. Null: os_stack().
  stack_ptr stack;
};

/// A name client. Requests answer once every server answered or the
/// timeout passed; they never fail (a server that did not answer is a
/// reply's error).
/// - ask (request): every server's raw answer to `request`.
/// - put (record): sends it to every server: a put, or a deletion for a
///   record marked deleted.
/// - lookup (query): the newest live record whose signature checks, or
///   the tombstone that says the name was deleted; an invalid name answers
///   with errc::invalid_argument. Records come from "ok" answers, and
///   tombstones also from "not_found" ones (a server serves a deletion's
///   tombstone that way, which clients before it read as not found).
using name_client_actor = caf::typed_actor<
  caf::replies_to<name_ask_atom, wire::names::request>::with<std::vector<name_reply>>,
  caf::replies_to<name_put_atom, net::names::name_record>::with<name_publish>,
  caf::replies_to<name_lookup_atom, name_query>::with<name_lookup>>;

/// Spawns a name client for `spec`.
name_client_actor spawn_name_client(caf::actor_system& sys, name_client_spec spec);

/// The name entries of a server file (net/util/server_list.hpp), for
/// name_client_spec::entries.
std::vector<net::server_entry> name_entries_of(const std::vector<net::server_entry>& list);

/// Decides a lookup from the servers' replies at `now_s` (the client
/// actor's last step, pure): pick_newest over every record that came, then
/// how many servers agreed with the pick.
name_lookup decide_lookup(const name_query& q, std::vector<name_reply> replies, int64_t now_s);

} // namespace p2pd

// Messages of this process only: the client and its requesters are local.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(p2pd::wire::names::request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(p2pd::wire::names::response)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(p2pd::net::names::name_record)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(p2pd::name_query)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(p2pd::name_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<p2pd::name_reply>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(p2pd::name_publish)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(p2pd::name_lookup)
