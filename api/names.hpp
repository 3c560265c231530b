#pragma once

#include <optional>
#include <string>
#include <vector>

#include "caf/actor.hpp"
#include "caf/expected.hpp"
#include "caf/timespan.hpp"

#include "p2pd/actors/names/name_client.hpp"
#include "p2pd/actors/names/name_server.hpp"
#include "p2pd/api/runtime.hpp"
#include "p2pd/net/names/name_pick.hpp"
#include "p2pd/proto/names_codec.hpp"

namespace p2pd {

// The name service from code outside actors (issue 16): a server on a
// daemon's listeners, and blocking calls over the client actor
// (actors/names/name_client.hpp), one spawned per call, which asks several
// servers at once and trusts only signatures.

/// A running name server: its actor and the daemon whose listeners feed it.
struct name_server_handle {
  caf::actor server;
  std::shared_ptr<daemon_handle> daemon;
  std::vector<listener_info> listeners;
};

/// Spawns a name server and a daemon (`base` for its options) listening
/// on `addrs` (UDP and/or TCP; port 0: a free port). Both belong to `rt`.
/// Errors: spawn_name_server's, the daemon's (a port in use).
caf::expected<name_server_handle> start_name_server(runtime& rt, name_server_spec spec,
                                                    const std::vector<listen_addr>& addrs,
                                                    daemon_spec base = {});

/// Sends `req` to every server at once and waits at most `timeout` for
/// each answer (the waits overlap: about `timeout` in all). UDP requests are
/// sent once: a lost one is a server that did not answer.
std::vector<name_reply> ask_name_servers(runtime& rt, const std::vector<name_server_addr>& servers,
                                         const wire::names::request& req, caf::timespan timeout);

/// Sends `r` to every server: a put, or a deletion for a record marked
/// deleted. A server that refuses says why in its reply (taken,
/// stale_version, ...). Errors: none; a record the codec refuses is every
/// reply's error.
name_publish publish_name(runtime& rt, const std::vector<name_server_addr>& servers,
                          const net::names::name_record& r, caf::timespan timeout);

/// Looks `name` up on every server and keeps the newest record whose
/// signature checks (net::names::pick_newest): a lying server can hide a
/// record or serve an old one, but not forge one. A valid tombstone hides
/// its owner's older records; with none left, `deleted` says the owner
/// deleted the name. `now_s`: Unix seconds
/// (default: the system clock). `owner`: only records of that key count
/// (see pick_newest). Errors: an invalid name (errc::invalid_argument).
caf::expected<name_lookup> lookup_name(runtime& rt, const std::vector<name_server_addr>& servers,
                                       const std::string& name, caf::timespan timeout,
                                       std::optional<int64_t> now_s = std::nullopt,
                                       std::optional<net::names::owner_key> owner = std::nullopt);

} // namespace p2pd
