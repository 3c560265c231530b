#include "p2pd/sim/nat/nat_table.hpp"

#include <algorithm>

namespace p2pd::sim {

const char* to_string(nat_action x) {
  switch (x) {
    case nat_action::to_internet: return "to_internet";
    case nat_action::to_lan: return "to_lan";
    case nat_action::drop: return "drop";
    case nat_action::reset: return "reset";
  }
  return "invalid";
}

namespace {

size_t index_of(protocol p) { return p == protocol::udp ? 0 : 1; }

verdict dropped(const packet& p, const char* why) { return {nat_action::drop, p, why}; }

} // namespace

nat_table::nat_table(nat_profile profile, net::ip_address external, uint64_t seed)
  : profile_(std::move(profile)), external_(external), rng_(seed) {
}

sim_time nat_table::lifetime(flow_state s) const {
  switch (s) {
    case flow_state::udp_unreplied: return profile_.udp.unreplied;
    case flow_state::udp_assured: return profile_.udp.assured;
    case flow_state::tcp_established: return profile_.tcp.established;
    case flow_state::tcp_opening:
    case flow_state::tcp_closing: return profile_.tcp.transitory;
    case flow_state::tcp_closed: return profile_.tcp.closed;
  }
  return sim_time::zero();
}

void nat_table::note_expiry(const flow& f) {
  next_expiry_ = std::min(next_expiry_, expiry(f));
}

// Lazy: a pass over the table only once something is due.
void nat_table::expire(sim_time now) {
  if (now < next_expiry_)
    return;
  next_expiry_ = sim_time::max();
  for (auto it = mappings_.begin(); it != mappings_.end();) {
    auto& m = it->second;
    for (auto f = m.flows.begin(); f != m.flows.end();) {
      if (expiry(f->second) <= now) {
        f = m.flows.erase(f);
      } else {
        note_expiry(f->second);
        ++f;
      }
    }
    if (m.flows.empty()) {
      by_external_.erase({m.proto, m.external});
      by_key_.erase(m.key);
      it = mappings_.erase(it);
    } else {
      ++it;
    }
  }
}

nat_table::mapping_key nat_table::key_of(protocol proto, const net::endpoint& internal,
                                         const net::endpoint& remote) const {
  // Without translation the mapping is the inside endpoint: one per socket.
  auto dep = translates() ? profile_.mapping : dependence::endpoint_independent;
  switch (dep) {
    case dependence::endpoint_independent: return {proto, internal, net::endpoint{}};
    case dependence::address_dependent: return {proto, internal, net::endpoint{remote.ip, 0}};
    case dependence::address_and_port_dependent: return {proto, internal, remote};
  }
  return {proto, internal, remote};
}

uint16_t nat_table::wrap(long port) const {
  const long lo = profile_.ports.min;
  const long span = static_cast<long>(profile_.ports.max) - lo + 1;
  long v = (port - lo) % span;
  if (v < 0)
    v += span;
  return static_cast<uint16_t>(lo + v);
}

bool nat_table::port_free(protocol proto, uint16_t port) const {
  return port != 0 && by_external_.count({proto, net::endpoint{external_, port}}) == 0;
}

std::optional<uint16_t> nat_table::allocate(protocol proto, uint16_t internal_port) {
  const auto& a = profile_.ports;
  auto& last = last_port_[index_of(proto)];
  auto& last_internal = last_internal_[index_of(proto)];
  auto random_port = [&] {
    return static_cast<uint16_t>(rng_.between(a.min, a.max));
  };
  uint16_t wanted = 0;
  switch (a.type) {
    case net::delta_type::equal:
      wanted = internal_port;
      break;
    case net::delta_type::preserving:
      wanted = wrap(static_cast<long>(internal_port) + a.offset);
      break;
    case net::delta_type::independent:
      // The first mapping starts the sequence somewhere in the range.
      wanted = last ? wrap(static_cast<long>(*last) + a.step) : random_port();
      break;
    case net::delta_type::dependent:
      wanted = last && internal_port == static_cast<uint16_t>(last_internal + 1)
                 ? wrap(static_cast<long>(*last) + a.step)
                 : random_port();
      break;
    default: // random (check() refuses the rest)
      wanted = random_port();
      break;
  }
  std::optional<uint16_t> got;
  if (port_free(proto, wanted)) {
    got = wanted;
  } else {
    const long span = static_cast<long>(a.max) - a.min + 1;
    long start = wanted;
    if (a.collision == collision_rule::random_free) {
      // A few draws find a free port in all but a nearly full range; then a
      // scan from a random place, so that the answer stays seeded.
      for (int i = 0; i < 64 && !got; ++i) {
        auto p = random_port();
        if (port_free(proto, p))
          got = p;
      }
      start = random_port();
    }
    for (long i = 1; i <= span && !got; ++i) {
      auto p = wrap(start + i);
      if (port_free(proto, p))
        got = p;
    }
  }
  if (got) {
    last = *got;
    last_internal = internal_port;
  }
  return got;
}

packet nat_table::rst_for(const packet& p) {
  return packet::tcp(p.dst, p.src, tcp_flag::rst | tcp_flag::ack);
}

std::optional<verdict> nat_table::translate_out(const packet& p, sim_time now) {
  auto key = key_of(p.proto, p.src, p.dst);
  auto found = by_key_.find(key);
  mapping* m = nullptr;
  if (found != by_key_.end()) {
    m = &mappings_.at(found->second);
  } else {
    // An RST with no connection is INVALID to conntrack and leaves
    // untranslated; with a private source it goes nowhere, so it is dropped
    // here. Other segments (FIN, ACK, data) are picked up mid-stream, as
    // Linux does (nf_conntrack_tcp_loose).
    if (p.proto == protocol::tcp && p.has(tcp_flag::rst))
      return dropped(p, "an RST with no connection is not tracked");
    net::endpoint ext = p.src;
    if (translates()) {
      auto port = allocate(p.proto, p.src.port);
      if (!port)
        return std::nullopt;
      ext = net::endpoint{external_, *port};
    }
    auto id = next_id_++;
    m = &mappings_[id];
    m->key = key;
    m->proto = p.proto;
    m->internal = p.src;
    m->external = ext;
    by_key_[key] = id;
    by_external_[{p.proto, ext}] = id;
  }
  auto f = m->flows.find(p.dst);
  if (f == m->flows.end()) {
    if (p.proto == protocol::tcp && p.has(tcp_flag::rst))
      return dropped(p, "an RST with no connection is not tracked");
    flow fresh{p.proto == protocol::udp ? flow_state::udp_unreplied
                                        : (p.is_bare_syn() ? flow_state::tcp_opening
                                                           : flow_state::tcp_established),
               false, now};
    f = m->flows.emplace(p.dst, fresh).first;
  } else {
    auto& fl = f->second;
    if (p.proto == protocol::udp) {
      if (fl.state == flow_state::udp_unreplied && fl.from_outside)
        fl.state = flow_state::udp_assured; // our reply to their datagram
    } else {
      // Their connection, reset: our SYN on it is in conntrack's reply
      // direction, INVALID as in filter_in, and leaves untranslated.
      if (p.is_bare_syn() && fl.state == flow_state::tcp_closed && fl.from_outside)
        return dropped(p, "a SYN back on a connection an RST closed is invalid");
      if (p.has(tcp_flag::rst))
        fl.state = flow_state::tcp_closed;
      else if (p.has(tcp_flag::fin))
        fl.state = flow_state::tcp_closing;
      else if (p.is_bare_syn()
               && (fl.state == flow_state::tcp_closing || fl.state == flow_state::tcp_closed))
        fl.state = flow_state::tcp_opening; // a new connection on the same tuple
      else if (fl.state == flow_state::tcp_opening && fl.from_outside)
        fl.state = flow_state::tcp_established; // our answer to their SYN
    }
    fl.last = now; // outbound always refreshes
  }
  note_expiry(f->second);
  auto out = p;
  out.src = m->external;
  return verdict{nat_action::to_internet, out, "translated"};
}

verdict nat_table::filter_in(const packet& p, sim_time now) {
  auto unsolicited = [&](const char* why) {
    if (p.is_bare_syn() && profile_.unsolicited_syn == syn_reply::rst)
      return verdict{nat_action::reset, rst_for(p), why};
    return dropped(p, why);
  };
  auto found = by_external_.find({p.proto, p.dst});
  if (found == by_external_.end())
    return unsolicited("no mapping for that address");
  auto& m = mappings_.at(found->second);
  const auto dep = profile_.filtering;
  auto f = m.flows.find(p.src);
  bool allowed = f != m.flows.end();
  if (!allowed && dep == dependence::endpoint_independent)
    allowed = true; // the mapping is live: it has a flow
  if (!allowed && dep == dependence::address_dependent)
    allowed = std::any_of(m.flows.begin(), m.flows.end(),
                          [&](const auto& x) { return x.first.ip == p.src.ip; });
  if (!allowed)
    return unsolicited(dep == dependence::address_dependent
                         ? "filtered: no flow to that address"
                         : "filtered: no flow to that address and port");
  if (f == m.flows.end()) {
    // Let in by the filter without a flow of its own: it starts one (a reply
    // from inside then finds it), as conntrack tracks any accepted packet.
    // Inbound, only a SYN starts a TCP flow (a choice of the model): a
    // mid-stream segment from a peer never talked to is no connection.
    if (p.proto == protocol::tcp && !p.is_bare_syn())
      return dropped(p, "a TCP segment that opens nothing, to a mapping that allows it");
    flow fresh{p.proto == protocol::udp ? flow_state::udp_unreplied : flow_state::tcp_opening,
               true, now};
    f = m.flows.emplace(p.src, fresh).first;
  } else {
    auto& fl = f->second;
    if (p.proto == protocol::udp) {
      if (fl.state == flow_state::udp_unreplied && !fl.from_outside)
        fl.state = flow_state::udp_assured;
    } else if (p.is_bare_syn() && fl.state == flow_state::tcp_closed && !fl.from_outside) {
      // Conntrack takes a SYN in the reply direction of a connection an RST
      // closed as INVALID (tcp_conntracks: sCL -> sIV), and a router that
      // accepts only established traffic drops it. This is what breaks the
      // RST ping-pong of two peers punching TCP: the one that was refused
      // keeps its socket waiting, and the other's next SYN meets it.
      return dropped(p, "a SYN back on a connection an RST closed is invalid");
    } else if (p.is_bare_syn() && fl.from_outside
               && (fl.state == flow_state::tcp_closing || fl.state == flow_state::tcp_closed)) {
      fl.state = flow_state::tcp_opening; // they open their tuple again (sCL/sTW -> sSS)
    } else if (p.has(tcp_flag::rst)) {
      fl.state = flow_state::tcp_closed;
    } else if (p.has(tcp_flag::fin)) {
      fl.state = flow_state::tcp_closing;
    } else if (fl.state == flow_state::tcp_opening && !fl.from_outside) {
      // Their SYN-ACK, or their SYN meeting ours (simultaneous open).
      fl.state = flow_state::tcp_established;
    }
    if (profile_.refresh == refresh_rule::inbound_too)
      fl.last = now;
  }
  note_expiry(f->second);
  auto in = p;
  in.dst = m.internal;
  return {nat_action::to_lan, in, "accepted"};
}

std::optional<verdict> nat_table::by_mode(const packet& p, nat_action pass) const {
  if (profile_.mode == nat_mode::open)
    return verdict{pass, p, "no NAT"};
  if (profile_.mode == nat_mode::blocked && p.proto == protocol::udp)
    return dropped(p, "UDP is blocked");
  return std::nullopt;
}

verdict nat_table::outbound(const packet& p, sim_time now) {
  expire(now);
  if (auto v = by_mode(p, nat_action::to_internet))
    return *v;
  if (translates() && p.src.fam() != external_.fam())
    return dropped(p, "another address family than the NAT's");
  const bool hairpin = translates() && p.dst.ip == external_;
  if (hairpin && profile_.hairpin == hairpin_mode::none)
    return dropped(p, "hairpinning is not supported");
  auto out = translate_out(p, now);
  if (!out)
    return dropped(p, "no free external port");
  if (!hairpin || out->action != nat_action::to_internet)
    return *out;
  // Hairpin: the translated packet comes back in through the filter, as if
  // it had come from the Internet.
  auto in = filter_in(out->pkt, now);
  if (in.action == nat_action::to_lan) {
    if (profile_.hairpin == hairpin_mode::internal_source)
      in.pkt.src = p.src;
    in.why = "hairpinned";
  } else if (in.action == nat_action::reset) {
    in.pkt.dst = p.src; // the RST goes back to the inside sender
  } else {
    in.pkt = p;
  }
  return in;
}

verdict nat_table::inbound(const packet& p, sim_time now) {
  expire(now);
  if (auto v = by_mode(p, nat_action::to_lan))
    return *v;
  if (translates() && p.dst.ip != external_)
    return dropped(p, "not addressed to the NAT's external address");
  return filter_in(p, now);
}

std::optional<net::endpoint> nat_table::mapping_for(protocol proto, const net::endpoint& internal,
                                                    const net::endpoint& remote, sim_time now) {
  expire(now);
  if (profile_.mode == nat_mode::open)
    return internal;
  auto found = by_key_.find(key_of(proto, internal, remote));
  if (found == by_key_.end())
    return std::nullopt;
  return mappings_.at(found->second).external;
}

size_t nat_table::mapping_count(sim_time now) {
  expire(now);
  return mappings_.size();
}

} // namespace p2pd::sim
