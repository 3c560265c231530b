// p2pd name register|lookup|delete: the name service (api/names.hpp) on the
// name servers of the server file ("name host:port" lines):
//   register NAME ADDRESS   a record NAME -> ADDRESS signed by the node's key
//   lookup NAME             prints the address the newest valid record holds
//   delete NAME             a signed tombstone: the name is free again
// Versions are the signing time in microseconds, so that each change of one
// key outranks its last. One line per server on stderr for register and
// delete: "stored 127.0.0.1:5300" or "refused 127.0.0.1:5300: taken: ...".
#include <chrono>
#include <iostream>
#include <memory>

#include "cli.hpp"
#include "node_lines.hpp"
#include "node_options.hpp"
#include "target.hpp"

#include "p2pd/net/util/digits.hpp"
#include "p2pd/api/names.hpp"
#include "p2pd/net/crypto/key_file.hpp"
#include "p2pd/net/names/name_record.hpp"

namespace p2pd::cli {

namespace {

struct name_options {
  std::string servers;
  std::string data_dir;
  std::string name;
  std::string address;
  uint32_t ttl_s = 24 * 3600;
  int timeout_s = 5;
};

// The name servers of the file, or why there are none.
caf::expected<std::vector<name_server_addr>> servers_of(const name_options& o) {
  auto list = load_servers(o.servers);
  if (!list)
    return make_error(list.error());
  std::vector<std::string> unresolved;
  auto ns = name_servers_of(*list, unresolved);
  for (auto& u : unresolved)
    std::cerr << "p2pd: unresolved name server: " << u << '\n';
  if (ns.empty())
    return make_error(errc::invalid_argument, "the server file '" + o.servers
                                                + "' names no name server ('name host:port')");
  return ns;
}

// Signs and sends a record (a tombstone with `deleted`).
int publish(const name_options& o, bool deleted) {
  auto ns = servers_of(o);
  if (!ns)
    return fail("name servers", ns.error());
  std::optional<std::string> dir;
  if (!o.data_dir.empty())
    dir = o.data_dir;
  auto me = net::load_or_create_identity_in(dir);
  if (!me)
    return fail("identity", me.error());
  auto now = std::chrono::system_clock::now().time_since_epoch();
  auto version = static_cast<uint64_t>(
    std::chrono::duration_cast<std::chrono::microseconds>(now).count());
  auto time = std::chrono::duration_cast<std::chrono::seconds>(now).count();
  // A tombstone is served until its expiry, and hides older records only
  // while served: the longest expiry outlives a record of any --ttl.
  auto expiry = deleted ? net::names::max_expiry_s : o.ttl_s;
  auto record = net::names::make_record(*me, o.name,
                                        std::vector<uint8_t>(o.address.begin(), o.address.end()),
                                        version, time, expiry, deleted);
  runtime rt;
  auto done = publish_name(rt, *ns, record, std::chrono::seconds(o.timeout_s));
  for (auto& r : done.replies) {
    auto where = r.server.ep.to_string();
    if (!r.answer)
      std::cerr << "p2pd: no answer from " << where << ": " << render(r.answer.error()) << '\n';
    else if (r.answer->code != net::names::status::ok)
      std::cerr << "refused " << where << ": " << net::names::to_string(r.answer->code)
                << (r.answer->detail.empty() ? "" : ": " + r.answer->detail) << '\n';
    else
      std::cerr << "stored " << where << '\n';
  }
  if (done.stored == 0)
    return fail(std::string{deleted ? "delete " : "register "} + o.name,
                "no name server stored it");
  std::cout << (deleted ? "deleted " : "registered ") << o.name << " on " << done.stored << " of "
            << ns->size() << " name servers" << std::endl;
  return exit_ok;
}

int lookup(const name_options& o) {
  auto ns = servers_of(o);
  if (!ns)
    return fail("name servers", ns.error());
  runtime rt;
  auto found = lookup_name(rt, *ns, o.name, std::chrono::seconds(o.timeout_s));
  if (!found)
    return fail("lookup " + o.name, found.error(), exit_usage); // an invalid name
  if (!found->record) {
    if (found->answered == 0)
      return fail("lookup " + o.name, "none of the " + std::to_string(ns->size())
                                        + " name servers answered",
                  exit_timeout);
    if (found->deleted)
      return fail("lookup " + o.name,
                  "deleted by the holder of key " + net::to_hex(found->deleted->owner.data(), 8)
                    + " (version " + std::to_string(found->deleted->version)
                    + ", from " + std::to_string(found->agreed) + " of "
                    + std::to_string(ns->size()) + " name servers)");
    return fail("lookup " + o.name, "no live record");
  }
  auto& v = found->record->value;
  std::cout << std::string(v.begin(), v.end()) << std::endl;
  return exit_ok;
}

void add_common(CLI::App* app, name_options& o) {
  app->add_option("name", o.name, "the name (DNS-like labels)")->required()->type_name("NAME");
  app->add_option("--servers,--config", o.servers,
                  "server file whose 'name host:port' lines are the name servers")
    ->required()
    ->check(CLI::Validator(CLI::ExistingFile).description(""))
    ->type_name("FILE");
  app->add_option("--timeout", o.timeout_s, "seconds to wait for the servers (default 5)")
    ->check(CLI::Range(1, 600))
    ->type_name("SEC");
}

} // namespace

void add_name(CLI::App& root, command_list& out) {
  auto* app = root.add_subcommand("name", "register, look up or delete a name on name servers");
  app->require_subcommand(1);

  auto reg = std::make_shared<name_options>();
  auto* r = app->add_subcommand("register", "sign NAME -> ADDRESS with the node's key and store "
                                            "it on every name server");
  add_common(r, *reg);
  r->add_option("address", reg->address, "the value: a peer address (p2pd listen or p2pd node "
                                         "print it)")
    ->required()
    ->type_name("ADDRESS");
  r->add_option("--data-dir", reg->data_dir, "the key that owns the name (default "
                                             "$P2PD_DATA_DIR, else ~/.p2pd)")
    ->type_name("DIR");
  r->add_option("--ttl", reg->ttl_s, "seconds the record lives (default 86400)")
    ->check(CLI::Range(net::names::min_expiry_s, net::names::max_expiry_s))
    ->type_name("SEC");
  out.push_back({r, [reg] { return publish(*reg, false); }});

  auto look = std::make_shared<name_options>();
  auto* l = app->add_subcommand("lookup", "print the address NAME holds (the newest record "
                                          "whose signature checks)");
  add_common(l, *look);
  out.push_back({l, [look] { return lookup(*look); }});

  auto del = std::make_shared<name_options>();
  auto* d = app->add_subcommand("delete", "store a signed tombstone for NAME: it is free again");
  add_common(d, *del);
  d->add_option("--data-dir", del->data_dir, "the key that owns the name (default "
                                             "$P2PD_DATA_DIR, else ~/.p2pd)")
    ->type_name("DIR");
  out.push_back({d, [del] { return publish(*del, true); }});
}

} // namespace p2pd::cli
