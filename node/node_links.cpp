// A node's connections: a connection counts once TLS proved the peer's node
// id and its hello said why it came; only then do its messages reach
// handlers and subscribers.
#include "p2pd/node/node_state.hpp"

#include <cstring>
#include <string_view>

#include "caf/send.hpp"

#include "p2pd/messages/errors.hpp"
#include "p2pd/node/link/hello.hpp"

namespace p2pd::node {

namespace {

// A connection's key: the pipe's actor id and the peer's endpoint, as raw
// bytes on the stack. It was "id|address:port" text (node_state::key), made
// for every message received: two allocations and an address formatted
// per message, before two map lookups.
class conn_key {
public:
  conn_key(const pipe_actor& pipe, const endpoint& from) {
    auto id = static_cast<uint64_t>(pipe.id());
    auto scope = from.ip.scope_id();
    auto fam = static_cast<uint8_t>(from.fam());
    char* p = buf_;
    auto put = [&p](const void* x, size_t n) {
      std::memcpy(p, x, n);
      p += n;
    };
    put(&id, sizeof id);
    put(&fam, sizeof fam);
    put(from.ip.bytes().data(), from.ip.bytes().size());
    put(&scope, sizeof scope);
    put(&from.port, sizeof from.port);
  }

  std::string_view view() const { return {buf_, sizeof buf_}; }
  std::string str() const { return std::string{view()}; }

private:
  char buf_[sizeof(uint64_t) + 1 + 16 + sizeof(uint32_t) + sizeof(uint16_t)];
};

void close_conn(const pipe_actor& pipe, const endpoint& from, bool inbound) {
  if (inbound)
    caf::anon_send(pipe, caf::close_atom::value, from);
  else
    caf::anon_send(pipe, caf::close_atom::value);
}

// Whether `pipe` is one of our listeners (inbound) rather than a client pipe
// of ours: by elimination, since the daemon restarts a failed listener under
// a new handle, and only listeners and our clients have us as subscriber.
bool is_listener(const node_state& st, const pipe_actor& pipe) {
  return st.own_clients.count(pipe.address()) == 0;
}

void deliver(node_actor_ptr self, link& l, bytes& data, const endpoint& from) {
  auto& st = self->state;
  ++st.stats.messages_in;
  st.stats.bytes_in += data.size();
  l.last_activity = self->clock().now();
  node_msg msg{std::move(data), l.conn.peer, l.conn.pipe, from};
  for (auto& h : st.spec.handlers)
    h(msg);
  if (!st.subscribers.empty())
    st.notify(caf::make_message(std::move(msg)));
}

void on_hello(node_actor_ptr self, awaiting w, const bytes& data) {
  auto& st = self->state;
  auto h = read_hello(std::string_view{data.data(), data.size()});
  if (!h) {
    st.refuse(&node_stats::refused_hello, "hello", w.peer, make_error(h.error()));
    return close_conn(w.pipe, w.from, true);
  }
  node_connection conn;
  conn.pipe = w.pipe;
  conn.remote = w.from;
  conn.peer = w.peer;
  conn.inbound = true;
  if (h->purpose == link_purpose::punch) {
    if (punch_kept(self, w.peer, h->request_id, w.pipe, w.from))
      return;
    st.refuse(&node_stats::refused_hello, "hello", w.peer,
              make_error(errc::invalid_argument,
                         "a punch hello for punch " + std::to_string(h->request_id)
                           + ", which is not waiting for one from this node"));
    return close_conn(w.pipe, w.from, true);
  }
  if (h->purpose == link_purpose::reverse) {
    // Only a connect we asked this very node for: the id alone is not
    // enough, and neither is being a node.
    auto i = st.reverse_asked.find(h->request_id);
    if (i == st.reverse_asked.end() || i->second != w.peer) {
      st.refuse(&node_stats::refused_reverse, "reverse", w.peer,
                make_error(errc::invalid_argument,
                           "a reverse hello for request " + std::to_string(h->request_id)
                             + ", which we did not send to this node"));
      return close_conn(w.pipe, w.from, true);
    }
    auto j = st.jobs.find(w.peer);
    st.reverse_asked.erase(i);
    if (j == st.jobs.end() || j->second->done) {
      // Too late: the connect ended already. The link still counts.
      add_link(self, conn);
      return;
    }
    auto& job = *j->second;
    conn.report.how = strategy::reverse;
    conn.report.path = path_kind::signalling;
    conn.report.fam = w.from.fam();
    conn.report.remote = w.from;
    for (auto& l : st.listeners)
      if (l.local.fam() == w.from.fam() && (l.pipe == w.pipe || conn.report.local.port == 0))
        conn.report.local = l.local;
    for (auto& a : job.plan)
      if (a.how == strategy::reverse)
        job.reports.push_back({a.to_string(), "won", std::chrono::duration_cast<std::chrono::milliseconds>(
                                                       self->clock().now() - job.started)
                                                       .count()});
    job_won(self, job, conn);
    return;
  }
  ++st.stats.inbound;
  add_link(self, conn);
}

} // namespace

void add_link(node_actor_ptr self, node_connection conn) {
  auto& st = self->state;
  st.links[conn_key{conn.pipe, conn.remote}.str()] = link{conn, self->clock().now()};
  st.stats.connections = static_cast<uint32_t>(st.links.size());
  st.notify(caf::make_message(node_peer_up{std::move(conn)}));
}

void on_pipe_up(node_actor_ptr self, const pipe_up& up) {
  auto& st = self->state;
  if (!is_listener(st, up.pipe))
    return; // our own client pipes: their open answer says it
  // A punched connection is a link before its up event comes (the punch
  // keeps it on its open's answer, which the pipe sends first): it has
  // had its hello, and must not wait for another.
  if (st.links.count(conn_key{up.pipe, up.peer}.view()) > 0)
    return;
  if (up.peer_node.empty()) {
    // Cannot happen with node TLS; refused all the same.
    st.refuse(&node_stats::refused_auth, "auth", "",
              make_error(errc::tls_verify_failed, "no node certificate from " + up.peer.to_string()));
    return close_conn(up.pipe, up.peer, true);
  }
  if (st.links.size() + st.hellos.size() >= st.spec.max_connections) {
    st.refuse(&node_stats::refused_hello, "hello", up.peer_node,
              make_error(errc::queue_full, "max_connections (" + std::to_string(st.spec.max_connections)
                                             + ") reached"));
    return close_conn(up.pipe, up.peer, true);
  }
  auto k = conn_key{up.pipe, up.peer}.str();
  st.hellos[k] = awaiting{up.peer_node, up.pipe, up.peer};
  self->delayed_send(self, st.spec.hello_timeout, hello_tmo_atom::value, k);
}

void await_hello(node_actor_ptr self, const std::string& peer, const pipe_actor& pipe,
                 const endpoint& from) {
  auto& st = self->state;
  auto k = conn_key{pipe, from}.str();
  st.hellos[k] = awaiting{peer, pipe, from};
  self->delayed_send(self, st.spec.hello_timeout, hello_tmo_atom::value, k);
}

void drop_hello(node_actor_ptr self, const pipe_actor& pipe, const endpoint& from) {
  auto& hellos = self->state.hellos;
  if (auto i = hellos.find(conn_key{pipe, from}.view()); i != hellos.end())
    hellos.erase(i);
}

void on_hello_timeout(node_actor_ptr self, const std::string& k) {
  auto& st = self->state;
  auto i = st.hellos.find(k);
  if (i == st.hellos.end())
    return;
  st.refuse(&node_stats::refused_hello, "hello", i->second.peer,
            make_error(errc::recv_timeout, "no hello within hello_timeout"));
  close_conn(i->second.pipe, i->second.from, true);
  st.hellos.erase(i);
}

void on_pipe_msg(node_actor_ptr self, pipe_msg& msg) {
  auto& st = self->state;
  conn_key k{msg.pipe, msg.from};
  if (auto i = st.hellos.find(k.view()); i != st.hellos.end()) {
    auto w = std::move(i->second);
    st.hellos.erase(i);
    return on_hello(self, std::move(w), msg.data);
  }
  if (auto i = st.links.find(k.view()); i != st.links.end())
    return deliver(self, i->second, msg.data, msg.from);
  // A pipe of a connect attempt that lost, or a connection already dropped:
  // nothing from it reaches anyone.
}

void on_pipe_end(node_actor_ptr self, const pipe_end& end) {
  auto& st = self->state;
  auto ended = [&](std::string_view k) {
    if (auto h = st.hellos.find(k); h != st.hellos.end())
      st.hellos.erase(h);
    auto i = st.links.find(k);
    if (i == st.links.end())
      return;
    node_peer_end ev{i->second.conn.peer, i->second.conn.pipe, i->second.conn.remote, end.reason};
    st.links.erase(i);
    st.stats.connections = static_cast<uint32_t>(st.links.size());
    st.notify(caf::make_message(std::move(ev)));
  };
  if (!end.whole) {
    ended(conn_key{end.pipe, end.peer}.view());
    return;
  }
  st.own_clients.erase(end.pipe.address());
  if (auto r = st.stream_relays.find(end.pipe.address()); r != st.stream_relays.end()) {
    caf::anon_send(r->second, caf::close_atom::value); // its TCP allocation
    st.stream_relays.erase(r);
  }
  // A whole pipe ended: every connection on it.
  std::vector<std::string> gone;
  for (auto& kvp : st.links)
    if (kvp.second.conn.pipe == end.pipe)
      gone.push_back(kvp.first);
  for (auto& kvp : st.hellos)
    if (kvp.second.pipe == end.pipe)
      gone.push_back(kvp.first);
  for (auto& k : gone)
    ended(k);
}

void close_peer(node_actor_ptr self, const std::string& peer) {
  auto& st = self->state;
  for (auto i = st.links.begin(); i != st.links.end();) {
    if (i->second.conn.peer != peer) {
      ++i;
      continue;
    }
    auto c = i->second.conn;
    i = st.links.erase(i);
    close_conn(c.pipe, c.remote, c.inbound);
    st.notify(caf::make_message(node_peer_end{c.peer, c.pipe, c.remote, caf::error{}}));
  }
  st.stats.connections = static_cast<uint32_t>(st.links.size());
}

void sweep_idle(node_actor_ptr self) {
  auto& st = self->state;
  if (st.spec.idle_timeout.count() <= 0 || st.life.closing())
    return;
  auto now = self->clock().now();
  std::vector<link> idle;
  for (auto& kvp : st.links)
    if (now - kvp.second.last_activity >= st.spec.idle_timeout)
      idle.push_back(kvp.second);
  for (auto& l : idle) {
    ++st.stats.idle_closed;
    close_conn(l.conn.pipe, l.conn.remote, l.conn.inbound);
  }
}

} // namespace p2pd::node
