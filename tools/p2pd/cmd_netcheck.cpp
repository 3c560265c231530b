// p2pd netcheck [--json] [--servers FILE] [--interfaces LIST]: what the
// network lets a node do, per interface and family (netcheck.hpp). Text for
// people by default; --json prints one JSON document:
//   {"interfaces": [{"name", "families": [{"family", "nic", "external",
//     "nat", "delta", "delta_value", "udp", "stun": [{"server", "rtt_ms" |
//     "error", "mapped"}], "notes"}], "gateway", "port_mapping": [{"method",
//     "available", "detail"}], "port_mapping_note", "notes"}],
//    "stun_servers", "unresolved_servers", "ok"}
// Exit 0; 1 when the server file or an interface cannot be read; 4 when
// STUN servers are configured and none answered (UDP does not work, or
// they are down): the report says which did not and why. SIGINT or SIGTERM
// end it as they do by default, but not before the port mappings it got
// are deleted (netcheck_stop.hpp).
#include <cstdio>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "netcheck.hpp"
#include "node_lines.hpp"
#include "node_options.hpp"

namespace p2pd::cli {

namespace {

struct netcheck_options {
  bool json = false;
  std::string servers;
  std::string interfaces;
};

nlohmann::json to_json(const netcheck_report& rep) {
  using nlohmann::json;
  json ifs = json::array();
  for (auto& i : rep.interfaces) {
    json fams = json::array();
    for (auto& f : i.families) {
      json stun = json::array();
      for (auto& p : f.stun) {
        json s{{"server", p.server}};
        if (p.rtt_ms) {
          s["rtt_ms"] = *p.rtt_ms;
          s["mapped"] = p.mapped;
        } else {
          s["error"] = p.error;
        }
        stun.push_back(s);
      }
      fams.push_back({{"family", tools::family_name(f.fam)},
                      {"nic", f.nic},
                      {"external", f.external.empty() ? json() : json(f.external)},
                      {"nat", net::to_string(f.nat.nat)},
                      {"delta", net::to_string(f.nat.delta)},
                      {"delta_value", f.nat.delta_value},
                      {"udp", f.udp ? json(*f.udp) : json()},
                      {"stun", stun},
                      {"notes", f.notes}});
    }
    json pm = json::array();
    for (auto& p : i.portmap)
      pm.push_back({{"method", p.method}, {"available", p.available}, {"detail", p.detail}});
    ifs.push_back({{"name", i.name},
                   {"families", fams},
                   {"gateway", i.gateway.empty() ? json() : json(i.gateway)},
                   {"port_mapping", pm},
                   {"port_mapping_note", i.portmap_note},
                   {"notes", i.notes}});
  }
  return {{"interfaces", ifs},
          {"stun_servers", rep.stun_servers},
          {"unresolved_servers", rep.unresolved}};
}

void print_text(const netcheck_report& rep, std::ostream& out) {
  for (auto& i : rep.interfaces) {
    out << "interface " << i.name << '\n';
    for (auto& f : i.families) {
      out << "  " << tools::family_name(f.fam) << ": nic " << f.nic << ", external "
          << (f.external.empty() ? "unknown" : f.external) << '\n'
          << "    NAT " << net::to_string(f.nat.nat) << ", port allocation "
          << net::to_string(f.nat.delta);
      if (f.nat.delta_value != 0)
        out << " (step " << f.nat.delta_value << ')';
      out << "\n    UDP " << (!f.udp ? "unknown (no STUN server of this family)"
                                     : *f.udp ? "works" : "no STUN server answered")
          << '\n';
      for (auto& p : f.stun) {
        out << "    STUN " << p.server << ": ";
        if (p.rtt_ms) {
          char ms[32];
          std::snprintf(ms, sizeof ms, "%.3f", *p.rtt_ms);
          out << ms << " ms, sees us as " << p.mapped << '\n';
        } else {
          out << "no answer: " << p.error << '\n';
        }
      }
      for (auto& n : f.notes)
        out << "    note: " << n << '\n';
    }
    if (!i.portmap_note.empty())
      out << "  port mapping: " << i.portmap_note << '\n';
    else
      out << "  port mapping via gateway " << i.gateway << ":\n";
    for (auto& p : i.portmap)
      out << "    " << p.method << ": " << (p.available ? "available, " : "none found: ")
          << p.detail << '\n';
    for (auto& n : i.notes)
      out << "  note: " << n << '\n';
  }
  for (auto& u : rep.unresolved)
    out << "unresolved server: " << u << '\n';
}

int check_all(const netcheck_options& o, netcheck_stop& stop) {
  auto servers = load_servers(o.servers);
  if (!servers)
    return fail("servers", servers.error());
  auto table = net::list_interfaces();
  if (!table)
    return fail("interfaces", table.error());
  std::vector<net::interface_info> nics;
  if (!o.interfaces.empty()) {
    for (auto& name : tools::split(o.interfaces, ',')) {
      auto nic = net::find_interface(*table, name);
      if (!nic)
        return fail("interfaces", nic.error());
      nics.push_back(*nic);
    }
  } else {
    nics = net::filter_interfaces(table->interfaces, net::interface_filter_config{});
    if (nics.empty())
      if (auto nic = net::choose_interface(*table, ""))
        nics.push_back(*nic);
  }
  if (nics.empty())
    return fail("interfaces", "no usable interface on this host");
  progress("resolving the servers");
  auto resolved = net::resolve_servers(*servers, std::chrono::seconds(2));
  netcheck_report rep;
  for (auto& u : resolved.unresolved)
    rep.unresolved.push_back(u.to_string());
  rep.stun_servers = resolved.of(net::server_kind::stun).size()
                     + resolved.of(net::server_kind::nat).size();
  runtime rt;
  for (auto& nic : nics) {
    progress("checking " + nic.name);
    rep.interfaces.push_back(check_interface(rt, *table, nic, *servers, resolved, stop));
    if (stop.stopped() != 0) {
      std::cerr << "p2pd: netcheck: stopped by a signal; the port mappings it got are deleted\n";
      return exit_failure; // raised again by run_netcheck, once the runtime ended
    }
  }
  bool any_answer = false;
  for (auto& i : rep.interfaces)
    for (auto& f : i.families)
      any_answer = any_answer || (f.udp && *f.udp);
  bool ok = rep.stun_servers == 0 || any_answer;
  if (o.json) {
    auto doc = to_json(rep);
    doc["ok"] = ok;
    std::cout << doc.dump(2) << std::endl;
  } else {
    print_text(rep, std::cout);
    std::cout << std::flush;
  }
  if (!ok) {
    std::cerr << "p2pd: netcheck: none of the " << rep.stun_servers
              << " STUN servers answered over UDP\n";
    return exit_timeout;
  }
  return exit_ok;
}

int run_netcheck(const netcheck_options& o) {
  netcheck_stop stop; // before the runtime's threads, which inherit its mask
  auto rc = check_all(o, stop);
  stop.reraise_if_stopped();
  return rc;
}

} // namespace

void add_netcheck(CLI::App& root, command_list& out) {
  auto o = std::make_shared<netcheck_options>();
  auto* app = root.add_subcommand(
    "netcheck", "check the network per interface and family: addresses, NAT type and port "
                "allocation, UDP, UPnP / NAT-PMP / PCP, latency to each STUN server");
  app->add_flag("--json", o->json, "print one JSON document (for scripts)");
  app->add_option("--servers,--config", o->servers,
                  "server file: its stun and nat lines are asked (see config/servers.conf); "
                  "none: no external address, NAT unknown")
    ->check(CLI::Validator(CLI::ExistingFile).description(""))
    ->type_name("FILE");
  app->add_option("--interfaces", o->interfaces,
                  "NICs to check, comma-separated (default: those a node would use)")
    ->type_name("LIST");
  out.push_back({app, [o] { return run_netcheck(*o); }});
}

} // namespace p2pd::cli
