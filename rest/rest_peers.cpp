#include <algorithm>
#include <utility>

#include "p2pd/rest/detail/rest_state.hpp"
#include "p2pd/rest/detail/rest_json.hpp"

namespace p2pd::rest::detail {

kept_msg take_kept(state& st, peer_state& ps) {
  auto m = std::move(ps.inbox.front());
  ps.inbox.pop_front();
  ps.inbox_bytes -= m.data.size();
  st.inbox_total -= m.data.size();
  return m;
}

void drop_if_unused(state& st, const std::string& peer) {
  auto p = st.peers.find(peer);
  if (p == st.peers.end() || !p->second.conns.empty())
    return;
  for (const auto& [n, c] : st.names)
    if (c.peer == peer)
      return;
  // Messages not received go too: with no connection, no name can be bound
  // to the peer any more (POST /open by id needs one), so nothing could
  // receive them, and every peer that came and went would stay for good.
  st.inbox_total -= p->second.inbox_bytes;
  st.peers.erase(p);
}

void deliver(server_actor* self, const std::string& peer, const waiter& w, const bytes& data) {
  if (w.binary) {
    net::http::response r;
    r.set("Content-Type", "application/octet-stream");
    r.set("X-P2PD-Peer", peer);
    r.set("X-P2PD-Name", w.name);
    r.body.assign(data.begin(), data.end());
    return answer(self, w.conn, std::move(r));
  }
  json j = {{"name", w.name}, {"peer", peer}, {"size", data.size()},
            {"data", std::string(data.begin(), data.end())}};
  answer(self, w.conn, json_response(200, dump(j)));
}

void on_node_msg(server_actor* self, node_msg& m) {
  auto& st = self->state;
  auto p = st.peers.find(m.peer);
  if (p == st.peers.end()) {
    // Connected before the server subscribed: tracked from now on.
    p = st.peers.emplace(m.peer, peer_state{}).first;
  }
  auto& ps = p->second;
  ++ps.msgs_in;
  ps.bytes_in += m.data.size();
  while (!ps.waiting.empty()) {
    auto w = std::move(ps.waiting.front());
    ps.waiting.pop_front();
    w.cancel();
    if (st.conn(w.conn) == nullptr)
      continue; // its client went away
    return deliver(self, m.peer, w, m.data);
  }
  auto& lim = st.spec.limits;
  auto size = m.data.size();
  auto drop = [&] {
    ++ps.dropped;
    ++st.stats.messages_dropped;
  };
  if (size > lim.max_buffered_bytes || size > lim.max_buffered_total_bytes)
    return drop();
  // Other peers' messages fill the total: theirs are not ours to push out.
  if (st.inbox_total - ps.inbox_bytes + size > lim.max_buffered_total_bytes)
    return drop();
  while (!ps.inbox.empty()
         && (ps.inbox.size() >= lim.max_buffered_msgs
             || ps.inbox_bytes + size > lim.max_buffered_bytes
             || st.inbox_total + size > lim.max_buffered_total_bytes)) {
    take_kept(st, ps);
    drop();
  }
  ps.inbox_bytes += size;
  st.inbox_total += size;
  ps.inbox.push_back(kept_msg{std::move(m.data)});
}

void on_peer_up(server_actor* self, node_peer_up& up) {
  auto& ps = self->state.peers[up.conn.peer];
  for (const auto& c : ps.conns)
    if (c.pipe == up.conn.pipe && c.remote == up.conn.remote)
      return;
  ps.conns.push_back(std::move(up.conn));
}

void on_peer_end(server_actor* self, node_peer_end& e) {
  auto& st = self->state;
  auto p = st.peers.find(e.peer);
  if (p == st.peers.end())
    return;
  auto& ps = p->second;
  ps.conns.erase(std::remove_if(ps.conns.begin(), ps.conns.end(),
                                [&](const node_connection& c) {
                                  return c.pipe == e.pipe && c.remote == e.from;
                                }),
                 ps.conns.end());
  if (!ps.conns.empty())
    return;
  // No connection left: nothing will come for the receives that wait.
  auto waiting = std::move(ps.waiting);
  ps.waiting.clear();
  for (auto& w : waiting)
    w.cancel();
  for (const auto& w : waiting)
    answer(self, w.conn, error_response(410, "connection '" + w.name + "' was closed"));
  drop_if_unused(st, e.peer);
}

void on_receive_timeout(server_actor* self, const std::string& peer, uint64_t waiter_id) {
  auto& st = self->state;
  auto p = st.peers.find(peer);
  if (p == st.peers.end())
    return;
  auto& ws = p->second.waiting;
  auto i = std::find_if(ws.begin(), ws.end(), [&](const waiter& w) { return w.id == waiter_id; });
  if (i == ws.end())
    return; // answered by a message
  auto w = *i; // its timer fired and ended
  ws.erase(i);
  answer(self, w.conn, json_response(504, dump(json{{"error", "no message in time"},
                                                     {"name", w.name}})));
}

void forget_waiters(server_actor* self, uint64_t id) {
  for (auto& [peer, ps] : self->state.peers)
    ps.waiting.erase(std::remove_if(ps.waiting.begin(), ps.waiting.end(),
                                    [id](waiter& w) {
                                      if (w.conn != id)
                                        return false;
                                      w.cancel();
                                      return true;
                                    }),
                     ps.waiting.end());
}

} // namespace p2pd::rest::detail
