#include "p2pd/actors/mux/detail/tcp_connector.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "caf/actor.hpp"
#include "caf/actor_cast.hpp"
#include "caf/mailbox_element.hpp"

#include "caf/io/network/default_multiplexer.hpp"
#include "caf/io/network/event_handler.hpp"

namespace p2pd::actors::mux {

using caf::io::network::default_multiplexer;
using caf::io::network::operation;

namespace {

void deliver(const caf::weak_actor_ptr& owner, default_multiplexer& dm,
             connect_result res) {
  if (auto hdl = owner.lock())
    hdl->enqueue(caf::make_mailbox_element(nullptr, caf::make_message_id(), {},
                                           std::move(res)),
                 &dm);
  // else: the broker is gone and res.fd closes the socket
}

} // namespace

/// One pending connect, registered for EPOLLOUT; deletes itself once the
/// multiplexer has removed it from epoll.
class tcp_connector::attempt final : public caf::io::network::event_handler {
public:
  attempt(default_multiplexer& dm, int fd, uint64_t id, net::endpoint remote,
          caf::weak_actor_ptr owner, std::shared_ptr<registry> reg)
    : event_handler(dm, fd), id_(id), remote_(remote), owner_(std::move(owner)),
      reg_(std::move(reg)) {}

  void arm() { backend().add(operation::write, fd(), this); }

  void handle_event(operation) override {
    if (done_)
      return;
    int err = 0;
    socklen_t len = sizeof(err);
    if (::getsockopt(fd(), SOL_SOCKET, SO_ERROR, &err, &len) != 0)
      err = errno;
    if (err == 0 && !net::peer_endpoint(fd()))
      err = ENOTCONN;
    finish(err);
  }

  void removed_from_loop(operation) override { delete this; }

  void graceful_shutdown() override { cancel(); }

  void cancel() {
    if (done_)
      return;
    done_ = true;
    reg_->pending.erase(id_);
    unregister();
  }

  const net::endpoint& remote() const { return remote_; }

private:
  void finish(int err) {
    done_ = true;
    reg_->pending.erase(id_);
    connect_result res;
    res.id = id_;
    res.remote = remote_;
    res.error = err;
    if (err == 0) {
      // Hand over a duplicate: our fd stays registered until the pending del()
      // is applied after this epoll batch, and the multiplexer merges events
      // of one fd number even when they come from different handlers.
      int nfd = ::fcntl(fd(), F_DUPFD_CLOEXEC, 0);
      if (nfd < 0)
        res.error = errno;
      else
        res.fd = std::make_shared<net::unique_fd>(nfd);
    }
    auto& dm = backend();
    auto owner = owner_;
    unregister(); // may delete us: no member access afterwards
    deliver(owner, dm, std::move(res));
  }

  void unregister() {
    backend().del(operation::write, fd(), this);
    if (eventbf() == 0) {
      // add() and del() fell into one batch and cancelled out: no
      // removed_from_loop() will come.
      auto* self = this;
      backend().post([self] { delete self; });
    }
  }

  uint64_t id_;
  net::endpoint remote_;
  caf::weak_actor_ptr owner_;
  std::shared_ptr<registry> reg_;
  bool done_ = false;
};

tcp_connector::tcp_connector(caf::io::abstract_broker* self)
  : self_(self), reg_(std::make_shared<registry>()) {}

tcp_connector::~tcp_connector() {
  // Runs in the broker's cleanup on the multiplexer thread. An attempt left
  // registered would keep the multiplexer, and ~actor_system, running.
  auto pending = reg_->pending;
  for (auto& kvp : pending)
    kvp.second->cancel();
}

size_t tcp_connector::pending() const {
  return reg_->pending.size();
}

net::result<uint64_t> tcp_connector::connect(const net::endpoint& remote,
                                std::optional<net::endpoint> local,
                                const net::socket_options& opts) {
  auto& dm = static_cast<default_multiplexer&>(self_->backend());
  auto id = reg_->next_id++;
  auto owner = caf::actor_cast<caf::weak_actor_ptr>(self_->ctrl());
  auto fail = [&](int err) -> net::result<uint64_t> {
    connect_result res;
    res.id = id;
    res.error = err;
    res.remote = remote;
    deliver(owner, dm, std::move(res));
    return id;
  };
  auto bind_ep = local ? *local : net::endpoint{net::ip_address::any(remote.fam()), 0};
  if (bind_ep.fam() != remote.fam())
    return net::error{net::errc::invalid_argument,
                      "cannot connect from " + bind_ep.to_string() + " to "
                        + remote.to_string() + ": the families differ"};
  auto fd = net::open_bound_socket(net::protocol::tcp, bind_ep, opts);
  if (!fd)
    return fd.error();
  sockaddr_storage ss;
  auto len = remote.to_sockaddr(ss);
  if (::connect(fd->get(), reinterpret_cast<sockaddr*>(&ss), len) != 0
      && errno != EINPROGRESS)
    return fail(errno);
  auto* a = new attempt(dm, fd->release(), id, remote, owner, reg_);
  reg_->pending.emplace(id, a);
  a->arm(); // also right if connect() returned 0: EPOLLOUT fires at once
  return id;
}

void tcp_connector::timeout(uint64_t id) {
  auto i = reg_->pending.find(id);
  if (i == reg_->pending.end())
    return; // already finished
  auto remote = i->second->remote();
  i->second->cancel();
  connect_result res;
  res.id = id;
  res.error = ETIMEDOUT;
  res.remote = remote;
  deliver(caf::actor_cast<caf::weak_actor_ptr>(self_->ctrl()),
          static_cast<default_multiplexer&>(self_->backend()), std::move(res));
}

} // namespace p2pd::actors::mux
