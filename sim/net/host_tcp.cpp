#include "p2pd/sim/net/host_tcp.hpp"

#include <cerrno>
#include <utility>

namespace p2pd::sim {

const char* to_string(tcp_state x) {
  switch (x) {
    case tcp_state::listen: return "listen";
    case tcp_state::syn_sent: return "syn_sent";
    case tcp_state::syn_received: return "syn_received";
    case tcp_state::established: return "established";
  }
  return "?";
}

const char* to_string(tcp_event::kind_t x) {
  switch (x) {
    case tcp_event::connected: return "connected";
    case tcp_event::failed: return "failed";
    case tcp_event::accepted: return "accepted";
    case tcp_event::data: return "data";
    case tcp_event::eof: return "eof";
    case tcp_event::reset: return "reset";
  }
  return "?";
}

host_tcp::host_tcp(fabric& f, host_id h, config cfg)
  : fabric_(f),
    host_(h),
    cfg_(cfg),
    ports_(f.draw_seed()),
    alive_(std::make_shared<host_tcp*>(this)) {
  fabric_.attach(h, protocol::tcp, [this](frame fr) { receive(std::move(fr)); });
}

host_tcp::~host_tcp() {
  fabric_.attach(host_, protocol::tcp, nullptr);
}

void host_tcp::on_event(int sock, handler h) {
  if (sockets_.count(sock) != 0)
    socket_handlers_[sock] = std::move(h);
}

void host_tcp::emit(tcp_event e) {
  const int key = e.kind == tcp_event::accepted ? e.listener : e.sock;
  auto found = socket_handlers_.find(key);
  if (found == socket_handlers_.end()) {
    if (handler_)
      handler_(std::move(e));
    return;
  }
  // Copied out: the handler may replace or drop itself.
  auto h = found->second;
  const int sock = e.sock;
  h(std::move(e));
  if (sockets_.count(sock) == 0)
    socket_handlers_.erase(sock); // its last event
}

void host_tcp::segment(const net::endpoint& from, const net::endpoint& to, uint8_t flags,
                       std::vector<uint8_t> payload) {
  // The source is always one of ours: send cannot fail.
  fabric_.send(host_, frame{packet::tcp(from, to, flags), std::move(payload)});
}

void host_tcp::reply_rst(const frame& f) {
  if (f.pkt.has(tcp_flag::rst))
    return; // never an RST for an RST: no ping-pong
  segment(f.pkt.dst, f.pkt.src, tcp_flag::rst);
}

int host_tcp::find_connection(const net::endpoint& local, const net::endpoint& remote) const {
  for (const auto& [id, s] : sockets_)
    if (s.state != tcp_state::listen && s.local == local && s.remote == remote)
      return id;
  return 0;
}

int host_tcp::find_listener(const net::endpoint& local) const {
  int any = 0;
  for (const auto& [id, s] : sockets_) {
    if (s.state != tcp_state::listen || s.local.port != local.port || s.local.fam() != local.fam())
      continue;
    if (s.local.ip == local.ip)
      return id;
    if (s.local.ip.is_any() && any == 0)
      any = id;
  }
  return any;
}

bool host_tcp::port_used(const net::endpoint& local) const {
  for (const auto& [id, s] : sockets_)
    if (bindings_overlap(s.local, local))
      return true;
  return false;
}

net::result<int> host_tcp::listen(net::endpoint requested) {
  auto found_local = ports_.resolve(requested, fabric_.owns(host_, requested.ip), "listen",
                                    [this](const net::endpoint& e) { return port_used(e); });
  if (!found_local)
    return found_local.error();
  const auto local = *found_local;
  for (const auto& [id, s] : sockets_)
    if (s.state == tcp_state::listen && bindings_overlap(s.local, local))
      return net::error{net::errc::bind_failed,
                        "listen " + local.to_string() + ": another listener has the port (EADDRINUSE)"};
  const int id = next_id_++;
  sockets_.emplace(id, socket{tcp_state::listen, local, {}, 0});
  return id;
}

net::result<int> host_tcp::connect(net::endpoint local, net::endpoint remote) {
  if (local.fam() != remote.fam())
    return net::error{net::errc::family_unsupported,
                      "connect " + local.to_string() + " to " + remote.to_string() + ": another address family"};
  if (local.ip.is_any()) {
    auto ip = fabric_.address_of(host_, remote.fam());
    if (!ip)
      return net::error{net::errc::family_unsupported,
                        "connect to " + remote.to_string() + ": the host has no address of that family"};
    local.ip = *ip;
  }
  const bool explicit_port = local.port != 0;
  auto found_local = ports_.resolve(local, fabric_.owns(host_, local.ip), "connect",
                                    [this](const net::endpoint& e) { return port_used(e); });
  if (!found_local)
    return found_local.error();
  local = *found_local;
  if (explicit_port && find_connection(local, remote) != 0) {
    return net::error{net::errc::bind_failed, "connect " + local.to_string() + " to " +
                                                remote.to_string() + ": that connection exists (EADDRINUSE)"};
  }
  const int id = next_id_++;
  sockets_.emplace(id, socket{tcp_state::syn_sent, local, remote, 0});
  segment(local, remote, tcp_flag::syn);
  arm_syn_timer(id);
  return id;
}

void host_tcp::arm_syn_timer(int sock) {
  const auto& s = sockets_.at(sock);
  const auto delay = cfg_.syn_rto * (int64_t{1} << s.syn_tries);
  std::weak_ptr<host_tcp*> alive = alive_;
  fabric_.queue().schedule_in(delay, [alive, sock, tries = s.syn_tries] {
    if (auto self = alive.lock())
      (*self)->syn_timer(sock, tries);
  });
}

void host_tcp::syn_timer(int sock, int tries) {
  auto found = sockets_.find(sock);
  // A stale timer: the socket went, or a later timer replaced this one.
  if (found == sockets_.end() || found->second.syn_tries != tries)
    return;
  auto& s = found->second;
  const bool simultaneous = s.state == tcp_state::syn_received && s.parent == 0;
  const bool passive = s.state == tcp_state::syn_received && s.parent != 0;
  if (passive) {
    if (s.syn_tries >= cfg_.synack_retries) {
      fabric_.note(host_, packet::tcp(s.local, s.remote, tcp_flag::syn | tcp_flag::ack),
                   "SYN-ACK retries exhausted: passive open dropped");
      sockets_.erase(found);
      return;
    }
    ++s.syn_tries;
    fabric_.note(host_, packet::tcp(s.local, s.remote, tcp_flag::syn | tcp_flag::ack),
                 "SYN-ACK retransmission");
    segment(s.local, s.remote, tcp_flag::syn | tcp_flag::ack);
    arm_syn_timer(sock);
    return;
  }
  if (s.state != tcp_state::syn_sent && !simultaneous)
    return;
  if (s.syn_tries >= cfg_.syn_retries) {
    fabric_.note(host_, packet::tcp(s.local, s.remote, tcp_flag::syn), "SYN retries exhausted");
    fail(sock, net::errc::connect_timeout, ETIMEDOUT);
    return;
  }
  ++s.syn_tries;
  fabric_.note(host_, packet::tcp(s.local, s.remote, tcp_flag::syn), "SYN retransmission");
  segment(s.local, s.remote, simultaneous ? (tcp_flag::syn | tcp_flag::ack) : tcp_flag::syn);
  arm_syn_timer(sock);
}

void host_tcp::fail(int sock, net::errc code, int sys_errno) {
  auto s = sockets_.at(sock);
  sockets_.erase(sock);
  emit(tcp_event{tcp_event::failed, sock, 0, s.remote, {}, code, sys_errno});
}

void host_tcp::become_established(int sock) {
  auto& s = sockets_.at(sock);
  s.state = tcp_state::established;
  if (s.parent != 0)
    emit(tcp_event{tcp_event::accepted, sock, s.parent, s.remote, {}});
  else
    emit(tcp_event{tcp_event::connected, sock, 0, s.remote, {}});
}

void host_tcp::receive(frame f) {
  const auto& p = f.pkt;
  const int id = find_connection(p.dst, p.src);
  if (id == 0) {
    if (p.has(tcp_flag::rst))
      return;
    if (p.is_bare_syn()) {
      if (const int l = find_listener(p.dst)) {
        const int child = next_id_++;
        sockets_.emplace(child, socket{tcp_state::syn_received, p.dst, p.src, l});
        segment(p.dst, p.src, tcp_flag::syn | tcp_flag::ack);
        arm_syn_timer(child);
        return;
      }
    }
    fabric_.note_no_socket(host_, f, "no TCP socket: RST");
    reply_rst(f);
    return;
  }
  auto& s = sockets_.at(id);
  if (p.has(tcp_flag::rst)) {
    if (s.state == tcp_state::established) {
      sockets_.erase(id);
      emit(tcp_event{tcp_event::reset, id, 0, p.src, {}, net::errc::connection_reset, ECONNRESET});
    } else if (s.parent != 0) {
      sockets_.erase(id); // a passive open that never completed: no one knew of it
    } else {
      fail(id, net::errc::connect_refused, ECONNREFUSED);
    }
    return;
  }
  if (p.has(tcp_flag::syn)) {
    const bool syn_ack = p.has(tcp_flag::ack);
    if (s.state == tcp_state::syn_sent && !syn_ack) {
      // Simultaneous open: our SYN and theirs crossed.
      s.state = tcp_state::syn_received;
      segment(s.local, s.remote, tcp_flag::syn | tcp_flag::ack);
    } else if (s.state == tcp_state::syn_sent && syn_ack) {
      segment(s.local, s.remote, tcp_flag::ack);
      become_established(id);
    } else if (s.state == tcp_state::syn_received && syn_ack && s.parent == 0) {
      become_established(id); // the other half of a simultaneous open
    } else if (s.state == tcp_state::syn_received && !syn_ack) {
      segment(s.local, s.remote, tcp_flag::syn | tcp_flag::ack); // a repeated SYN
    }
    return; // a SYN on an established connection changes nothing
  }
  if (s.state == tcp_state::syn_sent)
    return; // an ACK before our SYN was answered: stale, ignored
  if (s.state == tcp_state::syn_received)
    become_established(id);
  if (!f.payload.empty() && !s.fin_received)
    emit(tcp_event{tcp_event::data, id, 0, p.src, std::move(f.payload)});
  auto still = sockets_.find(id); // the handler may have closed it
  if (still == sockets_.end())
    return;
  if (p.has(tcp_flag::fin) && !still->second.fin_received) {
    still->second.fin_received = true;
    const bool done = still->second.fin_sent;
    if (done)
      sockets_.erase(still);
    emit(tcp_event{tcp_event::eof, id, 0, p.src, {}});
  }
}

net::error host_tcp::send(int sock, std::vector<uint8_t> bytes) {
  auto found = sockets_.find(sock);
  if (found == sockets_.end())
    return {net::errc::invalid_argument, "send: no TCP socket " + std::to_string(sock)};
  auto& s = found->second;
  if (s.state != tcp_state::established)
    return {net::errc::invalid_argument,
            "send on TCP socket " + std::to_string(sock) + " in " + to_string(s.state) + " (ENOTCONN)"};
  if (s.fin_sent)
    return {net::errc::pipe_closed, "send on TCP socket " + std::to_string(sock) + " after close (EPIPE)"};
  segment(s.local, s.remote, tcp_flag::ack, std::move(bytes));
  return {};
}

net::error host_tcp::close(int sock) {
  auto found = sockets_.find(sock);
  if (found == sockets_.end())
    return {net::errc::invalid_argument, "close: no TCP socket " + std::to_string(sock)};
  auto& s = found->second;
  if (s.state == tcp_state::listen) {
    // Its connections not yet accepted go with it, unseen.
    for (auto i = sockets_.begin(); i != sockets_.end();)
      i = (i->second.parent == sock && i->second.state == tcp_state::syn_received) ? sockets_.erase(i)
                                                                                    : std::next(i);
    sockets_.erase(sock);
    socket_handlers_.erase(sock);
    return {};
  }
  if (s.state != tcp_state::established) {
    sockets_.erase(found);
    socket_handlers_.erase(sock);
    return {};
  }
  if (s.fin_sent)
    return {};
  s.fin_sent = true;
  segment(s.local, s.remote, tcp_flag::fin | tcp_flag::ack);
  if (s.fin_received) {
    sockets_.erase(found);
    socket_handlers_.erase(sock);
  }
  return {};
}

net::error host_tcp::abort(int sock) {
  auto found = sockets_.find(sock);
  if (found == sockets_.end())
    return {net::errc::invalid_argument, "abort: no TCP socket " + std::to_string(sock)};
  const auto s = found->second;
  sockets_.erase(found);
  socket_handlers_.erase(sock);
  if (s.state == tcp_state::established || s.state == tcp_state::syn_received)
    segment(s.local, s.remote, tcp_flag::rst);
  return {};
}

std::optional<tcp_state> host_tcp::state(int sock) const {
  auto found = sockets_.find(sock);
  if (found == sockets_.end())
    return std::nullopt;
  return found->second.state;
}

net::result<net::endpoint> host_tcp::local_endpoint(int sock) const {
  auto found = sockets_.find(sock);
  if (found == sockets_.end())
    return net::error{net::errc::invalid_argument, "no TCP socket " + std::to_string(sock)};
  return found->second.local;
}

net::result<net::endpoint> host_tcp::remote_endpoint(int sock) const {
  auto found = sockets_.find(sock);
  if (found == sockets_.end() || found->second.state == tcp_state::listen)
    return net::error{net::errc::invalid_argument, "no TCP connection " + std::to_string(sock)};
  return found->second.remote;
}

} // namespace p2pd::sim
