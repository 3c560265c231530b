// Pipes from inside a CAF actor: a UDP echo server and a client pipe, the
// client's messages delivered to the actor as typed pipe_msg messages. The
// actor opens both, so it owns them: they close when it ends.
#include <iostream>

#include "caf/all.hpp"

#include "args.hpp"

#include "p2pd/pipes.hpp"

using namespace p2pd;
using namespace std::chrono_literals;

namespace {

// Spawns a pipe for `spec` and opens it from `self`, its owner; `next` gets
// its info. A pipe that does not open ends `self` with the pipe's error.
template <class Next>
void open_then(caf::event_based_actor* self, const pipe_spec& spec, Next next) {
  auto pipe = spawn_pipe(self->home_system(), spec);
  self->request(pipe, open_timeout(spec), caf::open_atom::value)
    .then(std::move(next), [=](caf::error& err) { self->quit(err); });
}

caf::behavior user(caf::event_based_actor* self, int rounds) {
  auto echo = [](pipe_io& io, std::string_view msg, const endpoint&) { io.reply(msg); };
  endpoint any_port{net::ip_address::loopback(net::family::v4), 0};
  open_then(self, server_spec(udp, any_port, echo), [=](pipe_info& server) {
    auto spec = client_spec(udp, server.local.ip.to_string(), server.local.port);
    spec.subscribers.push_back({caf::actor_cast<caf::actor>(self), events::msgs});
    open_then(self, spec, [=](pipe_info& client) {
      std::cout << "client " << to_string(client.local) << " -> " << to_string(client.remote)
                << '\n';
      self->send(client.pipe, send_atom::value, to_bytes("round 1"));
    });
  });
  auto done = std::make_shared<int>(0);
  return {
    [=](pipe_msg& m) {
      std::cout << "got \"" << to_string(m.data) << "\" from " << to_string(m.from) << '\n';
      if (++*done < rounds)
        self->send(m.pipe, send_atom::value, to_bytes("round " + std::to_string(*done + 1)));
      else
        self->quit(); // the pipes close: their owner is gone
    },
    // UDP may lose a datagram; the example then ends rather than wait forever.
    caf::after(5s) >> [=] { self->quit(make_error(errc::recv_timeout, "no echo within 5 s")); },
  };
}

} // namespace

int main(int argc, char** argv) {
  examples::args cli{"pipe_actor", "pipes from inside a CAF actor, on loopback"};
  if (auto rc = cli.parse(argc, argv))
    return *rc;
  p2pd::config cfg;
  caf::actor_system sys{cfg};
  // The exit code tells how the actor ended: quit() or an error.
  caf::scoped_actor self{sys};
  self->monitor(sys.spawn(user, 3));
  int rc = 0;
  self->receive([&](caf::down_msg& down) {
    if (down.reason)
      rc = cli.error("exchange", down.reason);
  });
  return rc;
}
