#include "p2pd/actors/pipe/detail/pipe_state.hpp"

#include <algorithm>
#include <cerrno>

#include "caf/actor_cast.hpp"
#include "caf/detail/scope_guard.hpp"
#include "caf/send.hpp"
#include "p2pd/messages/errors.hpp"
#include "p2pd/net/util/length_prefix.hpp"

namespace p2pd::actors {

namespace {

/// The most plaintext buffer a thread keeps between reads.
constexpr size_t spare_limit = 256 * 1024;

caf::error conn_error(int err, const endpoint& peer) {
  if (err == 0)
    return caf::none;
  if (err == ECONNRESET || err == EPIPE)
    return make_error(errc::connection_reset,
                      "connection with " + peer.to_string() + " reset by the peer ("
                        + net::errno_text(err) + ")");
  return make_error(net::sys_error(errc::io_failed,
                                   "connection with " + peer.to_string() + " failed", err));
}

} // namespace

pipe_state::pipe_state(caf::scheduled_actor* ptr) : self(ptr) {}

caf::error pipe_state::closed_error() const {
  return make_error(errc::pipe_closed, "the " + std::string{net::to_string(spec.proto)}
                                         + " pipe on " + info.local.to_string()
                                         + " is closed");
}

caf::error pipe_state::reply(std::string_view data) {
  return send_to(data.data(), data.size(), &current_from);
}

caf::error pipe_state::send(std::string_view data, const endpoint& to) {
  return send_to(data.data(), data.size(), &to);
}

caf::error pipe_state::send_to(const char* data, size_t size, const endpoint* to) {
  auto refuse = [&](caf::error err) {
    ++stats.dropped_send;
    return err;
  };
  if (life.phase() != phase::open)
    return refuse(life.phase() == phase::idle || life.phase() == phase::opening
                    ? make_error(errc::pipe_closed, "the pipe is not open yet")
                    : closed_error());
  if (udp) {
    const endpoint* dest = to != nullptr ? to : (spec.is_client() ? &info.remote : nullptr);
    if (dest == nullptr)
      return refuse(make_error(errc::invalid_argument,
                               "a UDP server pipe needs a destination for each send"));
    if (dest->fam() != info.local.fam())
      return refuse(make_error(errc::invalid_argument,
                               "cannot send to " + dest->to_string() + " from the "
                                 + net::to_string(info.local.fam()) + " socket on "
                                 + info.local.to_string()));
    if (auto most = net::max_udp_payload(dest->fam()); size > most)
      return refuse(make_error(errc::message_too_large,
                               std::to_string(size) + " bytes do not fit in one "
                                 + net::to_string(dest->fam()) + " UDP datagram (at most "
                                 + std::to_string(most) + ")"));
    if (auto err = transport->send_datagram(*dest, data, size); err != 0)
      return refuse(make_error(
        net::sys_error(errc::send_failed, "send to " + dest->to_string() + " failed", err)));
    ++stats.tx_msgs;
    stats.tx_bytes += size;
    return caf::none;
  }
  // TCP: the client's connection, or a server's client by endpoint.
  conn* c = nullptr;
  if (to == nullptr || spec.is_client()) {
    auto i = conns.find(client_conn);
    if (i != conns.end() && (to == nullptr || i->second.peer == *to))
      c = &i->second;
    else if (to == nullptr)
      return refuse(make_error(errc::invalid_argument,
                               "a TCP server pipe needs the client to send to"));
  } else if (auto i = by_peer.find(*to); i != by_peer.end()) {
    c = &conns[i->second];
  }
  if (c == nullptr)
    return refuse(make_error(errc::unknown_peer,
                             "no client " + to->to_string() + " on the pipe on "
                               + info.local.to_string()));
  if (c->stream->last_error() != 0)
    return refuse(conn_error(c->stream->last_error(), c->peer));
  // Length-prefixed: the prefix goes first, in the same record or write.
  // The buffer is the thread's, reused from send to send (taken out while
  // in use): a fresh one cost an allocation per message.
  thread_local std::string spare_framed;
  std::string framed;
  auto give_back = caf::detail::make_scope_guard([&] {
    if (framed.capacity() > spare_framed.capacity() && framed.capacity() <= spare_limit)
      spare_framed = std::move(framed);
  });
  if (spec.length_prefixed) {
    framed = std::move(spare_framed);
    framed.clear();
    if (auto err = net::append_length_prefixed({data, size}, spec.conf.reader_limit - 4, framed))
      return refuse(make_error(err));
    data = framed.data();
    size = framed.size();
  }
  if (c->stream->pending() + size > spec.conf.max_write_buffer) {
    // Refusing this send and going on would leave a hole in the stream: the
    // peer would get what came before and after but not this. The connection
    // ends instead, with a reset and a reason its subscribers see.
    auto err = make_error(errc::send_failed,
                          "send buffer toward " + c->peer.to_string() + " is full ("
                            + std::to_string(c->stream->pending()) + " of "
                            + std::to_string(spec.conf.max_write_buffer)
                            + " bytes waiting); the connection is reset so that "
                              "no gap is left in the stream");
    reset_conn(c->stream->id(), err);
    return refuse(std::move(err));
  }
  if (c->tls) {
    if (auto err = c->tls->write(data, size))
      return refuse(make_error(err));
    flush_tls(*c); // records now, or after the handshake
  } else {
    auto& buf = c->stream->wr_buf();
    buf.insert(buf.end(), data, data + size);
    c->stream->flush();
  }
  ++stats.tx_msgs;
  stats.tx_bytes += size;
  return caf::none;
}

void pipe_state::deliver(const char* data, size_t size, const endpoint& from) {
  ++stats.rx_msgs;
  stats.rx_bytes += size;
  if (dedupe && dedupe->seen(from, data, size)) {
    ++stats.dropped_duplicate;
    return;
  }
  current_from = from;
  bool claimed = false;
  if (spec.on_msg) {
    spec.on_msg(*this, std::string_view{data, size}, from);
    claimed = true;
  }
  if (!subs.empty()) {
    caf::message msg;
    for (auto& s : subs) {
      if ((s.events & events::msgs) == 0)
        continue;
      if (msg.empty())
        msg = caf::make_message(pipe_msg{bytes(data, data + size), from, hdl});
      tell(s.hdl, msg);
      claimed = true;
    }
  }
  if (queues->push(data, size, from, hdl, stats.dropped_queue_full))
    claimed = true;
  for (auto& l : links) {
    if (auto other = caf::actor_cast<caf::actor>(l.lock())) {
      // Without a sender, for the same reason the link is weak.
      caf::anon_send(other, send_atom::value, bytes(data, data + size));
      claimed = true;
    }
  }
  if (!claimed)
    ++stats.dropped_unclaimed;
}

void pipe_state::notify(uint8_t ev, const caf::message& msg) {
  for (auto& s : subs)
    if ((s.events & ev) != 0)
      tell(s.hdl, msg);
}

void pipe_state::track_udp_peer(const endpoint& from) {
  if (spec.is_client() || !udp_peer_set.insert(from).second)
    return;
  udp_peers.push_back(from);
  if (udp_peers.size() > spec.conf.max_clients) {
    udp_peer_set.erase(udp_peers.front());
    udp_peers.pop_front();
  }
}

void pipe_state::add_conn(pipe_stream_ptr stream) {
  auto h = stream->id();
  auto now = self->clock().now();
  auto seq = ++rx_count;
  auto peer = stream->peer();
  stream->configure(spec.conf);
  by_peer[peer] = h;
  auto& c = conns[h];
  c = conn{std::move(stream), peer, std::nullopt, false, {}, now, seq, seq, 0, {}, {}, false, {}};
  arm_sweep();
  if (spec.preamble && spec.is_client())
    return start_preamble(c);
  secure_or_up(c);
}

void pipe_state::add_client_stream(pipe_stream_ptr stream) {
  client_conn = stream->id();
  info.local = stream->local();
  info.remote = stream->peer();
  add_conn(std::move(stream)); // opens the pipe now, or after the TLS handshake
}

void pipe_state::secure_or_up(conn& c) {
  if (!tls_ctx) {
    c.secure = true;
    return conn_up(c);
  }
  if (auto err = start_tls(c))
    tls_failed(c.stream->id(), err);
}

void pipe_state::conn_up(const conn& c) {
  if (spec.is_client()) {
    info.remote = c.peer;
    info.peer_node = c.peer_node;
    if (life.phase() == phase::opening)
      opened();
    if (spec.preamble)
      notify(events::up, caf::make_message(pipe_up{hdl, c.peer, c.peer_node}));
    return;
  }
  notify(events::up, caf::make_message(pipe_up{hdl, c.peer, c.peer_node}));
  if (spec.listen_until_up)
    stop_listening();
}

void pipe_state::stop_listening() {
  if (!listening)
    return;
  // Its counters live on in the pipe's (fill_stats adds the listener's).
  auto n = transport->counters();
  stats.clients_shed += n.shed;
  stats.rx_errors += n.accept_errors;
  transport->stop_listening();
  listening = false;
  listening_stopped = true;
}

void pipe_state::end_if_unlistened() {
  if (listening_stopped && conns.empty() && life.phase() == phase::open)
    finish_close(caf::none, true);
}

void pipe_state::on_stream_data(stream_id h, const char* data, size_t size) {
  auto i = conns.find(h);
  if (i == conns.end())
    return;
  auto& c = i->second;
  c.rx_seq = ++rx_count;
  if (c.in_preamble)
    return on_preamble(h, data, size);
  if (!c.tls)
    return on_plaintext(h, c, data, size);
  // The plaintext buffer of the multiplexer thread, reused from read to
  // read (a fresh vector cost an allocation and its growth per read); taken
  // out while in use, so that a nested read would make its own.
  thread_local std::vector<char> spare;
  std::vector<char> plain = std::move(spare);
  plain.clear();
  auto give_back = caf::detail::make_scope_guard([&] {
    if (plain.capacity() <= spare_limit)
      spare = std::move(plain);
  });
  auto err = c.tls->feed(data, size, plain);
  flush_tls(c); // handshake records, alerts
  if (err)
    return tls_failed(h, make_error(err));
  bool closed = c.tls->peer_closed();
  if (!c.secure && c.tls->handshake_done()) {
    c.secure = true;
    if (auto keys = c.tls->peer_node_keys())
      c.peer_node = net::node_id::of(*keys).to_string();
    conn_up(c);
  }
  if (!plain.empty())
    on_plaintext(h, c, plain.data(), plain.size());
  if (closed && conns.count(h) > 0) {
    c.stream->close(); // close_notify: an orderly end
    drop_conn(h, 0);
  }
}

void pipe_state::drop_conn(stream_id h, int err) {
  auto i = conns.find(h);
  if (i == conns.end())
    return;
  drop_conn(h, conn_error(err, i->second.peer));
}

void pipe_state::reset_conn(stream_id h, caf::error reason) {
  auto i = conns.find(h);
  if (i == conns.end())
    return;
  i->second.stream->reset(); // RST: the peer must not take the end for an orderly one
  drop_conn(h, std::move(reason));
}

void pipe_state::drop_conn(stream_id h, caf::error reason) {
  auto i = conns.find(h);
  if (i == conns.end())
    return;
  auto peer = i->second.peer;
  by_peer.erase(peer);
  conns.erase(i);
  if (spec.is_client()) {
    // The connection was the pipe: it ends, but stays for queued messages.
    finish_close(reason, false);
    return;
  }
  notify(events::end, caf::make_message(pipe_end{hdl, peer, false, reason}));
  end_if_unlistened();
}

void pipe_state::opened() {
  life.enter(phase::open);
  open_waiters.deliver_all(info);
  if (spec.is_client() || spec.proto == net::protocol::udp)
    notify(events::up, caf::make_message(pipe_up{hdl, info.remote, info.peer_node}));
}

void pipe_state::open_failed(const caf::error& reason) {
  open_waiters.deliver_all(reason);
  finish_close(reason, true);
}

bool pipe_state::writes_pending() const {
  return std::any_of(conns.begin(), conns.end(), [](const auto& kvp) {
    return kvp.second.stream->pending() > 0 && kvp.second.stream->last_error() == 0;
  });
}

void pipe_state::begin_close(caf::error reason) {
  if (life.phase() == phase::closing)
    return;
  if (life.phase() != phase::open || !writes_pending()) {
    finish_close(reason, true);
    return;
  }
  life.enter(phase::closing);
  if (listening)
    transport->pause_listening();
  for (auto& kvp : conns)
    kvp.second.stream->notify_drained(true); // on_drained tells when drained
}

void pipe_state::finish_close(const caf::error& reason, bool quit) {
  bool was_closed = life.phase() == phase::closed;
  life.enter(phase::closed);
  // Closed while opening (a close request, the owner gone): the open
  // requests get an answer too, or their requesters would wait for ever.
  if (!open_waiters.empty())
    open_waiters.deliver_all(reason ? reason
                                    : make_error(errc::pipe_closed,
                                                 "the pipe was closed before it opened"));
  if (!was_closed) {
    close_tls();
    if (!spec.is_client())
      for (auto& kvp : conns)
        notify(events::end, caf::make_message(pipe_end{hdl, kvp.second.peer, false,
                                                        caf::error{}}));
    conns.clear();
    by_peer.clear();
    if (transport)
      transport->close_all();
    udp = false;
    listening = false;
    queues->fail_all(closed_error());
    notify(events::end, caf::make_message(pipe_end{hdl, info.remote, true, reason}));
  }
  life.closed(); // answers the close requests
  if (quit) {
    hdl = nullptr; // no self reference may outlive the actor
    if (transport)
      transport->before_quit(reason);
    self->quit(reason);
  }
}

void pipe_state::fill_stats(pipe_stats& out) const {
  out = stats;
  if (!transport)
    return;
  auto n = transport->counters();
  if (udp) {
    out.rx_errors = n.udp_rx_errors;
    out.dropped_send += n.udp_tx_dropped;
  }
  if (listening) {
    out.clients_shed += n.shed;
    out.rx_errors += n.accept_errors;
  }
}

std::vector<endpoint> pipe_state::clients() const {
  if (udp)
    return {udp_peers.begin(), udp_peers.end()};
  std::vector<endpoint> out;
  for (auto& kvp : conns)
    out.push_back(kvp.second.peer);
  std::sort(out.begin(), out.end());
  return out;
}

} // namespace p2pd::actors
