#include "p2pd/node/connect/plan.hpp"

#include <algorithm>

#include "p2pd/net/addr/ip_class.hpp"
#include "p2pd/net/addr/ip_range.hpp"

namespace p2pd::node {

namespace {

using net::family;

bool same(const std::optional<net::ip_address>& x, const std::optional<net::ip_address>& y) {
  return x && y && *x == *y;
}

// Both NIC addresses are of one non-global kind (private, loopback,
// unique-local, shared): with no external address known on either side,
// such a pair is most likely one LAN (or one machine), and trying costs a
// refused connect at most.
bool same_local_kind(const peer_route& r, const peer_route& p) {
  if (!r.nic || !p.nic)
    return false;
  auto a = net::classify(*r.nic);
  return a == net::classify(*p.nic) && a != net::ip_scope::global;
}

// The peer's NIC address is on our route's link (our prefix; with no prefix
// known, on a non-global address of the same kind as ours).
bool on_our_link(const peer_route& r, const peer_route& p) {
  if (!r.nic || !p.nic)
    return false;
  if (r.prefix == 0)
    return same_local_kind(r, p);
  auto net = net::ip_range::make(*r.nic, r.prefix);
  return net && net->contains(*p.nic);
}

// The peer's address on the Internet for this route: its external address,
// or (IPv6 without one) its global NIC address, which needs no NAT.
std::optional<net::ip_address> public_of(const peer_route& p) {
  if (p.external)
    return p.external;
  if (p.fam == family::v6 && p.nic && net::is_public(*p.nic))
    return p.nic;
  return std::nullopt;
}

// Port mapping: the peer's gateway forwards its mapped TCP port to the
// node port, whatever its NAT does with unsolicited traffic. Not from
// behind the same router (its LAN address is the way; hairpinning is not
// sure).
std::optional<net::endpoint> mapped_target(const peer_route& r, const peer_route& p) {
  if (!p.mapped || p.mapped_tcp == 0 || same(r.external, p.external))
    return std::nullopt;
  return net::endpoint{*p.mapped, p.mapped_tcp};
}

// The same for UDP: the punch exchange agrees the keys, then we probe the
// peer's mapped UDP endpoint and the peer answers from its node port.
std::optional<net::endpoint> mapped_udp_target(const peer_route& r, const peer_route& p) {
  if (!p.mapped || p.mapped_udp == 0 || same(r.external, p.external))
    return std::nullopt;
  return net::endpoint{*p.mapped, p.mapped_udp};
}

// The order of direct paths: cheapest first, a mapping before the external
// address it most often equals.
int path_rank(path_kind p) {
  switch (p) {
    case path_kind::same_host: return 0;
    case path_kind::lan: return 1;
    case path_kind::link_local: return 2;
    case path_kind::mapped: return 3;
    case path_kind::external: return 4;
    default: return 5;
  }
}

void plan_direct(const local_view& me, const peer_address& peer, family fam,
                 std::vector<attempt>& out) {
  std::vector<attempt> found;
  auto add = [&](const peer_route& r, const peer_route& p, path_kind path, net::endpoint target,
                 net::ip_address bind) {
    attempt a;
    a.how = strategy::direct;
    a.fam = fam;
    a.path = path;
    a.local_interface = r.interface;
    a.remote_interface = p.interface;
    a.target = target;
    a.bind = bind;
    found.push_back(a);
  };
  for (const auto& r : me.self.routes) {
    if (r.fam != fam)
      continue;
    for (const auto& p : peer.routes) {
      if (p.fam != fam)
        continue;
      auto our_bind = r.nic ? *r.nic : net::ip_address::any(fam);
      bool behind_one_router = same(r.external, p.external);
      bool no_externals = !r.external && !p.external;
      // One NIC address on both sides is one machine, unless the externals
      // say two routers (two homes may both use 192.168.1.2).
      if (same(r.nic, p.nic) && (behind_one_router || no_externals))
        add(r, p, path_kind::same_host, {*p.nic, p.port}, our_bind);
      else if (p.nic && !same(r.nic, p.nic)
               && (on_our_link(r, p) || (behind_one_router && same_local_kind(r, p))))
        add(r, p, path_kind::lan, {*p.nic, p.port}, our_bind);
      // Two global addresses of different prefixes say two links: a
      // link-local attempt would only wait for its timeout.
      bool other_links = r.nic && p.nic && !on_our_link(r, p) && !behind_one_router;
      if (fam == family::v6 && r.link_local && p.link_local && !other_links
          && r.interface < me.scope_of_interface.size()
          && me.scope_of_interface[r.interface] != 0) {
        auto scope = me.scope_of_interface[r.interface];
        add(r, p, path_kind::link_local, {p.link_local->with_scope(scope), p.port},
            r.link_local->with_scope(scope));
      }
      if (auto m = mapped_target(r, p))
        add(r, p, path_kind::mapped, *m, our_bind);
      auto pub = public_of(p);
      if (pub && !behind_one_router)
        add(r, p, path_kind::external, {*pub, p.port}, our_bind);
    }
  }
  std::stable_sort(found.begin(), found.end(), [](const attempt& x, const attempt& y) {
    return path_rank(x.path) < path_rank(y.path);
  });
  for (auto& a : found) {
    bool dup = std::any_of(out.begin(), out.end(), [&](const attempt& b) {
      return b.how == a.how && b.target.ip == a.target.ip && b.target.port == a.target.port;
    });
    if (!dup)
      out.push_back(a);
  }
}

// A punch from our route `r` (bound to its NIC address) to the peer's `p`.
attempt punch_attempt(const peer_route& r, const peer_route& p, path_kind path,
                      net::endpoint target) {
  attempt a;
  a.how = strategy::punch;
  a.fam = r.fam;
  a.path = path;
  a.local_interface = r.interface;
  a.remote_interface = p.interface;
  a.target = target;
  a.bind = *r.nic;
  return a;
}

// Our first route of `fam` with the peer's first one that has an address on
// the Internet (an external one, or a public NIC address).
void plan_punch(const local_view& me, const peer_address& peer, family fam, bool stream,
                std::vector<attempt>& out) {
  auto ours = std::find_if(me.self.routes.begin(), me.self.routes.end(),
                           [&](const peer_route& r) { return r.fam == fam && r.nic; });
  if (ours == me.self.routes.end())
    return;
  // Datagrams: the peer's UDP port mapping first, a punch of its own that
  // needs no prediction (node_connect.cpp runs it in a round of its own,
  // before the predicted one).
  if (!stream)
    for (const auto& p : peer.routes) {
      if (p.fam != fam)
        continue;
      if (auto m = mapped_udp_target(*ours, p)) {
        out.push_back(punch_attempt(*ours, p, path_kind::mapped, *m));
        break;
      }
    }
  for (const auto& p : peer.routes) {
    if (p.fam != fam)
      continue;
    // Behind one router (or on one link) the peer's NIC address is the way;
    // a punch there is a simultaneous connect that needs no prediction.
    auto path = path_kind::external;
    auto pub = public_of(p);
    if (!pub && p.nic && p.nat == net::nat_type::open_internet)
      pub = p.nic;
    if ((!pub || same(ours->external, p.external)) && p.nic && on_our_link(*ours, p)) {
      pub = p.nic;
      path = path_kind::lan;
    }
    // A peer whose UDP probes all failed has no external address, but its
    // NAT may map TCP: the exchange brings the address its TCP mapping has.
    bool address_from_exchange = !pub && stream && p.nat == net::nat_type::blocked;
    if (!pub && !address_from_exchange)
      continue;
    out.push_back(
      punch_attempt(*ours, p, path, net::endpoint{pub ? *pub : net::ip_address::any(fam), 0}));
    return;
  }
}

bool has_family(const peer_address& a, family fam) {
  return std::any_of(a.routes.begin(), a.routes.end(),
                     [&](const peer_route& r) { return r.fam == fam; });
}

} // namespace

const char* to_string(strategy s) {
  switch (s) {
    case strategy::direct: return "direct";
    case strategy::reverse: return "reverse";
    case strategy::punch: return "punch";
    case strategy::relay: return "relay";
  }
  return "unknown";
}

const char* to_string(transport t) {
  return t == transport::stream ? "stream" : "datagram";
}

const char* to_string(path_kind p) {
  switch (p) {
    case path_kind::same_host: return "same-host";
    case path_kind::lan: return "lan";
    case path_kind::link_local: return "link-local";
    case path_kind::external: return "external";
    case path_kind::signalling: return "signalling";
    case path_kind::relayed: return "relayed";
    case path_kind::mapped: return "mapped";
  }
  return "unknown";
}

std::string attempt::to_string() const {
  std::string out = std::string{node::to_string(how)} + " " + net::to_string(fam) + " "
                    + node::to_string(path) + " if" + std::to_string(local_interface) + "->if"
                    + std::to_string(remote_interface);
  if (how == strategy::direct || (how == strategy::punch && target.port != 0))
    out += " " + target.to_string();
  return out;
}

// One attempt per family, from our first route of it (the relay is reached
// from there) to the peer's first one (or none, for a peer that lists no
// routes: the relay needs only its signalling).
void plan_relay(const local_view& me, const peer_address& peer, family fam,
                std::vector<attempt>& out) {
  if (std::find(me.relay_families.begin(), me.relay_families.end(), fam)
      == me.relay_families.end())
    return;
  auto ours = std::find_if(me.self.routes.begin(), me.self.routes.end(),
                           [&](const peer_route& r) { return r.fam == fam && r.nic; });
  if (ours == me.self.routes.end())
    return;
  auto theirs = std::find_if(peer.routes.begin(), peer.routes.end(),
                             [&](const peer_route& r) { return r.fam == fam; });
  if (!peer.routes.empty() && theirs == peer.routes.end())
    return;
  attempt a;
  a.how = strategy::relay;
  a.fam = fam;
  a.path = path_kind::relayed;
  a.local_interface = ours->interface;
  a.remote_interface = theirs != peer.routes.end() ? theirs->interface : 0;
  a.target = net::endpoint{net::ip_address::any(fam), 0};
  a.bind = *ours->nic;
  out.push_back(a);
}

std::vector<attempt> plan_connect(const local_view& me, const peer_address& peer,
                                  const connect_options& opts) {
  std::vector<attempt> out;
  for (auto how : opts.strategies) {
    std::vector<attempt> mine;
    if (opts.kind == transport::datagram && how != strategy::punch && how != strategy::relay)
      continue;
    if (how == strategy::relay) {
      // Datagrams through UDP allocations, streams through TCP ones (RFC 6062).
      if (!peer.channels.empty())
        for (auto fam : opts.families)
          plan_relay(me, peer, fam, mine);
    } else if (how == strategy::punch) {
      if (!peer.channels.empty())
        for (auto fam : opts.families)
          plan_punch(me, peer, fam, opts.kind == transport::stream, mine);
    } else if (how == strategy::direct) {
      for (auto fam : opts.families)
        plan_direct(me, peer, fam, mine);
    } else if (how == strategy::reverse && !peer.channels.empty()) {
      // The peer connects back to our address; it needs a family we have.
      for (auto fam : opts.families)
        if (has_family(me.self, fam) && (peer.routes.empty() || has_family(peer, fam))) {
          attempt a;
          a.how = strategy::reverse;
          a.fam = fam;
          a.path = path_kind::signalling;
          mine.push_back(a);
          break; // one request: the peer tries every route of our address
        }
    }
    // Unknown strategies plan nothing.
    if (mine.size() > opts.max_per_strategy)
      mine.resize(opts.max_per_strategy);
    out.insert(out.end(), mine.begin(), mine.end());
  }
  return out;
}

} // namespace p2pd::node
