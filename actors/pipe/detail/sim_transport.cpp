#include "p2pd/actors/pipe/detail/sim_transport.hpp"

#include <atomic>
#include <cerrno>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "caf/actor_cast.hpp"
#include "caf/atom.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/stateful_actor.hpp"

#include "p2pd/actors/pipe/detail/pipe_behavior.hpp"
#include "p2pd/actors/pipe/detail/pipe_state.hpp"
#include "p2pd/messages/errors.hpp"
#include "p2pd/net/addr/resolver.hpp"

namespace p2pd::actors {

namespace {

// From the simulated stacks (running inside the world's queue, under its
// lock) to the pipe's actor: the transport acts on them on its own thread.
using sim_dgram_atom = caf::atom_constant<caf::atom("p2sdgram")>;
using sim_tcp_atom = caf::atom_constant<caf::atom("p2stcp")>;

// A handler that forwards a host_tcp event to `me` as a message.
sim::host_tcp::handler tcp_forwarder(caf::weak_actor_ptr me) {
  return [me](sim::tcp_event e) {
    if (auto dest = caf::actor_cast<caf::actor>(me.lock()))
      caf::anon_send(dest, sim_tcp_atom::value, static_cast<int>(e.kind), e.sock, e.remote,
                     bytes(e.bytes.begin(), e.bytes.end()), e.sys_errno);
  };
}

/// One end of a simulated TCP connection.
struct sim_end {
  sim::world_ptr w;
  sim::host_id host = 0;
  int sock = 0;
  endpoint local;
  endpoint peer;
  std::vector<char> wr_buf;
  int last_error = 0;
  bool open = true; ///< neither closed by us nor ended by the peer

  /// Closes our side once: FIN (orderly) or RST (abort).
  void finish(bool abort) {
    if (!open)
      return;
    open = false;
    w->with([&](sim::world& x) {
      return abort ? x.tcp(host).abort(sock) : x.tcp(host).close(sock);
    });
  }
};

using sim_end_ptr = std::shared_ptr<sim_end>;

class sim_stream final : public pipe_stream {
public:
  explicit sim_stream(sim_end_ptr end) : end_(std::move(end)) {}

  stream_id id() const override { return static_cast<stream_id>(end_->sock); }
  const endpoint& peer() const override { return end_->peer; }
  const endpoint& local() const override { return end_->local; }
  std::vector<char>& wr_buf() override { return end_->wr_buf; }

  void flush() override {
    if (!end_->open || end_->wr_buf.empty()) {
      end_->wr_buf.clear(); // nobody to take it after a close
      return;
    }
    std::vector<uint8_t> out(end_->wr_buf.begin(), end_->wr_buf.end());
    end_->wr_buf.clear();
    auto err = end_->w->with([&](sim::world& x) {
      return x.tcp(end_->host).send(end_->sock, std::move(out));
    });
    if (err) // the peer's FIN or RST is on its way: the stream ends by it
      end_->wr_buf.clear();
  }

  size_t pending() const override { return 0; }   // no send buffer is modelled
  size_t in_flight() const override { return 0; }
  int last_error() const override { return end_->last_error; }
  void configure(const net_conf&) override {}
  void notify_drained(bool) override {}
  void close() override { end_->finish(false); }
  void reset() override { end_->finish(true); }

private:
  sim_end_ptr end_;
};

class sim_transport final : public pipe_transport {
public:
  sim_transport(caf::event_based_actor* self, pipe_events& events, sim::world_ptr w,
                sim::host_id host)
    : events_(events), w_(std::move(w)), host_(host),
      me_(caf::actor_cast<caf::weak_actor_ptr>(self)) {}

  // A pipe that ends without finish_close (killed, an exception) still
  // closes its sockets, as a kernel closes a dead process's: its peers get
  // FIN. Posted to the world rather than done under with(), so that no
  // destructor takes the world's lock: CAF runs on_exit wherever an actor's
  // last reference goes, which could be inside the queue (a stack
  // handler's strong reference). Today an open pipe holds its own handle
  // (pipe_state::hdl), so its state dies on its own thread; posting does
  // not rely on that.
  ~sim_transport() override { post_close_all(); }

  caf::message_handler handlers() {
    return {
      [this](sim_dgram_atom, int sock, const endpoint& from, const bytes& data) {
        if (!udp_ || sock != udp_sock_)
          return;
        // As a socket's read with MSG_TRUNC: dropped whole, and reported.
        if (data.size() > read_limit_)
          return events_.on_oversized(from, data.size());
        events_.on_datagram(data.data(), data.size(), from);
      },
      [this](sim_tcp_atom, int kind, int sock, const endpoint& remote, const bytes& data,
             int err) { on_tcp(static_cast<sim::tcp_event::kind_t>(kind), sock, remote, data, err); },
    };
  }

  caf::error usable() const override { return caf::none; }

  caf::expected<endpoint> bind_udp(const endpoint& local, const net_conf& conf) override {
    read_limit_ = conf.reader_limit;
    auto me = me_;
    auto bound = w_->with([&](sim::world& x) -> net::result<endpoint> {
      auto& udp = x.udp(host_);
      auto sock = udp.bind(local);
      if (!sock)
        return sock.error();
      udp.on_receive(*sock, [me, s = *sock](sim::udp_datagram d) {
        if (auto dest = caf::actor_cast<caf::actor>(me.lock()))
          caf::anon_send(dest, sim_dgram_atom::value, s, d.from,
                         bytes(d.payload.begin(), d.payload.end()));
      });
      udp_sock_ = *sock;
      return udp.local_endpoint(*sock);
    });
    if (!bound)
      return make_error(bound.error());
    udp_ = *bound;
    return *bound;
  }

  int send_datagram(const endpoint& to, const char* data, size_t size) override {
    if (!udp_)
      return EBADF;
    auto err = w_->with([&](sim::world& x) {
      return x.udp(host_).send_to(udp_sock_, to, std::vector<uint8_t>(data, data + size));
    });
    if (!err)
      return 0;
    return err.code == net::errc::family_unsupported ? EAFNOSUPPORT : EINVAL;
  }

  caf::expected<endpoint> listen(const endpoint& local, const net_conf&) override {
    auto fwd = tcp_forwarder(me_);
    auto bound = w_->with([&](sim::world& x) -> net::result<endpoint> {
      auto& tcp = x.tcp(host_);
      auto sock = tcp.listen(local);
      if (!sock)
        return sock.error();
      // An accepted socket gets its handler at once, inside the queue: its
      // first bytes may follow in the same run. A dead pipe's listener, not
      // yet closed by the close its transport posted, resets newcomers as a
      // kernel would once the process is gone.
      tcp.on_event(*sock, [fwd, alive = alive_, t = &tcp](sim::tcp_event e) {
        if (e.kind == sim::tcp_event::accepted) {
          if (!alive->load(std::memory_order_acquire)) {
            t->abort(e.sock);
            return;
          }
          t->on_event(e.sock, fwd);
        }
        fwd(std::move(e));
      });
      listener_sock_ = *sock;
      return tcp.local_endpoint(*sock);
    });
    if (!bound)
      return make_error(bound.error());
    listener_ = *bound;
    return *bound;
  }

  void stop_listening() override {
    if (!listener_)
      return;
    listener_.reset();
    w_->with([&](sim::world& x) { return x.tcp(host_).close(listener_sock_); });
  }

  void pause_listening() override { stop_listening(); }

  caf::expected<uint64_t> connect(const endpoint& remote, const std::optional<endpoint>& local,
                                  const net_conf&) override {
    auto from = local ? *local : endpoint{net::ip_address::any(remote.fam()), 0};
    auto fwd = tcp_forwarder(me_);
    auto sock = w_->with([&](sim::world& x) {
      auto& tcp = x.tcp(host_);
      auto s = tcp.connect(from, remote);
      if (s)
        tcp.on_event(*s, fwd); // before any event: they run under the same lock
      return s;
    });
    if (!sock)
      return make_error(sock.error());
    auto attempt = next_attempt_++;
    attempts_[*sock] = {attempt, remote};
    return attempt;
  }

  void connect_timeout(uint64_t id) override {
    for (auto i = attempts_.begin(); i != attempts_.end(); ++i) {
      if (i->second.first != id)
        continue;
      auto sock = i->first;
      auto remote = i->second.second;
      attempts_.erase(i);
      w_->with([&](sim::world& x) { return x.tcp(host_).close(sock); });
      return events_.on_connect_failed(id, ETIMEDOUT, remote);
    }
  }

  void resolve(resolver_fn fn, std::string host, std::optional<net::family> fam,
               caf::timespan) override {
    // A spec's own resolver (a sim stack's name book) answers from a model,
    // so it runs here, inline. The core's default is getaddrinfo: the host's
    // DNS has no say in a simulated world.
    using os_fn = net::result<std::vector<net::ip_address>> (*)(const std::string&,
                                                                std::optional<net::family>);
    auto* os = fn.target<os_fn>();
    if (!fn || (os != nullptr && *os == &net::resolve_host))
      return events_.on_resolve_failed(
        make_error(errc::invalid_argument,
                   "the simulated transport resolves names only through its stack ('" + host
                     + "': spawn the pipe with a sim stack, or give pipe_spec::resolver)"));
    auto ips = fn(host, fam);
    if (!ips)
      return events_.on_resolve_failed(make_error(ips.error()));
    events_.on_resolved(std::move(*ips));
  }

  caf::expected<adopted_socket> adopt(pipe_spec&) override {
    return make_error(errc::invalid_argument,
                      "the simulated transport cannot adopt a descriptor");
  }

  transport_counters counters() const override { return {}; }

  void close_all() override {
    if (udp_) {
      udp_.reset();
      w_->with([&](sim::world& x) {
        x.udp(host_).close(udp_sock_);
        return 0;
      });
    }
    stop_listening();
    for (auto& kvp : ends_)
      kvp.second->finish(false);
    ends_.clear();
    for (auto& kvp : attempts_) {
      auto sock = kvp.first;
      w_->with([&](sim::world& x) { return x.tcp(host_).close(sock); });
    }
    attempts_.clear();
  }

  void before_quit(const caf::error&) override {}

private:
  // close_all() without the world's lock: the sockets still open are closed
  // at the world's next with() or wake-up.
  void post_close_all() {
    alive_->store(false, std::memory_order_release);
    std::optional<int> udp;
    if (udp_)
      udp = udp_sock_;
    std::optional<int> listener;
    if (listener_)
      listener = listener_sock_;
    std::vector<int> socks; // ends, then connects in progress
    for (auto& kvp : ends_)
      if (kvp.second->open) {
        kvp.second->open = false;
        socks.push_back(kvp.first);
      }
    for (auto& kvp : attempts_)
      socks.push_back(kvp.first);
    udp_.reset();
    listener_.reset();
    ends_.clear();
    attempts_.clear();
    if (!udp && !listener && socks.empty())
      return;
    w_->post([host = host_, udp, listener, socks = std::move(socks)](sim::world& x) {
      if (udp)
        x.udp(host).close(*udp);
      if (listener)
        x.tcp(host).close(*listener);
      for (auto sock : socks)
        x.tcp(host).close(sock);
    });
  }

  sim_end_ptr make_end(int sock, const endpoint& remote) {
    auto end = std::make_shared<sim_end>();
    end->w = w_;
    end->host = host_;
    end->sock = sock;
    end->peer = remote;
    auto local = w_->with([&](sim::world& x) { return x.tcp(host_).local_endpoint(sock); });
    if (local)
      end->local = *local;
    ends_[sock] = end;
    return end;
  }

  void on_tcp(sim::tcp_event::kind_t kind, int sock, const endpoint& remote, const bytes& data,
              int err) {
    using ev = sim::tcp_event;
    switch (kind) {
      case ev::accepted: {
        if (!listener_) { // closed meanwhile: the client sees a reset
          w_->with([&](sim::world& x) { return x.tcp(host_).abort(sock); });
          return;
        }
        events_.on_accepted(std::make_unique<sim_stream>(make_end(sock, remote)));
        return;
      }
      case ev::connected: {
        auto a = attempts_.find(sock);
        if (a == attempts_.end()) // given up (connect_timeout) meanwhile
          return;
        auto attempt = a->second.first;
        attempts_.erase(a);
        events_.on_connected(attempt, std::make_unique<sim_stream>(make_end(sock, remote)));
        return;
      }
      case ev::failed: {
        auto a = attempts_.find(sock);
        if (a == attempts_.end())
          return;
        auto attempt = a->second.first;
        auto to = a->second.second;
        attempts_.erase(a);
        events_.on_connect_failed(attempt, err, to);
        return;
      }
      case ev::data:
        if (auto i = ends_.find(sock); i != ends_.end() && i->second->open)
          events_.on_data(static_cast<stream_id>(sock), data.data(), data.size());
        return;
      case ev::eof:
      case ev::reset: {
        auto i = ends_.find(sock);
        if (i == ends_.end())
          return;
        auto end = i->second;
        ends_.erase(i);
        end->last_error = kind == ev::reset ? err : 0;
        if (kind == ev::eof)
          end->finish(false); // our FIN: the connection is over, as the core expects
        end->open = false;
        events_.on_stream_closed(static_cast<stream_id>(sock));
        return;
      }
    }
  }

  pipe_events& events_;
  sim::world_ptr w_;
  sim::host_id host_;
  caf::weak_actor_ptr me_;
  /// False once the transport is gone: its listener's handler, which may
  /// still run until the posted close does, then resets newcomers. (A weak
  /// reference to the actor would still lock while handles to it remain.)
  std::shared_ptr<std::atomic<bool>> alive_ = std::make_shared<std::atomic<bool>>(true);
  std::optional<endpoint> udp_;
  int udp_sock_ = 0;
  size_t read_limit_ = 0; ///< of the UDP socket: larger datagrams are dropped
  std::optional<endpoint> listener_;
  int listener_sock_ = 0;
  std::unordered_map<int, sim_end_ptr> ends_;
  /// Connects in progress: socket → (attempt, remote).
  std::unordered_map<int, std::pair<uint64_t, endpoint>> attempts_;
  uint64_t next_attempt_ = 1;
};

caf::behavior sim_pipe(caf::stateful_actor<pipe_state>* self, pipe_spec spec,
                       sim::world_ptr w, sim::host_id host) {
  auto& st = self->state;
  auto transport = std::make_unique<sim_transport>(self, st, std::move(w), host);
  auto io = transport->handlers();
  st.transport = std::move(transport);
  return pipe_core_behavior(&st, std::move(spec)).or_else(io);
}

} // namespace

pipe_actor spawn_sim_pipe(caf::actor_system& sys, sim::world_ptr w, sim::host_id host,
                          pipe_spec spec) {
  return caf::actor_cast<pipe_actor>(sys.spawn(sim_pipe, std::move(spec), std::move(w), host));
}

} // namespace p2pd::actors
