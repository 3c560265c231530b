// Names (issue 16): the node registers the names it holds with its key as
// owner and its peer address as value, keeps them current, deletes and looks
// names up through its name client, and connects by name.
#include "p2pd/net/util/digits.hpp"
#include "p2pd/node/node_state.hpp"

#include <algorithm>

#include "caf/send.hpp"

#include "p2pd/actors/common/timeouts.hpp"
#include "p2pd/actors/common/weak_timer.hpp"
#include "p2pd/messages/errors.hpp"
#include "p2pd/net/names/name_record.hpp"
#include "p2pd/net/names/name_rules.hpp"

namespace p2pd {

void add_name_servers(node_spec& spec, const std::vector<net::server_entry>& list) {
  auto names = name_entries_of(list);
  spec.name_server_entries.insert(spec.name_server_entries.end(), names.begin(), names.end());
}

} // namespace p2pd

namespace p2pd::node {

namespace {

namespace nn = net::names;

// A version above `last`, above every version this node signed (a name
// deleted keeps no `last`, and its tombstone's version must be passed), and
// above every version signed before now (the CLI's rule too: microseconds
// of Unix time), so that a node restarted without its state still
// outranks its earlier records.
uint64_t next_version(node_state& st, uint64_t last) {
  auto now = static_cast<uint64_t>(st.now_ms()) * 1000;
  st.name_version = std::max({last + 1, st.name_version + 1, now});
  return st.name_version;
}

caf::timespan refresh_interval(const node_spec& spec) {
  if (spec.name_refresh.count() > 0)
    return spec.name_refresh;
  return std::chrono::seconds(spec.name_expiry_s) / 2;
}

// A publish that some server did not store is sent again this soon (or at
// the refresh interval, if sooner): a node that started before its name
// servers does not wait half an expiry to be found.
constexpr caf::timespan name_retry = std::chrono::seconds(30);

// How long the node waits for its name client: the client answers within
// its own timeout (plus a server file's name resolution the first time);
// past that it is gone, and the request must not wait for ever.
caf::timespan name_wait(const node_state& st) {
  return st.spec.name_timeout + timeouts::dns + timeouts::call_margin;
}

caf::error node_closing() {
  return make_error(errc::pipe_closed, "the node is closing");
}

caf::error no_name_servers(const std::string& what) {
  return make_error(errc::invalid_argument,
                    what + ": this node has no name servers (node_spec::name_servers, or a server "
                           "file's 'name host:port' lines: add_name_servers)");
}

std::string servers_said(const name_publish& p) {
  return std::to_string(p.stored) + " of " + std::to_string(p.replies.size()) + " name servers";
}

// Why no server stored a record: each server's refusal or silence.
std::string refusals(const name_publish& p) {
  std::string out;
  for (const auto& r : p.replies) {
    out += out.empty() ? "" : "; ";
    out += r.server.ep.to_string() + ": ";
    if (!r.answer)
      out += render(r.answer.error());
    else
      out += std::string{nn::to_string(r.answer->code)}
             + (r.answer->detail.empty() ? "" : " (" + r.answer->detail + ")");
  }
  return out;
}

void arm_refresh(node_actor_ptr self, const std::string& name, held_name& h, bool all_stored) {
  if (h.timer)
    self->send_exit(h.timer, caf::exit_reason::user_shutdown);
  auto after = refresh_interval(self->state.spec);
  if (!all_stored)
    after = std::min(after, name_retry);
  h.timer = actors::start_weak_timer(self->home_system(), caf::weak_actor_ptr{self->ctrl()}, after,
                                     caf::make_message(name_refresh_atom::value, name,
                                                       h.generation));
}

// Signs `name` -> our address and sends it to every server; `rp` (if
// valid) gets what the servers said. The refresh timer is armed again
// whatever they said: a server that was down gets the record then (within
// name_retry).
void publish_held(node_actor_ptr self, const std::string& name, caf::response_promise rp) {
  auto& st = self->state;
  auto& h = st.held[name];
  ++h.generation;
  h.version = next_version(st, h.version);
  auto gen = h.generation;
  auto record = nn::make_record(*st.me, name,
                                std::vector<uint8_t>(st.address_text.begin(), st.address_text.end()),
                                h.version, st.now_ms() / 1000, st.spec.name_expiry_s);
  self->request(st.names, name_wait(st), name_put_atom::value, std::move(record))
    .then(
      [=](name_publish& p) mutable {
        auto& st = self->state;
        auto i = st.held.find(name);
        if (i != st.held.end() && i->second.generation == gen) {
          st.progress(p.stored == 0 ? "name " + name + " not registered: " + refusals(p)
                                    : "name " + name + " registered on " + servers_said(p));
          arm_refresh(self, name, i->second, p.stored == p.replies.size());
        }
        if (rp.pending())
          rp.deliver(std::move(p));
      },
      [=](caf::error& err) mutable {
        // Tried again soon: a name left without its timer would expire.
        auto& st = self->state;
        auto i = st.held.find(name);
        if (i != st.held.end() && i->second.generation == gen && !st.life.closing()) {
          st.progress("name " + name + " not registered: " + render(err));
          arm_refresh(self, name, i->second, false);
        }
        if (rp.pending())
          rp.deliver(std::move(err));
      });
}

} // namespace

void start_names(node_actor_ptr self) {
  auto& st = self->state;
  if (st.spec.name_servers.empty() && st.spec.name_server_entries.empty()) {
    if (!st.spec.names.empty())
      st.progress("names: " + std::to_string(st.spec.names.size())
                  + " names held but no name servers: none registered");
    return;
  }
  name_client_spec cs;
  cs.servers = st.spec.name_servers;
  cs.entries = st.spec.name_server_entries;
  cs.timeout = st.spec.name_timeout;
  cs.stack = st.spec.stack;
  st.names = spawn_name_client(self->home_system(), std::move(cs));
  nn::rules_config rules;
  for (const auto& n : st.spec.names) {
    if (auto err = nn::check_name(n)) {
      st.progress("name " + n + " not registered: " + err.what);
      continue;
    }
    if (st.held.size() >= rules.max_names_per_key) {
      st.progress("name " + n + " not registered: a key holds at most "
                  + std::to_string(rules.max_names_per_key) + " names");
      continue;
    }
    st.held[n];
  }
}

void keep_names_current(node_actor_ptr self) {
  auto& st = self->state;
  if (!st.names || !st.listening || st.held.empty() || st.life.closing())
    return;
  if (st.names_published && st.address.routes == st.names_routes
      && st.address.channels == st.names_channels)
    return;
  if (st.names_published)
    st.progress("names: the address changed; publishing " + std::to_string(st.held.size())
                + " names again");
  st.names_published = true;
  st.names_routes = st.address.routes;
  st.names_channels = st.address.channels;
  for (auto& kvp : st.held)
    publish_held(self, kvp.first, caf::response_promise{});
}

void on_name_refresh(node_actor_ptr self, const std::string& name, uint64_t generation) {
  auto& st = self->state;
  auto i = st.held.find(name);
  if (!st.names || st.life.closing() || i == st.held.end() || i->second.generation != generation)
    return;
  i->second.timer = nullptr; // it fired and ended
  publish_held(self, name, caf::response_promise{});
}

void register_name(node_actor_ptr self, const std::string& name, caf::response_promise rp) {
  auto& st = self->state;
  if (st.life.closing())
    return rp.deliver(node_closing()), void();
  if (!st.names)
    return rp.deliver(no_name_servers("register " + name)), void();
  if (auto err = nn::check_name(name))
    return rp.deliver(make_error(err.code, err.what)), void();
  nn::rules_config rules;
  if (st.held.count(name) == 0 && st.held.size() >= rules.max_names_per_key)
    return rp.deliver(make_error(errc::invalid_argument,
                                 "register " + name + ": this node holds "
                                   + std::to_string(st.held.size())
                                   + " names, the most one key may")),
           void();
  publish_held(self, name, std::move(rp));
}

void delete_name(node_actor_ptr self, const std::string& name, caf::response_promise rp) {
  auto& st = self->state;
  if (st.life.closing())
    return rp.deliver(node_closing()), void();
  if (!st.names)
    return rp.deliver(no_name_servers("delete " + name)), void();
  if (auto err = nn::check_name(name))
    return rp.deliver(make_error(err.code, err.what)), void();
  uint64_t last = 0;
  if (auto i = st.held.find(name); i != st.held.end()) {
    last = i->second.version;
    if (i->second.timer)
      self->send_exit(i->second.timer, caf::exit_reason::user_shutdown);
    st.held.erase(i); // no longer kept current: a late answer finds nothing
  }
  auto tombstone = nn::make_record(*st.me, name, {}, next_version(st, last), st.now_ms() / 1000,
                                   st.spec.name_expiry_s, true);
  self->request(st.names, name_wait(st), name_put_atom::value, std::move(tombstone))
    .then(
      [=](name_publish& p) mutable {
        self->state.progress("name " + name + " deleted on " + servers_said(p));
        rp.deliver(std::move(p));
      },
      [=](caf::error& err) mutable { rp.deliver(std::move(err)); });
}

void lookup_for(node_actor_ptr self, const std::string& name, caf::response_promise rp) {
  auto& st = self->state;
  if (st.life.closing())
    return rp.deliver(node_closing()), void();
  if (!st.names)
    return rp.deliver(no_name_servers("lookup " + name)), void();
  self->request(st.names, name_wait(st), name_lookup_atom::value, name_query{name, {}, {}})
    .then([=](name_lookup& l) mutable { rp.deliver(std::move(l)); },
          [=](caf::error& err) mutable { rp.deliver(std::move(err)); });
}

void connect_by_name(node_actor_ptr self, const std::string& name, connect_options opts,
                     caf::response_promise rp) {
  auto& st = self->state;
  if (st.life.closing())
    return rp.deliver(node_closing()), void();
  if (!st.names) {
    auto err = no_name_servers("'" + name + "' is no peer address, and looking it up failed");
    st.refuse(&node_stats::refused_addresses, "address", "", err);
    return rp.deliver(std::move(err)), void();
  }
  auto started = self->clock().now();
  self->request(st.names, name_wait(st), name_lookup_atom::value, name_query{name, {}, {}})
    .then(
      [=](name_lookup& found) mutable {
        auto& st = self->state;
        if (st.life.closing()) // close_node answered the jobs; this one must not start
          return rp.deliver(node_closing()), void();
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(self->clock().now()
                                                                        - started)
                    .count();
        auto asked = std::to_string(found.replies.size()) + " name servers";
        if (!found.record && found.deleted)
          return rp.deliver(make_error(errc::resolve_failed,
                                       "'" + name + "' was deleted by the holder of key "
                                         + net::to_hex(found.deleted->owner.data(), 8) + " (version "
                                         + std::to_string(found.deleted->version) + ", from "
                                         + std::to_string(found.agreed) + " of " + asked + ")")),
                 void();
        if (!found.record)
          return rp.deliver(make_error(
                   errc::resolve_failed,
                   "no valid record of '" + name + "': "
                     + (found.answered == 0 ? "none of the " + asked + " answered"
                                            : std::to_string(found.answered) + " of " + asked
                                                + " answered, " + std::to_string(found.forged)
                                                + " forged records refused"))),
                 void();
        const auto& r = *found.record;
        auto peer = parse_peer_address(std::string(r.value.begin(), r.value.end()));
        if (!peer) {
          auto err = make_error(peer.error().code, "the record of '" + name
                                                     + "' holds no valid peer address: "
                                                     + peer.error().what);
          st.refuse(&node_stats::refused_addresses, "address", "", err);
          return rp.deliver(std::move(err)), void();
        }
        // The address names its node's keys: a record whose owner is another
        // key points the name at a node that never claimed it.
        if (peer->keys.sign != r.owner) {
          auto err = make_error(errc::forged,
                                "the record of '" + name + "' is signed by key "
                                  + nn::to_hex(r.owner.data(), r.owner.size()) + ", not by node "
                                  + peer->id().to_string()
                                  + " whose address it holds: refused");
          st.refuse(&node_stats::refused_addresses, "address", peer->id().to_string(), err);
          return rp.deliver(std::move(err)), void();
        }
        attempt_report lookup;
        lookup.attempt = "name lookup " + name;
        lookup.outcome = "version " + std::to_string(r.version) + " from "
                         + std::to_string(found.agreed) + " of " + asked + " ("
                         + std::to_string(found.answered) + " answered, "
                         + std::to_string(found.disagreed) + " disagreed, "
                         + std::to_string(found.forged) + " forged)";
        lookup.ms = ms;
        connect_peer(self, std::move(*peer), std::move(opts), std::move(rp), {std::move(lookup)},
                     true, started);
      },
      [=](caf::error& err) mutable { rp.deliver(std::move(err)); });
}

void end_names(node_actor_ptr self) {
  auto& st = self->state;
  for (auto& kvp : st.held)
    if (kvp.second.timer) {
      self->send_exit(kvp.second.timer, caf::exit_reason::user_shutdown);
      kvp.second.timer = nullptr;
    }
  if (st.names) {
    self->send_exit(st.names, caf::exit_reason::user_shutdown);
    st.names = nullptr;
  }
}

} // namespace p2pd::node
