#include "client.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "caf/io/middleman.hpp"
#include "caf/node_id.hpp"

#include "tls.hpp"

namespace p2pd::harness {

namespace {

// A TCP connect to `where` within `wait`, closed at once: whether anything
// listens there.
caf::error probe_tcp(const host_port& where, std::chrono::milliseconds wait) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  auto port = std::to_string(where.port);
  if (::getaddrinfo(where.host.c_str(), port.c_str(), &hints, &res) != 0 || res == nullptr)
    return make_error(errc::invalid_argument, "agent " + where.to_string() + ": bad address");
  int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    ::freeaddrinfo(res);
    return make_error(errc::socket_failed, "agent " + where.to_string() + ": socket: "
                                             + std::strerror(errno));
  }
  int rc = ::connect(fd, res->ai_addr, res->ai_addrlen);
  ::freeaddrinfo(res);
  int err = rc == 0 ? 0 : errno;
  if (err == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    auto n = ::poll(&p, 1, static_cast<int>(wait.count()));
    if (n == 0) {
      ::close(fd);
      return make_error(errc::connect_timeout, "agent " + where.to_string() + ": no answer in "
                                                 + std::to_string(wait.count()) + " ms");
    }
    socklen_t len = sizeof(err);
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
  }
  ::close(fd);
  if (err == ECONNREFUSED)
    return make_error(errc::connect_refused,
                      "agent " + where.to_string() + ": refused (no agent listens there)");
  if (err != 0)
    return make_error(errc::connect_failed, "agent " + where.to_string() + ": "
                                              + std::strerror(err));
  return {};
}

} // namespace

caf::error agent_gone(const caf::error& reason) {
  return make_error(errc::connection_reset,
                    "the agent is gone (" + (reason ? render(reason) : std::string{"it quit"})
                      + ")");
}

caf::expected<agent_actor> connect_agent(caf::actor_system& sys, const host_port& where,
                                         std::chrono::milliseconds wait) {
  if (auto err = probe_tcp(where, wait))
    return err;
  // What middleman::remote_actor does, but bounded: a peer that accepts
  // and never speaks BASP would hold remote_actor for good.
  auto out = std::make_shared<std::promise<caf::expected<agent_actor>>>();
  auto fut = out->get_future();
  auto mm = connector_of(sys); // TLS when the system has CAF's openssl module
  auto name = "agent " + where.to_string();
  sys.spawn(
    [out, mm, name](caf::event_based_actor* self, std::string host, uint16_t port,
                    caf::timespan wait) -> caf::behavior {
      auto timer = actors::start_weak_timer(self->home_system(), caf::weak_actor_ptr{self->ctrl()},
                                            wait, caf::make_message(ask_expired_atom::value));
      self->attach_functor([timer] { caf::anon_send_exit(timer, caf::exit_reason::user_shutdown); });
      auto done = [=](caf::expected<agent_actor> x) {
        out->set_value(std::move(x));
        self->quit();
      };
      self->request(mm, caf::infinite, caf::connect_atom::value, host, port)
        .then(
          [=](caf::node_id&, caf::strong_actor_ptr& ptr, std::set<std::string>& ifs) {
            if (!ptr)
              done(make_error(errc::connect_failed, name + ": no actor published there"));
            else if (!self->home_system().assignable<agent_actor>(ifs))
              done(make_error(errc::connect_failed,
                              name + ": not a harness agent (another interface)"));
            else
              done(caf::actor_cast<agent_actor>(std::move(ptr)));
          },
          [=](caf::error& err) { done(make_error(errc::connect_failed,
                                                 name + ": middleman: " + render(err))); });
      return {[=](ask_expired_atom) {
        done(make_error(errc::connect_timeout, name + ": no middleman handshake in time"));
      }};
    },
    where.host, where.port, caf::timespan{wait});
  if (fut.wait_for(wait + std::chrono::seconds(1)) != std::future_status::ready)
    return make_error(errc::connect_timeout, name + ": no middleman handshake in time");
  return fut.get();
}

} // namespace p2pd::harness
