// Pipes from inside a CAF actor: a UDP echo server and a client pipe, the
// client's messages delivered to the actor as typed pipe_msg messages.
#include <iostream>

#include "caf/all.hpp"
#include "caf/io/all.hpp"

#include "args.hpp"

#include "p2pd/p2pd.hpp"

using namespace p2pd;

caf::behavior user(caf::event_based_actor* self, int rounds) {
  auto server_spec = p2pd::server_spec(udp, *endpoint::parse("127.0.0.1:0"),
                                       [](pipe_io& io, std::string_view m, const endpoint&) {
                                         io.reply(m);
                                       });
  auto server = spawn_pipe(self->home_system(), server_spec);
  self->request(server, open_timeout(server_spec), caf::open_atom::value)
    .then(
      [=](pipe_info& srv) {
        auto spec = client_spec(udp, srv.local.ip.to_string(), srv.local.port);
        spec.subscribers.push_back({caf::actor_cast<caf::actor>(self), events::msgs});
        auto client = spawn_pipe(self->home_system(), spec);
        self->request(client, open_timeout(spec), caf::open_atom::value)
          .then(
            [=](pipe_info& info) {
              std::cout << "client " << to_string(info.local) << " -> "
                        << to_string(info.remote) << '\n';
              self->send(client, send_atom::value, to_bytes("round 1"));
            },
            [=](caf::error& err) {
              std::cerr << "client: " << render(err) << '\n';
              self->quit(err);
            });
      },
      [=](caf::error& err) {
        std::cerr << "server: " << render(err) << '\n';
        self->quit(err);
      });
  auto n = std::make_shared<int>(0);
  return {
    [=](pipe_msg& m) {
      std::cout << "got \"" << to_string(m.data) << "\" from " << to_string(m.from) << '\n';
      if (++*n == rounds) {
        self->quit(); // the pipes close: their owner is gone
        return;
      }
      self->send(m.pipe, send_atom::value, to_bytes("round " + std::to_string(*n + 1)));
    },
  };
}

int main(int argc, char** argv) {
  // No arguments: a stray one is refused rather than ignored.
  examples::args cli{"pipe_actor", "pipes from inside a CAF actor, on loopback"};
  if (auto rc = cli.parse(argc, argv))
    return *rc;
  p2pd::config cfg;
  caf::actor_system sys{cfg};
  sys.spawn(user, 3);
}
