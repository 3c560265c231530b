#include "p2pd/net/iface/interfaces.hpp"

#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <iterator>

#include "p2pd/net/addr/ip_class.hpp"
#include "p2pd/net/iface/detail/netlink.hpp"

namespace p2pd::net {

namespace {

interface_flags to_flags(unsigned f) {
  interface_flags out;
  out.up = (f & IFF_UP) != 0;
  out.running = (f & IFF_RUNNING) != 0;
  out.loopback = (f & IFF_LOOPBACK) != 0;
  out.multicast = (f & IFF_MULTICAST) != 0;
  out.broadcast = (f & IFF_BROADCAST) != 0;
  out.point_to_point = (f & IFF_POINTOPOINT) != 0;
  return out;
}

// An IPv4 or IPv6 address from an attribute of `af`; nullopt for any other
// size or family.
std::optional<ip_address> to_ip(int af, const netlink_attr& a, uint32_t if_index) {
  if (af == AF_INET && a.size == 4)
    return ip_address::v4_bytes(a.data);
  if (af == AF_INET6 && a.size == 16) {
    ip_address::bytes_type b;
    std::memcpy(b.data(), a.data, 16);
    auto ip = ip_address::v6(b);
    // A link-local address means nothing without its link.
    return classify(ip) == ip_scope::link_local ? ip.with_scope(if_index) : ip;
  }
  return std::nullopt;
}

std::string link_kind(const netlink_attr& linkinfo) {
  for (auto& a : netlink_attrs(linkinfo.data, linkinfo.size))
    if (a.type == IFLA_INFO_KIND)
      return a.str();
  return {};
}

result<std::vector<interface_info>> dump_links() {
  ifinfomsg req{};
  req.ifi_family = AF_UNSPEC;
  auto msgs = netlink_dump(RTM_GETLINK, &req, sizeof(req));
  if (!msgs)
    return msgs.error();
  std::vector<interface_info> out;
  for (auto& m : *msgs) {
    ifinfomsg ifi;
    if (m.type != RTM_NEWLINK || !read_header(m.payload, ifi))
      continue;
    interface_info info;
    info.index = static_cast<uint32_t>(ifi.ifi_index);
    info.flags = to_flags(ifi.ifi_flags);
    for (auto& a : attrs_after<ifinfomsg>(m.payload)) {
      switch (a.type) {
        case IFLA_IFNAME: info.name = a.str(); break;
        case IFLA_MTU: info.mtu = a.u32().value_or(0); break;
        case IFLA_ADDRESS: info.mac.assign(a.data, a.data + a.size); break;
        case IFLA_LINKINFO: info.kind = link_kind(a); break;
        default: break;
      }
    }
    out.push_back(std::move(info));
  }
  std::sort(out.begin(), out.end(),
            [](const interface_info& x, const interface_info& y) { return x.index < y.index; });
  return out;
}

error dump_addrs(std::vector<interface_info>& ifs) {
  ifaddrmsg req{};
  req.ifa_family = AF_UNSPEC;
  auto msgs = netlink_dump(RTM_GETADDR, &req, sizeof(req));
  if (!msgs)
    return msgs.error();
  for (auto& m : *msgs) {
    ifaddrmsg ifa;
    if (m.type != RTM_NEWADDR || !read_header(m.payload, ifa))
      continue;
    auto it = std::find_if(ifs.begin(), ifs.end(),
                           [&](const interface_info& i) { return i.index == ifa.ifa_index; });
    if (it == ifs.end())
      continue; // the link went away between the two dumps
    std::optional<ip_address> address, local;
    uint32_t flags = ifa.ifa_flags;
    for (auto& a : attrs_after<ifaddrmsg>(m.payload)) {
      if (a.type == IFA_ADDRESS)
        address = to_ip(ifa.ifa_family, a, ifa.ifa_index);
      else if (a.type == IFA_LOCAL)
        local = to_ip(ifa.ifa_family, a, ifa.ifa_index);
      else if (a.type == IFA_FLAGS)
        flags = a.u32().value_or(flags); // the full 32 bits; ifa_flags holds 8
    }
    // On a point-to-point link IFA_ADDRESS is the peer and IFA_LOCAL ours.
    auto ip = local ? local : address;
    if (!ip)
      continue;
    interface_addr addr;
    addr.ip = *ip;
    addr.prefix = ifa.ifa_prefixlen;
    addr.tentative = (flags & IFA_F_TENTATIVE) != 0;
    addr.dad_failed = (flags & IFA_F_DADFAILED) != 0;
    addr.deprecated = (flags & IFA_F_DEPRECATED) != 0;
    // For IPv4 the same bit means "secondary address".
    addr.temporary = ip->is_v6() && (flags & IFA_F_TEMPORARY) != 0;
    it->addrs.push_back(addr);
  }
  return {};
}

// The first next hop of an ECMP route (RTA_MULTIPATH): its interface and
// gateway.
void first_nexthop(int af, const netlink_attr& mp, uint32_t& oif,
                   std::optional<ip_address>& gateway) {
  size_t pos = 0;
  while (pos + sizeof(rtnexthop) <= mp.size) {
    rtnexthop nh;
    std::memcpy(&nh, mp.data + pos, sizeof(nh));
    if (nh.rtnh_len < sizeof(rtnexthop) || pos + nh.rtnh_len > mp.size)
      return;
    if (nh.rtnh_ifindex > 0) {
      oif = static_cast<uint32_t>(nh.rtnh_ifindex);
      size_t attrs = RTNH_ALIGN(sizeof(rtnexthop));
      for (auto& a : netlink_attrs(mp.data + pos + attrs, nh.rtnh_len - attrs))
        if (a.type == RTA_GATEWAY)
          gateway = to_ip(af, a, oif);
      return;
    }
    pos += RTNH_ALIGN(nh.rtnh_len);
  }
}

error dump_default_routes(interface_table& table) {
  rtmsg req{};
  req.rtm_family = AF_UNSPEC;
  auto msgs = netlink_dump(RTM_GETROUTE, &req, sizeof(req));
  if (!msgs)
    return msgs.error();
  for (auto& m : *msgs) {
    rtmsg rt;
    if (m.type != RTM_NEWROUTE || !read_header(m.payload, rt))
      continue;
    if ((rt.rtm_family != AF_INET && rt.rtm_family != AF_INET6) || rt.rtm_dst_len != 0
        || rt.rtm_type != RTN_UNICAST || (rt.rtm_flags & RTM_F_CLONED) != 0)
      continue;
    uint32_t table_id = rt.rtm_table; // RTA_TABLE holds ids above 255
    uint32_t oif = 0;
    uint32_t metric = 0;
    std::optional<ip_address> gateway;
    const netlink_attr* multipath = nullptr;
    auto attrs = attrs_after<rtmsg>(m.payload);
    for (auto& a : attrs) {
      switch (a.type) {
        case RTA_TABLE: table_id = a.u32().value_or(table_id); break;
        case RTA_OIF: oif = a.u32().value_or(0); break;
        case RTA_PRIORITY: metric = a.u32().value_or(0); break;
        case RTA_MULTIPATH: multipath = &a; break;
        default: break;
      }
    }
    for (auto& a : attrs)
      if (a.type == RTA_GATEWAY)
        gateway = to_ip(rt.rtm_family, a, oif);
    if (oif == 0 && multipath != nullptr)
      first_nexthop(rt.rtm_family, *multipath, oif, gateway);
    if (table_id != RT_TABLE_MAIN || oif == 0)
      continue;
    auto* nic = table.find(oif);
    if (nic == nullptr)
      continue;
    auto& slot = rt.rtm_family == AF_INET ? table.v4_default : table.v6_default;
    if (slot && slot->metric <= metric)
      continue;
    slot = default_route{nic->name, oif, gateway, metric};
  }
  return {};
}

} // namespace

std::string interface_info::mac_text() const {
  std::string out;
  char buf[4];
  for (size_t i = 0; i < mac.size(); ++i) {
    std::snprintf(buf, sizeof(buf), i == 0 ? "%02x" : ":%02x", mac[i]);
    out += buf;
  }
  return out;
}

std::vector<interface_addr> interface_info::addresses(family f) const {
  std::vector<interface_addr> out;
  std::copy_if(addrs.begin(), addrs.end(), std::back_inserter(out),
               [f](const interface_addr& a) { return a.ip.fam() == f; });
  return out;
}

bool interface_info::has_family(family f) const {
  return std::any_of(addrs.begin(), addrs.end(),
                     [f](const interface_addr& a) { return a.ip.fam() == f; });
}

const interface_info* interface_table::default_interface(family f) const {
  const auto& d = default_for(f);
  return d ? find(d->if_index) : nullptr;
}

const interface_info* interface_table::find(std::string_view name) const {
  for (const auto& i : interfaces)
    if (i.name == name)
      return &i;
  return nullptr;
}

const interface_info* interface_table::find(uint32_t index) const {
  for (const auto& i : interfaces)
    if (i.index == index)
      return &i;
  return nullptr;
}

result<interface_table> list_interfaces() {
  interface_table table;
  auto links = dump_links();
  if (!links)
    return links.error();
  table.interfaces = std::move(*links);
  if (auto err = dump_addrs(table.interfaces))
    return err;
  if (auto err = dump_default_routes(table))
    return err;
  return table;
}

result<interface_info> find_interface(const interface_table& table, std::string_view name) {
  if (auto* i = table.find(name))
    return *i;
  return error{errc::interface_not_found, "no interface '" + std::string{name} + "' on this host"};
}

result<interface_info> choose_interface(const interface_table& table, std::string_view name) {
  if (!name.empty())
    return find_interface(table, name);
  for (auto f : {family::v4, family::v6})
    if (auto* i = table.default_interface(f))
      return *i;
  auto usable = [](const interface_info& i) {
    return i.flags.up && std::any_of(i.addrs.begin(), i.addrs.end(),
                                     [](const interface_addr& a) { return a.usable(); });
  };
  for (const auto& i : table.interfaces)
    if (!i.flags.loopback && usable(i))
      return i;
  for (const auto& i : table.interfaces)
    if (usable(i))
      return i;
  return error{errc::interface_not_found,
               "no interface is up with an address (and no default route)"};
}

} // namespace p2pd::net
