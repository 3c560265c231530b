#include "p2pd/actors/pipe/detail/memory_transport.hpp"

#include <cerrno>

#include "caf/actor_cast.hpp"
#include "caf/atom.hpp"
#include "caf/stateful_actor.hpp"

#include "p2pd/actors/pipe/detail/pipe_behavior.hpp"
#include "p2pd/messages/errors.hpp"

namespace p2pd::actors {

// -- memory_net ---------------------------------------------------------------

caf::expected<endpoint> memory_net::bind(bool tcp, endpoint local,
                                         const caf::weak_actor_ptr& owner) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto& t = tcp ? listeners_ : udp_;
  if (local.port == 0) {
    // One lap of the range at most: a bound port is skipped, never reused.
    for (size_t tries = 0; tries <= 65535u - first_port && local.port == 0; ++tries) {
      auto port = advance();
      if (!taken(t, endpoint{local.ip, port}))
        local.port = port;
    }
    if (local.port == 0)
      return make_error(net::sys_error(errc::bind_failed,
                                       "binding " + local.to_string()
                                         + " failed: no free port in the memory network",
                                       EADDRINUSE));
  }
  if (auto i = t.find(local); i != t.end() && i->second.lock())
    return make_error(net::sys_error(errc::bind_failed,
                                     "binding " + local.to_string() + " failed", EADDRINUSE));
  t[local] = owner;
  return local;
}

void memory_net::unbind(bool tcp, const endpoint& local, const caf::weak_actor_ptr& owner) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto& t = tcp ? listeners_ : udp_;
  if (auto i = t.find(local); i != t.end() && i->second == owner)
    t.erase(i);
}

caf::actor memory_net::lookup(bool tcp, const endpoint& to) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto& t = tcp ? listeners_ : udp_;
  auto i = t.find(to);
  if (i == t.end())
    i = t.find(endpoint{net::ip_address::any(to.fam()), to.port});
  if (i == t.end())
    return nullptr;
  return caf::actor_cast<caf::actor>(i->second.lock());
}

uint16_t memory_net::ephemeral_port() {
  std::lock_guard<std::mutex> guard{mtx_};
  return advance();
}

uint16_t memory_net::advance() {
  auto port = next_port_;
  next_port_ = port == 65535 ? first_port : static_cast<uint16_t>(port + 1);
  return port;
}

bool memory_net::taken(const table& t, const endpoint& local) {
  for (auto& at : {local, endpoint{net::ip_address::any(local.fam()), local.port}})
    if (auto i = t.find(at); i != t.end() && i->second.lock())
      return true;
  return false;
}

stream_id memory_net::new_stream() {
  std::lock_guard<std::mutex> guard{mtx_};
  return next_stream_++;
}

namespace {

// Between the actors of one memory_net.
using mem_dgram_atom = caf::atom_constant<caf::atom("p2mdgram")>;
using mem_accept_atom = caf::atom_constant<caf::atom("p2maccept")>;
using mem_conn_atom = caf::atom_constant<caf::atom("p2mconn")>;
using mem_data_atom = caf::atom_constant<caf::atom("p2mdata")>;
using mem_fin_atom = caf::atom_constant<caf::atom("p2mfin")>;

/// One end of an in-memory connection.
struct mem_end {
  stream_id id = 0;
  stream_id peer_id = 0;
  /// The actor holding the other end: weak, so that connected pipes hold
  /// no reference cycle; a failed lock means the peer is gone (a reset).
  caf::weak_actor_ptr peer_owner;
  caf::weak_actor_ptr owner; ///< the actor holding this end
  endpoint local;
  endpoint peer;
  std::vector<char> wr_buf;
  int last_error = 0;
  bool open = true;

  /// Sends FIN (err 0) or RST (ECONNRESET) to the other end, once.
  void finish(int err) {
    if (!open)
      return;
    open = false;
    if (auto peer = caf::actor_cast<caf::actor>(peer_owner.lock()))
      caf::anon_send(peer, mem_fin_atom::value, peer_id, err);
  }
};

using mem_end_ptr = std::shared_ptr<mem_end>;
/// A transport's open ends by id; its streams erase themselves on close.
using mem_end_map = std::unordered_map<stream_id, mem_end_ptr>;

class mem_stream final : public pipe_stream {
public:
  mem_stream(mem_end_ptr end, std::weak_ptr<mem_end_map> ends)
    : end_(std::move(end)), ends_(std::move(ends)) {}

  stream_id id() const override { return end_->id; }
  const endpoint& peer() const override { return end_->peer; }
  const endpoint& local() const override { return end_->local; }
  std::vector<char>& wr_buf() override { return end_->wr_buf; }

  void flush() override {
    if (!end_->open)
      end_->wr_buf.clear(); // nobody to take it: gone, as after a close
    if (end_->wr_buf.empty())
      return;
    auto peer = caf::actor_cast<caf::actor>(end_->peer_owner.lock());
    if (!peer) { // the peer's pipe is gone: reset, told to this end's pipe once
      end_->wr_buf.clear();
      end_->open = false;
      if (auto me = caf::actor_cast<caf::actor>(end_->owner.lock()))
        caf::anon_send(me, mem_fin_atom::value, end_->id, ECONNRESET);
      return;
    }
    bytes out;
    out.swap(end_->wr_buf);
    caf::anon_send(peer, mem_data_atom::value, end_->peer_id, std::move(out));
  }

  size_t pending() const override { return 0; }
  size_t in_flight() const override { return 0; }
  int last_error() const override { return end_->last_error; }
  void configure(const net_conf&) override {}
  void notify_drained(bool) override {}
  void close() override { finish(0); }
  void reset() override { finish(ECONNRESET); }

private:
  // As a closed socket: nothing more comes to it, so the transport forgets it.
  void finish(int err) {
    end_->finish(err);
    if (auto ends = ends_.lock())
      ends->erase(end_->id);
  }

  mem_end_ptr end_;
  std::weak_ptr<mem_end_map> ends_; ///< the transport's, which may be gone first
};

class memory_transport final : public pipe_transport {
public:
  memory_transport(caf::event_based_actor* self, pipe_events& events,
                   std::shared_ptr<memory_net> net)
    : self_(self), events_(events), net_(std::move(net)),
      me_(caf::actor_cast<caf::weak_actor_ptr>(self)) {}

  // A pipe that ends without finish_close (killed, unreachable, an
  // exception) still tells its peers, as a kernel closes a dead process's
  // sockets; close_all is idempotent and touches no actor state.
  ~memory_transport() override { close_all(); }

  caf::message_handler handlers() {
    return {
      [this](mem_dgram_atom, const endpoint& from, const bytes& data) {
        if (!udp_)
          return;
        // As a socket's read with MSG_TRUNC: dropped whole, and reported.
        if (data.size() > read_limit_)
          return events_.on_oversized(from, data.size());
        events_.on_datagram(data.data(), data.size(), from);
      },
      [this](mem_accept_atom, stream_id peer_id, const caf::actor& peer_owner,
             const endpoint& peer) {
        if (!listener_) { // closed meanwhile: the client sees a reset
          caf::anon_send(peer_owner, mem_fin_atom::value, peer_id, ECONNRESET);
          return;
        }
        auto end = std::make_shared<mem_end>();
        end->id = net_->new_stream();
        end->peer_id = peer_id;
        end->peer_owner = caf::actor_cast<caf::weak_actor_ptr>(peer_owner);
        end->owner = me_;
        end->local = *listener_;
        end->peer = peer;
        (*ends_)[end->id] = end;
        // The client's end learns its peer's id from the first message.
        caf::anon_send(peer_owner, mem_conn_atom::value, peer_id, end->id,
                       caf::actor_cast<caf::actor>(self_));
        events_.on_accepted(std::make_unique<mem_stream>(end, ends_));
      },
      [this](mem_conn_atom, stream_id id, stream_id peer_id, const caf::actor& peer_owner) {
        auto i = ends_->find(id);
        if (i == ends_->end() || !i->second->open) {
          caf::anon_send(peer_owner, mem_fin_atom::value, peer_id, ECONNRESET);
          return;
        }
        auto end = i->second;
        end->peer_id = peer_id;
        end->peer_owner = caf::actor_cast<caf::weak_actor_ptr>(peer_owner);
        auto attempt = attempts_[id];
        attempts_.erase(id);
        events_.on_connected(attempt, std::make_unique<mem_stream>(end, ends_));
      },
      [this](mem_data_atom, stream_id id, const bytes& data) {
        if (auto i = ends_->find(id); i != ends_->end() && i->second->open)
          events_.on_data(id, data.data(), data.size());
      },
      [this](mem_fin_atom, stream_id id, int err) {
        auto i = ends_->find(id);
        if (i == ends_->end())
          return;
        auto end = i->second;
        ends_->erase(i);
        end->last_error = err;
        end->open = false;
        if (auto a = attempts_.find(id); a != attempts_.end()) { // refused while connecting
          auto attempt = a->second;
          attempts_.erase(a);
          return events_.on_connect_failed(attempt, err == 0 ? ECONNREFUSED : err, end->peer);
        }
        events_.on_stream_closed(id);
      },
    };
  }

  caf::error usable() const override { return caf::none; }

  caf::expected<endpoint> bind_udp(const endpoint& local, const net_conf& conf) override {
    read_limit_ = conf.reader_limit;
    auto bound = net_->bind(false, local, me_);
    if (bound)
      udp_ = *bound;
    return bound;
  }

  int send_datagram(const endpoint& to, const char* data, size_t size) override {
    if (!udp_)
      return EBADF;
    // A wildcard socket sends from the loopback address of its family.
    auto from = *udp_;
    if (from.ip.is_any())
      from.ip = net::ip_address::loopback(from.fam());
    if (auto dest = net_->lookup(false, to))
      caf::anon_send(dest, mem_dgram_atom::value, from, bytes(data, data + size));
    return 0; // nobody there: lost, as UDP may be
  }

  caf::expected<endpoint> listen(const endpoint& local, const net_conf&) override {
    auto bound = net_->bind(true, local, me_);
    if (bound)
      listener_ = *bound;
    return bound;
  }

  void stop_listening() override {
    if (listener_)
      net_->unbind(true, *listener_, me_);
    listener_.reset();
  }

  void pause_listening() override { stop_listening(); }

  caf::expected<uint64_t> connect(const endpoint& remote, const std::optional<endpoint>& local,
                                  const net_conf&) override {
    auto end = std::make_shared<mem_end>();
    end->id = net_->new_stream();
    end->peer = remote;
    end->local = local ? *local : endpoint{net::ip_address::loopback(remote.fam()), 0};
    if (end->local.ip.is_any())
      end->local.ip = net::ip_address::loopback(remote.fam());
    if (end->local.port == 0)
      end->local.port = net_->ephemeral_port();
    end->owner = me_;
    auto attempt = next_attempt_++;
    (*ends_)[end->id] = end;
    attempts_[end->id] = attempt;
    auto me = caf::actor_cast<caf::actor>(self_);
    if (auto listener = net_->lookup(true, remote)) {
      end->peer_owner = caf::actor_cast<caf::weak_actor_ptr>(listener); // until the accept names the server's end
      caf::anon_send(listener, mem_accept_atom::value, end->id, me, end->local);
    } else {
      end->open = false; // nothing listens: refused, as a RST would say
      caf::anon_send(me, mem_fin_atom::value, end->id, ECONNREFUSED);
    }
    return attempt;
  }

  // A listener that ended before it took the connect never answers it: the
  // attempt times out as a real connect would (ETIMEDOUT).
  void connect_timeout(uint64_t attempt) override {
    for (auto a = attempts_.begin(); a != attempts_.end(); ++a) {
      if (a->second != attempt)
        continue;
      auto id = a->first;
      attempts_.erase(a);
      endpoint peer;
      if (auto i = ends_->find(id); i != ends_->end()) {
        peer = i->second->peer;
        i->second->open = false;
        ends_->erase(i);
      }
      return events_.on_connect_failed(attempt, ETIMEDOUT, peer);
    }
  }

  void resolve(resolver_fn, std::string host, std::optional<net::family>,
               caf::timespan) override {
    events_.on_resolve_failed(make_error(errc::invalid_argument,
                                         "the memory transport resolves no names ('" + host
                                           + "')"));
  }

  caf::expected<adopted_socket> adopt(pipe_spec&) override {
    return make_error(errc::invalid_argument, "the memory transport cannot adopt a descriptor");
  }

  transport_counters counters() const override { return {}; }

  void close_all() override {
    if (udp_)
      net_->unbind(false, *udp_, me_);
    udp_.reset();
    stop_listening();
    for (auto& kvp : *ends_)
      kvp.second->finish(0);
    ends_->clear();
    attempts_.clear();
  }

  void before_quit(const caf::error&) override {}

private:
  caf::event_based_actor* self_;
  pipe_events& events_;
  std::shared_ptr<memory_net> net_;
  caf::weak_actor_ptr me_;
  std::optional<endpoint> udp_;
  size_t read_limit_ = 0; ///< of the UDP socket: larger datagrams are dropped
  std::optional<endpoint> listener_;
  std::shared_ptr<mem_end_map> ends_ = std::make_shared<mem_end_map>();
  std::unordered_map<stream_id, uint64_t> attempts_; ///< client ends not yet accepted
  uint64_t next_attempt_ = 1;
};

caf::behavior memory_pipe(caf::stateful_actor<pipe_state>* self, pipe_spec spec,
                          std::shared_ptr<memory_net> net) {
  auto& st = self->state;
  auto transport = std::make_unique<memory_transport>(self, st, std::move(net));
  auto io = transport->handlers();
  st.transport = std::move(transport);
  return pipe_core_behavior(&st, std::move(spec)).or_else(io);
}

} // namespace

pipe_actor spawn_memory_pipe(caf::actor_system& sys, pipe_spec spec,
                             std::shared_ptr<memory_net> net) {
  return caf::actor_cast<pipe_actor>(sys.spawn(memory_pipe, std::move(spec), std::move(net)));
}

} // namespace p2pd::actors
