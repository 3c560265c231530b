#include "p2pd/sim/world/sim_stack.hpp"

#include <algorithm>
#include <cctype>

#include "p2pd/actors/pipe/detail/sim_transport.hpp"
#include "p2pd/net/util/splitmix64.hpp"

namespace p2pd::sim {

namespace {

std::string lowered(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

} // namespace

void name_book::add(const std::string& name, std::vector<net::ip_address> ips) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto& slot = names_[lowered(name)];
  for (auto& ip : ips)
    if (std::find(slot.begin(), slot.end(), ip) == slot.end())
      slot.push_back(ip);
}

name_table name_book::snapshot() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return names_;
}

net::result<std::vector<net::ip_address>> name_book::look_up(const std::string& host,
                                                             std::optional<net::family> fam) const {
  std::vector<net::ip_address> ips;
  if (auto ip = net::ip_address::parse(host)) {
    ips.push_back(*ip);
  } else {
    std::lock_guard<std::mutex> guard{mtx_};
    auto i = names_.find(lowered(host));
    if (i == names_.end())
      return net::error{net::errc::resolve_failed, host + ": not in the simulated name table"};
    ips = i->second;
  }
  if (fam)
    ips.erase(std::remove_if(ips.begin(), ips.end(),
                             [&](const net::ip_address& ip) { return ip.fam() != *fam; }),
              ips.end());
  if (ips.empty())
    return net::error{net::errc::resolve_failed,
                      host + ": no " + (fam ? std::string{net::to_string(*fam)} + " " : "")
                        + "address in the simulated name table"};
  std::stable_partition(ips.begin(), ips.end(),
                        [](const net::ip_address& ip) { return ip.is_v4(); });
  return ips;
}

sim_stack::sim_stack(sim_stack_config cfg) : cfg_(std::move(cfg)) {
  if (!cfg_.names)
    cfg_.names = std::make_shared<name_book>();
}

std::string sim_stack::name() const {
  return "sim/host-" + std::to_string(cfg_.host);
}

pipe_actor sim_stack::spawn_pipe(caf::actor_system& sys, pipe_spec spec) const {
  // Names resolve from the world's book, inside the pipe (the lookup does
  // not block); never by getaddrinfo.
  if (!spec.resolver) {
    auto names = cfg_.names;
    spec.resolver = [names](const std::string& host, std::optional<net::family> fam) {
      return names->look_up(host, fam);
    };
  }
  auto pipe = actors::spawn_sim_pipe(sys, cfg_.w, cfg_.host, std::move(spec));
  if (cfg_.spawned && pipe)
    cfg_.spawned->add(pipe.address());
  return pipe;
}

void spawned_actors::add(caf::actor_addr a) {
  std::lock_guard<std::mutex> guard{mtx_};
  addrs_.push_back(std::move(a));
  if (addrs_.size() >= compact_at_) { // forget those that ended
    addrs_.erase(std::remove_if(addrs_.begin(), addrs_.end(),
                                [](const caf::actor_addr& x) {
                                  return !caf::actor_cast<caf::actor>(x);
                                }),
                 addrs_.end());
    compact_at_ = std::max<size_t>(64, addrs_.size() * 2);
  }
}

std::vector<caf::actor> spawned_actors::alive() const {
  std::lock_guard<std::mutex> guard{mtx_};
  std::vector<caf::actor> out;
  for (auto& a : addrs_)
    if (auto h = caf::actor_cast<caf::actor>(a))
      out.push_back(std::move(h));
  return out;
}

net::interface_table sim_interface_table(host_id host,
                                         const std::vector<net::ip_address>& addresses,
                                         bool on_lan) {
  net::interface_info nic;
  nic.name = "eth0";
  nic.index = 2;
  nic.flags.up = true;
  nic.flags.running = true;
  nic.flags.multicast = true;
  nic.flags.broadcast = true;
  // A locally administered MAC that names the host.
  nic.mac = {0x02, 0x53, static_cast<uint8_t>(host >> 24), static_cast<uint8_t>(host >> 16),
             static_cast<uint8_t>(host >> 8), static_cast<uint8_t>(host)};
  nic.mtu = 1500;
  for (const auto& ip : addresses) {
    net::interface_addr a;
    a.ip = ip;
    a.prefix = ip.is_v6() ? 64 : (on_lan ? 24 : 32);
    nic.addrs.push_back(a);
  }
  net::interface_table out;
  for (auto fam : {net::family::v4, net::family::v6}) {
    auto i = std::find_if(addresses.begin(), addresses.end(),
                          [&](const net::ip_address& ip) { return ip.fam() == fam; });
    if (i == addresses.end())
      continue;
    net::default_route r;
    r.interface = nic.name;
    r.if_index = nic.index;
    if (on_lan && fam == net::family::v4) {
      // The LAN's router: the first address of the host's /24.
      auto v = i->v4_value();
      r.gateway = net::ip_address::v4((v & 0xFFFFFF00u) | ((v & 0xFFu) == 1 ? 254u : 1u));
    }
    (fam == net::family::v4 ? out.v4_default : out.v6_default) = r;
  }
  out.interfaces.push_back(std::move(nic));
  return out;
}

net::result<net::interface_table> sim_stack::interfaces() const {
  return cfg_.w->with([&](world& x) {
    auto& f = x.fabric();
    return sim_interface_table(cfg_.host, f.addresses(cfg_.host), f.site_of(cfg_.host).has_value());
  });
}

resolver_actor sim_stack::resolver(caf::actor_system& sys) const {
  return spawn_table_resolver(sys, cfg_.names->snapshot());
}

int64_t sim_stack::unix_ms() const {
  auto t = std::chrono::duration_cast<std::chrono::milliseconds>(cfg_.w->clock_now());
  return cfg_.epoch_ms + t.count() + cfg_.skew.count();
}

int64_t sim_stack::unix_ns() const {
  auto t = std::chrono::duration_cast<std::chrono::nanoseconds>(cfg_.w->clock_now());
  return (cfg_.epoch_ms + cfg_.skew.count()) * 1'000'000 + t.count();
}

uint64_t sim_stack::rng_seed() const {
  // One sequence per host: the world's seed, the host, and the draw's number.
  net::splitmix64 mix{cfg_.seed ^ (uint64_t{cfg_.host} << 32) ^ draws_.fetch_add(1)};
  mix.next();
  return mix.next();
}

} // namespace p2pd::sim
