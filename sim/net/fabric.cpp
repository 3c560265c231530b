#include "p2pd/sim/net/fabric.hpp"

#include <utility>

namespace p2pd::sim {

namespace {

// `base` + n, within the family (no carry into a scope).
net::ip_address offset_address(const net::ip_address& base, uint32_t n) {
  if (base.is_v4())
    return net::ip_address::v4(base.v4_value() + n);
  auto bytes = base.bytes();
  uint64_t carry = n;
  for (int i = 15; i >= 0 && carry != 0; --i) {
    carry += bytes[static_cast<size_t>(i)];
    bytes[static_cast<size_t>(i)] = static_cast<uint8_t>(carry & 0xff);
    carry >>= 8;
  }
  return net::ip_address::v6(bytes);
}

} // namespace

fabric::fabric(event_queue& queue, config cfg)
  : queue_(queue),
    cfg_(cfg),
    rng_(cfg.seed),
    internet_(cfg.internet, rng_.split()),
    trace_(cfg.trace_log_limit) {
  // The core's draws come first, so that they do not depend on how many
  // hosts and sites are added.
}

net::error fabric::claim(const net::ip_address& ip, route r) {
  if (routes_.count(ip) != 0)
    return {net::errc::invalid_argument, "address " + ip.to_string() + " is in use in the fabric"};
  routes_.emplace(ip, r);
  return {};
}

net::result<host_id> fabric::add_public_host(public_host_config cfg) {
  if (cfg.addresses.empty())
    return net::error{net::errc::invalid_argument, "a public host needs an address"};
  const auto id = static_cast<host_id>(hosts_.size());
  for (size_t i = 0; i < cfg.addresses.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (cfg.addresses[i] == cfg.addresses[j])
        return net::error{net::errc::invalid_argument,
                          "address " + cfg.addresses[i].to_string() + " given twice"};
  for (const auto& ip : cfg.addresses)
    if (routes_.count(ip) != 0)
      return net::error{net::errc::invalid_argument,
                        "address " + ip.to_string() + " is in use in the fabric"};
  for (const auto& ip : cfg.addresses)
    claim(ip, route{route::public_host, id, 0});
  hosts_.push_back(host_rec{std::move(cfg.addresses), std::nullopt, link{cfg.link, rng_.split()},
                            nullptr, nullptr});
  return id;
}

net::result<site_id> fabric::add_site(site_config cfg) {
  if (auto err = check(cfg.nat))
    return net::error{err.code, "site NAT: " + err.what};
  if (auto err = check(cfg.nat_v6))
    return net::error{err.code, "site IPv6 firewall: " + err.what};
  if (!cfg.external.is_v4() || !cfg.lan_base.is_v4())
    return net::error{net::errc::invalid_argument,
                      "a site's external address and LAN base are IPv4"};
  if (cfg.v6_base && !cfg.v6_base->is_v6())
    return net::error{net::errc::invalid_argument, "a site's IPv6 base must be IPv6"};
  const auto id = static_cast<site_id>(sites_.size());
  if (auto err = claim(cfg.external, route{route::site_external, 0, id}))
    return err;
  site_rec s{cfg, link{cfg.uplink, rng_.split()}, nullptr, nullptr, 0};
  s.v4 = std::make_unique<nat_table>(cfg.nat, cfg.external, rng_.next());
  s.v6 = std::make_unique<nat_table>(cfg.nat_v6, cfg.v6_base.value_or(net::ip_address::any(net::family::v6)),
                                     rng_.next());
  sites_.push_back(std::move(s));
  return id;
}

net::result<host_id> fabric::add_host(site_id site, link_config access) {
  if (site >= sites_.size())
    return net::error{net::errc::invalid_argument, "no site " + std::to_string(site)};
  auto& s = sites_[site];
  const auto n = s.next_host++;
  const auto id = static_cast<host_id>(hosts_.size());
  std::vector<net::ip_address> addrs{offset_address(s.cfg.lan_base, n)};
  if (s.cfg.v6_base)
    addrs.push_back(offset_address(*s.cfg.v6_base, n));
  // Without translation the LAN addresses are the ones the Internet sees.
  const bool translates = s.cfg.nat.mode == nat_mode::nat || s.cfg.nat.mode == nat_mode::blocked;
  std::vector<net::ip_address> routed;
  if (!translates)
    routed.push_back(addrs[0]);
  if (s.cfg.v6_base)
    routed.push_back(addrs.back());
  // All or nothing: checked before any is claimed.
  for (const auto& ip : routed)
    if (routes_.count(ip) != 0)
      return net::error{net::errc::invalid_argument,
                        "address " + ip.to_string() + " is in use in the fabric"};
  for (const auto& ip : routed)
    claim(ip, route{route::site_direct, id, site});
  lan_.emplace(std::make_pair(site, addrs[0]), id);
  hosts_.push_back(host_rec{std::move(addrs), site, link{access, rng_.split()}, nullptr, nullptr});
  return id;
}

std::optional<net::ip_address> fabric::address_of(host_id h, net::family f) const {
  for (const auto& ip : hosts_.at(h).addresses)
    if (ip.fam() == f)
      return ip;
  return std::nullopt;
}

bool fabric::owns(host_id h, const net::ip_address& ip) const {
  for (const auto& a : hosts_.at(h).addresses)
    if (a == ip)
      return true;
  return false;
}

void fabric::attach(host_id h, protocol proto, receiver r) {
  auto& rec = hosts_.at(h);
  (proto == protocol::udp ? rec.udp : rec.tcp) = std::move(r);
}

void fabric::record(trace_kind k, uint32_t where, const frame& f, const char* why) {
  trace_.record(queue_.now(), k, where, f.pkt, f.payload, why);
}

void fabric::note_no_socket(host_id h, const frame& f, const char* why) {
  ++stats_.no_socket;
  record(trace_kind::no_socket, h, f, why);
}

void fabric::note(host_id h, const packet& p, const char* why) {
  trace_.record(queue_.now(), trace_kind::note, h, p, {}, why);
}

bool fabric::cross(link& l, const frame& f, uint32_t where, sim_time& delay) {
  auto d = l.traverse(f.pkt.proto == protocol::udp);
  if (!d) {
    ++stats_.lost;
    record(trace_kind::lost, where, f, "lost on a link");
    return false;
  }
  delay += *d;
  return true;
}

std::optional<host_id> fabric::lan_host(site_id s, const net::ip_address& ip) const {
  if (ip.is_v6()) {
    auto r = routes_.find(ip);
    if (r != routes_.end() && r->second.kind == route::site_direct && r->second.site == s)
      return r->second.host;
    return std::nullopt;
  }
  auto found = lan_.find(std::make_pair(s, ip));
  if (found == lan_.end())
    return std::nullopt;
  return found->second;
}

net::error fabric::send(host_id from, frame f) {
  if (from >= hosts_.size())
    return {net::errc::invalid_argument, "no host " + std::to_string(from)};
  if (!owns(from, f.pkt.src.ip))
    return {net::errc::invalid_argument,
            "source " + f.pkt.src.to_string() + " is not an address of host " + std::to_string(from)};
  ++stats_.sent;
  if (f.pkt.proto == protocol::tcp)
    ++stats_.sent_tcp;
  record(trace_kind::send, from, f, "");
  auto& h = hosts_[from];
  sim_time delay{0};
  if (!cross(h.access, f, from, delay))
    return {};
  if (!h.site) {
    into_internet(std::move(f), delay, from);
    return {};
  }
  const auto s = *h.site;
  // Another host of the same LAN: switched, no NAT.
  if (lan_host(s, f.pkt.dst.ip)) {
    to_lan_host(s, std::move(f), delay);
    return {};
  }
  queue_.schedule_in(delay, [this, s, from, f = std::move(f)]() mutable {
    at_nat_out(s, from, std::move(f));
  });
  return {};
}

void fabric::to_lan_host(site_id s, frame f, sim_time delay_so_far) {
  auto peer = lan_host(s, f.pkt.dst.ip);
  if (!peer) {
    ++stats_.no_route;
    record(trace_kind::no_route, site_place(s), f, "no such host in the LAN");
    return;
  }
  if (!cross(hosts_[*peer].access, f, *peer, delay_so_far))
    return;
  queue_.schedule_in(delay_so_far, [this, h = *peer, f = std::move(f)]() mutable {
    at_host(h, std::move(f));
  });
}

void fabric::at_nat_out(site_id s, host_id, frame f) {
  auto& site = sites_[s];
  auto v = table_for(site, f.pkt.src).outbound(f.pkt, queue_.now());
  record(trace_kind::nat_out, site_place(s), f, v.why);
  switch (v.action) {
    case nat_action::to_internet: {
      f.pkt = v.pkt;
      sim_time delay{0};
      if (!cross(site.uplink, f, site_place(s), delay))
        return;
      into_internet(std::move(f), delay, site_place(s));
      return;
    }
    case nat_action::to_lan: // a hairpin
      f.pkt = v.pkt;
      to_lan_host(s, std::move(f), sim_time{0});
      return;
    case nat_action::drop:
      ++stats_.nat_dropped;
      record(trace_kind::nat_drop, site_place(s), f, v.why);
      return;
    case nat_action::reset: // a hairpinned SYN refused: the RST goes back in
      ++stats_.nat_resets;
      record(trace_kind::nat_reset, site_place(s), f, v.why);
      to_lan_host(s, frame{v.pkt, {}}, sim_time{0});
      return;
  }
}

void fabric::at_nat_in(site_id s, frame f) {
  auto& site = sites_[s];
  auto v = table_for(site, f.pkt.dst).inbound(f.pkt, queue_.now());
  record(trace_kind::nat_in, site_place(s), f, v.why);
  switch (v.action) {
    case nat_action::to_lan:
      f.pkt = v.pkt;
      to_lan_host(s, std::move(f), sim_time{0});
      return;
    case nat_action::to_internet: // not an inbound answer; treat as a drop
    case nat_action::drop:
      ++stats_.nat_dropped;
      record(trace_kind::nat_drop, site_place(s), f, v.why);
      return;
    case nat_action::reset: {
      ++stats_.nat_resets;
      record(trace_kind::nat_reset, site_place(s), f, v.why);
      frame rst{v.pkt, {}};
      sim_time delay{0};
      if (!cross(site.uplink, rst, site_place(s), delay))
        return;
      into_internet(std::move(rst), delay, site_place(s));
      return;
    }
  }
}

void fabric::into_internet(frame f, sim_time delay, uint32_t from) {
  auto r = routes_.find(f.pkt.dst.ip);
  if (r == routes_.end()) {
    ++stats_.no_route;
    record(trace_kind::no_route, from, f, "nobody has the destination address");
    return;
  }
  if (!cross(internet_, f, from, delay))
    return;
  const auto where = r->second;
  if (where.kind == route::public_host) {
    if (!cross(hosts_[where.host].access, f, where.host, delay))
      return;
    queue_.schedule_in(delay, [this, h = where.host, f = std::move(f)]() mutable {
      at_host(h, std::move(f));
    });
    return;
  }
  if (!cross(sites_[where.site].uplink, f, site_place(where.site), delay))
    return;
  queue_.schedule_in(delay, [this, s = where.site, f = std::move(f)]() mutable {
    at_nat_in(s, std::move(f));
  });
}

void fabric::at_host(host_id h, frame f) {
  auto& rec = hosts_[h];
  auto& r = f.pkt.proto == protocol::udp ? rec.udp : rec.tcp;
  if (!r) {
    ++stats_.no_stack;
    record(trace_kind::no_socket, h, f, "the host has no stack for the protocol");
    return;
  }
  ++stats_.delivered;
  record(trace_kind::deliver, h, f, "");
  r(std::move(f));
}

} // namespace p2pd::sim
