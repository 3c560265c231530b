#include "p2pd/sim/net/trace.hpp"

#include <cstring>

namespace p2pd::sim {

const char* to_string(trace_kind x) {
  switch (x) {
    case trace_kind::send: return "send";
    case trace_kind::nat_out: return "nat_out";
    case trace_kind::nat_in: return "nat_in";
    case trace_kind::deliver: return "deliver";
    case trace_kind::lost: return "lost";
    case trace_kind::no_route: return "no_route";
    case trace_kind::no_socket: return "no_socket";
    case trace_kind::nat_drop: return "nat_drop";
    case trace_kind::nat_reset: return "nat_reset";
    case trace_kind::note: return "note";
  }
  return "?";
}

std::string describe(const packet& p, size_t payload_size) {
  std::string s = p.proto == protocol::udp ? "udp " : "tcp ";
  s += p.src.to_string();
  s += " > ";
  s += p.dst.to_string();
  if (p.proto == protocol::tcp) {
    s += ' ';
    if (p.has(tcp_flag::syn))
      s += 'S';
    if (p.has(tcp_flag::ack))
      s += 'A';
    if (p.has(tcp_flag::fin))
      s += 'F';
    if (p.has(tcp_flag::rst))
      s += 'R';
  }
  if (payload_size > 0)
    s += " (" + std::to_string(payload_size) + " B)";
  return s;
}

void trace::mix(const void* data, size_t n, bool payload) {
  auto bytes = static_cast<const uint8_t*>(data);
  for (size_t i = 0; i < n; ++i) {
    hash_ ^= bytes[i];
    hash_ *= 0x100000001b3ULL; // FNV-1a 64-bit prime
    if (!payload) {
      shape_hash_ ^= bytes[i];
      shape_hash_ *= 0x100000001b3ULL;
    }
  }
}

void trace::mix_endpoint(const net::endpoint& e) {
  mix_value(static_cast<uint8_t>(e.ip.is_v4() ? 4 : 6));
  mix(e.ip.bytes().data(), e.ip.bytes().size());
  // Byte by byte: the encoding must not depend on the host's endianness.
  mix_value(static_cast<uint8_t>(e.port >> 8));
  mix_value(static_cast<uint8_t>(e.port & 0xff));
}

void trace::record(sim_time t, trace_kind k, uint32_t where, const packet& p,
                   const std::vector<uint8_t>& payload, const char* why) {
  ++events_;
  const auto us = static_cast<uint64_t>(t.count());
  for (int shift = 56; shift >= 0; shift -= 8)
    mix_value(static_cast<uint8_t>(us >> shift));
  mix_value(static_cast<uint8_t>(k));
  for (int shift = 24; shift >= 0; shift -= 8)
    mix_value(static_cast<uint8_t>(where >> shift));
  mix_value(static_cast<uint8_t>(p.proto));
  mix_endpoint(p.src);
  mix_endpoint(p.dst);
  mix_value(p.flags);
  const auto size = static_cast<uint32_t>(payload.size());
  for (int shift = 24; shift >= 0; shift -= 8)
    mix_value(static_cast<uint8_t>(size >> shift));
  if (!payload.empty())
    mix(payload.data(), payload.size(), true);
  if (log_limit_ == 0)
    return;
  if (log_.size() >= log_limit_) {
    ++log_dropped_;
    return;
  }
  // Places: hosts as their id, sites with the top bit set (fabric.hpp).
  const bool site = (where & 0x80000000u) != 0;
  std::string line = std::to_string(t.count()) + "us " + to_string(k) + (site ? " site " : " host ") +
                     std::to_string(where & 0x7fffffffu) + " " + describe(p, payload.size());
  if (why != nullptr && *why != '\0') {
    line += ": ";
    line += why;
  }
  log_.push_back(std::move(line));
}

} // namespace p2pd::sim
