#include "p2pd/sim/net/host_udp.hpp"

#include <utility>

namespace p2pd::sim {

host_udp::host_udp(fabric& f, host_id h) : fabric_(f), host_(h), ports_(f.draw_seed()) {
  fabric_.attach(h, protocol::udp, [this](frame fr) { deliver(std::move(fr)); });
}

host_udp::~host_udp() {
  fabric_.attach(host_, protocol::udp, nullptr);
}

bool host_udp::port_taken(const net::endpoint& local) const {
  for (const auto& [id, s] : sockets_)
    if (bindings_overlap(s.local, local))
      return true;
  return false;
}

net::result<int> host_udp::bind(net::endpoint requested) {
  const bool explicit_port = requested.port != 0;
  auto local = ports_.resolve(requested, fabric_.owns(host_, requested.ip), "bind",
                              [this](const net::endpoint& e) { return port_taken(e); });
  if (!local)
    return local.error();
  if (explicit_port && port_taken(*local))
    return net::error{net::errc::bind_failed,
                      "bind " + local->to_string() + ": port in use (EADDRINUSE)"};
  const int id = next_id_++;
  sockets_.emplace(id, socket{*local, nullptr, {}});
  return id;
}

void host_udp::close(int sock) {
  sockets_.erase(sock);
}

net::error host_udp::send_to(int sock, const net::endpoint& to, std::vector<uint8_t> payload) {
  auto s = sockets_.find(sock);
  if (s == sockets_.end())
    return {net::errc::invalid_argument, "send_to: no UDP socket " + std::to_string(sock)};
  auto src = s->second.local;
  if (src.fam() != to.fam())
    return {net::errc::family_unsupported,
            "send_to " + to.to_string() + " from " + src.to_string() + ": another address family"};
  if (src.ip.is_any()) {
    auto ip = fabric_.address_of(host_, to.fam());
    if (!ip)
      return {net::errc::family_unsupported,
              "send_to " + to.to_string() + ": the host has no address of that family"};
    src.ip = *ip;
  }
  return fabric_.send(host_, frame{packet::udp(src, to), std::move(payload)});
}

void host_udp::on_receive(int sock, handler h) {
  auto s = sockets_.find(sock);
  if (s == sockets_.end())
    return;
  s->second.h = std::move(h);
  // What waited in the inbox goes first, in order.
  while (!s->second.inbox.empty() && s->second.h) {
    auto d = std::move(s->second.inbox.front());
    s->second.inbox.pop_front();
    s->second.h(std::move(d));
  }
}

std::optional<udp_datagram> host_udp::take(int sock) {
  auto s = sockets_.find(sock);
  if (s == sockets_.end() || s->second.inbox.empty())
    return std::nullopt;
  auto d = std::move(s->second.inbox.front());
  s->second.inbox.pop_front();
  return d;
}

net::result<net::endpoint> host_udp::local_endpoint(int sock) const {
  auto s = sockets_.find(sock);
  if (s == sockets_.end())
    return net::error{net::errc::invalid_argument, "no UDP socket " + std::to_string(sock)};
  return s->second.local;
}

void host_udp::deliver(frame f) {
  // An exact address match wins over the any address, as in the kernel.
  socket* best = nullptr;
  for (auto& [id, s] : sockets_) {
    if (s.local.port != f.pkt.dst.port || s.local.fam() != f.pkt.dst.fam())
      continue;
    if (s.local.ip == f.pkt.dst.ip) {
      best = &s;
      break;
    }
    if (s.local.ip.is_any() && best == nullptr)
      best = &s;
  }
  if (best == nullptr) {
    fabric_.note_no_socket(host_, f, "UDP port closed");
    return;
  }
  if (!best->h && best->inbox.size() >= inbox_limit) {
    ++inbox_dropped_;
    fabric_.note_no_socket(host_, f, "UDP inbox full");
    return;
  }
  udp_datagram d{f.pkt.src, f.pkt.dst, std::move(f.payload)};
  if (best->h)
    best->h(std::move(d));
  else
    best->inbox.push_back(std::move(d));
}

} // namespace p2pd::sim
