#include <cmath>
#include <cstdlib>
#include <utility>

#include "p2pd/messages/errors.hpp"
#include "p2pd/net/http/response.hpp"
#include "p2pd/net/names/name_rules.hpp"
#include "p2pd/node/address/peer_address.hpp"
#include "p2pd/rest/detail/rest_state.hpp"
#include "p2pd/rest/rest_guard.hpp"
#include "p2pd/rest/detail/rest_json.hpp"


// The named connections of the API: open (by address, by a connected
// peer's id, or by a name looked up), send, receive, close, list.

namespace p2pd::rest::detail {

namespace {

using net::http::request;

// A named connection's name: what a URL path segment carries unescaped.
bool valid_name(const std::string& s) {
  if (s.empty() || s.size() > 64)
    return false;
  for (unsigned char c : s)
    if (!(std::isalnum(c) || c == '-' || c == '_' || c == '.'))
      return false;
  return true;
}

json name_json(const state& st, const std::string& name, const named_conn& n) {
  json j = {{"name", name}, {"peer", n.peer}, {"address", n.address}, {"opening", n.opening},
            {"inbound", n.inbound}};
  if (!n.inbound && !n.opening)
    j["report"] = to_json(n.report);
  auto p = st.peers.find(n.peer);
  bool open = false;
  if (p != st.peers.end()) {
    const auto& ps = p->second;
    open = !ps.conns.empty();
    j["msgs_in"] = ps.msgs_in;
    j["bytes_in"] = ps.bytes_in;
    j["msgs_out"] = ps.msgs_out;
    j["bytes_out"] = ps.bytes_out;
    j["buffered"] = ps.inbox.size();
    j["dropped"] = ps.dropped;
  }
  j["open"] = open;
  if (n.inbound || n.opening) {
    j["strategy"] = n.inbound ? json("inbound") : json(nullptr);
  } else {
    j["strategy"] = node::to_string(n.report.how);
    j["path"] = node::to_string(n.report.path);
    j["family"] = net::to_string(n.report.fam);
  }
  return j;
}

// The named connection for a send or receive, or an answer saying why not.
named_conn* usable(server_actor* self, uint64_t id, const std::string& name) {
  auto& st = self->state;
  auto i = st.names.find(name);
  if (i == st.names.end()) {
    fail(self, id, 404, "no connection named '" + name + "'");
    return nullptr;
  }
  if (i->second.opening) {
    fail(self, id, 409, "connection '" + name + "' is still opening");
    return nullptr;
  }
  return &i->second;
}

// Closes the node's connections to `peer`, which a connect made, unless a
// name holds the peer, or any open still runs: the node may answer it with
// the same connection, and an open by name or by address does not say its
// peer until it is answered. (An idle connection left open is cheaper than
// one closed under a client.)
void close_unnamed_peer(server_actor* self, const std::string& peer) {
  auto& st = self->state;
  for (const auto& [n, c] : st.names)
    if (c.peer == peer || c.opening)
      return;
  self->send(st.node, caf::close_atom::value, peer);
}

// A connect by name that found no valid record is the client's 404, one
// to a name on a node without name servers its 400; the rest is the
// peer's or the network's (502).
int connect_failed_status(const caf::error& err) {
  switch (code_of(err)) {
    case errc::resolve_failed: return 404;
    case errc::invalid_argument: return 400;
    default: return 502;
  }
}

} // namespace

void connect_to(server_actor* self, uint64_t id, const std::string& name, std::string address) {
  auto& st = self->state;
  named_conn n;
  n.gen = st.next_id++;
  n.address = address;
  n.opening = true;
  n.opened_ms = st.now_ms();
  auto gen = n.gen;
  st.names[name] = n;
  self->request(st.node, st.spec.limits.connect_timeout, connect_atom::value, address)
    .then(
      [self, id, name, gen](node_connection& c) {
        auto& st = self->state;
        auto i = st.names.find(name);
        if (i == st.names.end() || i->second.gen != gen) {
          // Closed while it opened (and maybe opened again under the name):
          // the connection is nobody's, unless another name holds the peer.
          close_unnamed_peer(self, c.peer);
          return fail(self, id, 410, "connection '" + name + "' was closed while it opened");
        }
        i->second.opening = false;
        i->second.peer = c.peer;
        i->second.report = c.report;
        auto& ps = st.peers[c.peer];
        bool known = false;
        for (const auto& k : ps.conns)
          known = known || (k.pipe == c.pipe && k.remote == c.remote);
        if (!known)
          ps.conns.push_back(c);
        auto j = to_json(c.report);
        j["name"] = name;
        reply(self, id, 200, j);
      },
      [self, id, name, gen](caf::error& err) {
        auto& names = self->state.names;
        auto i = names.find(name);
        if (i == names.end() || i->second.gen != gen)
          return fail(self, id, 410, "connection '" + name + "' was closed while it opened");
        names.erase(i);
        reply(self, id, node_error_status(err, connect_failed_status(err)),
              {{"error", "connect failed: "
                           + node_error_text(err, self->state.spec.limits.connect_timeout)},
               {"name", name}});
      });
}

void post_open(server_actor* self, uint64_t id, const std::string& name, const std::string& to) {
  auto& st = self->state;
  if (!valid_name(name))
    return fail(self, id, 400, "a connection name is 1 to 64 letters, digits, '-', '_' or '.'");
  if (st.names.count(name) > 0)
    return fail(self, id, 409, "a connection named '" + name + "' exists");
  if (st.names.size() >= st.spec.limits.max_names)
    return fail(self, id, 503, "too many named connections (at most "
                                 + std::to_string(st.spec.limits.max_names) + ")");
  if (to.rfind(node::peer_address_prefix, 0) == 0) {
    auto a = node::parse_peer_address(to);
    if (!a)
      return fail(self, id, 400, "not a valid peer address: " + a.error().what);
    return connect_to(self, id, name, to);
  }
  // A peer that connected to us, by its id: bound without a connect.
  auto p = st.peers.find(to);
  if (p != st.peers.end() && !p->second.conns.empty()) {
    named_conn n;
    n.peer = to;
    n.address = to;
    n.opening = false;
    n.inbound = true;
    n.opened_ms = st.now_ms();
    st.names[name] = n;
    return reply(self, id, 200, {{"name", name}, {"peer", to}, {"strategy", "inbound"},
                                 {"remote", p->second.conns.front().remote.to_string()}});
  }
  // A name: the node looks it up on its name servers, checks that the
  // record's owner is the node its address names, asks that node for its
  // current address over signalling, then connects (node_names.cpp).
  if (!net::names::check_name(to))
    return connect_to(self, id, name, to);
  return fail(self, id, 400, "'" + to + "' is not a peer address (p2pd1_...), nor a connected "
                             "peer's id, nor a name");
}

void post_send(server_actor* self, uint64_t id, const std::string& name, std::string body) {
  auto* n = usable(self, id, name);
  if (n == nullptr)
    return;
  auto& st = self->state;
  auto p = st.peers.find(n->peer);
  if (p == st.peers.end() || p->second.conns.empty())
    return fail(self, id, 410, "connection '" + name + "' is closed");
  if (body.empty())
    return fail(self, id, 400, "nothing to send: the body is empty");
  auto size = body.size();
  auto peer = n->peer;
  self->request(st.node, st.spec.limits.node_timeout, send_atom::value, peer,
                bytes(body.begin(), body.end()))
    .then(
      [self, id, name, peer, size](caf::ok_atom) {
        auto p = self->state.peers.find(peer);
        if (p != self->state.peers.end()) {
          ++p->second.msgs_out;
          p->second.bytes_out += size;
        }
        reply(self, id, 200, {{"name", name}, {"sent", size}});
      },
      [self, id, name](caf::error& err) {
        // Above the node's max_message: the client's to fix, not the peer's.
        int status = code_of(err) == errc::message_too_large ? 413 : node_error_status(err, 502);
        reply(self, id, status,
              {{"error", "send failed: "
                           + node_error_text(err, self->state.spec.limits.node_timeout)},
               {"name", name}});
      });
}

void get_recv(server_actor* self, uint64_t id, const std::string& name, const request& req,
              bool binary) {
  auto* n = usable(self, id, name);
  if (n == nullptr)
    return;
  auto& st = self->state;
  auto& lim = st.spec.limits;
  auto timeout = lim.default_receive_timeout;
  if (auto t = net::http::query_param(req.query(), "timeout")) {
    char* end = nullptr;
    double s = std::strtod(t->c_str(), &end);
    if (t->empty() || end != t->c_str() + t->size() || !std::isfinite(s) || s < 0)
      return fail(self, id, 400, "timeout must be a number of seconds, not '" + *t + "'");
    auto ns = std::chrono::duration<double>(s);
    timeout = ns >= lim.max_receive_timeout ? lim.max_receive_timeout
                                            : std::chrono::duration_cast<caf::timespan>(ns);
  }
  auto& ps = st.peers[n->peer];
  waiter w{st.next_id++, id, name, binary, {}};
  if (!ps.inbox.empty()) {
    auto m = take_kept(st, ps);
    return deliver(self, n->peer, w, m.data);
  }
  if (ps.conns.empty())
    return fail(self, id, 410, "connection '" + name + "' is closed and nothing is left to receive");
  if (timeout.count() == 0)
    return reply(self, id, 504, {{"error", "no message"}, {"name", name}, {"timeout_ms", 0}});
  if (ps.waiting.size() >= lim.max_waiting_receives)
    return fail(self, id, 503, "too many receives waiting on '" + name + "'");
  w.timer = arm_receive_timeout(self, timeout, n->peer, w.id);
  ps.waiting.push_back(std::move(w));
}

void post_close(server_actor* self, uint64_t id, const std::string& name) {
  auto& st = self->state;
  auto i = st.names.find(name);
  if (i == st.names.end())
    return fail(self, id, 404, "no connection named '" + name + "'");
  auto peer = i->second.peer;
  st.names.erase(i);
  drop_if_unused(st, peer); // a peer that left: its connection's end came before
  for (const auto& [n, c] : st.names)
    if (c.peer == peer)
      return reply(self, id, 200, {{"closed", name}, {"peer_kept_for", n}});
  // Still opening: its connect's answer, which finds the name gone, closes
  // what it connected (connect_to).
  if (peer.empty())
    return reply(self, id, 200, {{"closed", name}});
  // The name is gone whatever the node answers; the node's error is told.
  self->request(st.node, st.spec.limits.node_timeout, caf::close_atom::value, peer)
    .then([self, id, name](caf::ok_atom) { reply(self, id, 200, {{"closed", name}}); },
          [self, id, name](caf::error& err) {
            auto why = node_error_text(err, self->state.spec.limits.node_timeout);
            int status = node_error_status(err, 200);
            if (status == 200)
              return reply(self, id, 200, {{"closed", name}, {"node", why}});
            reply(self, id, status,
                  {{"closed", name}, {"error", "the node did not close the connection: " + why}});
          });
}

void get_cons(server_actor* self, uint64_t id, const std::string& name) {
  auto& st = self->state;
  if (!name.empty()) {
    auto i = st.names.find(name);
    if (i == st.names.end())
      return fail(self, id, 404, "no connection named '" + name + "'");
    return reply(self, id, 200, name_json(st, name, i->second));
  }
  json out = json::array();
  for (const auto& [n, c] : st.names)
    out.push_back(name_json(st, n, c));
  reply(self, id, 200, {{"connections", out}});
}

} // namespace p2pd::rest::detail
