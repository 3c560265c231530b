// p2pd id [--data-dir DIR]: the node id of the identity in the data
// directory, created (keys 0600, directory 0700) when missing.
#include <iostream>
#include <memory>

#include "cli.hpp"

#include "p2pd/net/crypto/key_file.hpp"
#include "p2pd/net/util/data_dir.hpp"

namespace p2pd::cli {

void add_id(CLI::App& root, command_list& out) {
  auto dir = std::make_shared<std::string>();
  auto* app = root.add_subcommand(
    "id", "print the node id of the identity in the data directory (created if missing)");
  app->add_option("--data-dir", *dir, "the node's key file (default $P2PD_DATA_DIR, else ~/.p2pd)")
    ->type_name("DIR");
  out.push_back({app, [dir] {
                   std::optional<std::string> given;
                   if (!dir->empty())
                     given = *dir;
                   auto me = net::load_or_create_identity_in(given);
                   if (!me)
                     return fail("identity", me.error());
                   std::cout << me->id().to_string() << '\n';
                   return exit_ok;
                 }});
}

} // namespace p2pd::cli
