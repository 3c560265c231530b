#include "p2pd/api/runtime.hpp"

#include "p2pd/actors/common/timeouts.hpp"

namespace p2pd {

namespace {

// Administrative requests answer at once; this only bounds a lost pipe.
constexpr auto admin_timeout = timeouts::admin;

// A request to a pipe (or daemon) whose actor is gone means it is closed.
caf::error closed_if_gone(caf::error err) {
  if (err == caf::sec::request_receiver_down)
    return make_error(errc::pipe_closed, "the pipe is closed (its actor has terminated)");
  return err;
}

// Runs a request from the runtime's blocking actor and waits for its answer.
template <class T, class Handle, class... Ts>
caf::expected<T> call(caf::scoped_actor& self, const Handle& p, caf::timespan timeout,
                      Ts&&... xs) {
  caf::expected<T> out{caf::make_error(caf::sec::request_timeout)};
  self->request(p, timeout, std::forward<Ts>(xs)...)
    .receive([&](T& x) { out = std::move(x); },
             [&](caf::error& err) { out = closed_if_gone(std::move(err)); });
  return out;
}

template <class T>
caf::error error_of(const caf::expected<T>& x) {
  return x ? caf::error{} : x.error();
}

template <class... Ts>
caf::error call_void(caf::scoped_actor& self, const pipe_actor& p, caf::timespan timeout,
                     Ts&&... xs) {
  caf::error out;
  self->request(p, timeout, std::forward<Ts>(xs)...)
    .receive([] {}, [&](caf::error& err) { out = closed_if_gone(std::move(err)); });
  return out;
}

} // namespace

runtime::core::core(size_t threads) : cfg(threads), sys(cfg), self(sys) {}

runtime::runtime(size_t threads) : core_(std::make_shared<core>(threads)) {}

runtime::~runtime() {
  for (auto& d : core_->daemons)
    core_->self->send_exit(d, caf::exit_reason::user_shutdown);
  for (auto& p : core_->pipes)
    core_->self->send_exit(p, caf::exit_reason::user_shutdown);
  for (auto& n : core_->nodes)
    core_->self->send_exit(n, caf::exit_reason::user_shutdown);
  core_->daemons.clear();
  core_->pipes.clear();
  core_->nodes.clear();
}

caf::expected<daemon_handle> runtime::start_daemon(daemon_spec spec) {
  auto hdl = spawn_daemon(core_->sys, std::move(spec));
  core_->daemons.push_back(hdl);
  return daemon_handle{core_, hdl};
}

caf::expected<daemon_handle> runtime::start_daemon(msg_handler on_msg) {
  daemon_spec spec;
  spec.on_msg = std::move(on_msg);
  return start_daemon(std::move(spec));
}

caf::expected<pipe_handle> runtime::open(pipe_spec spec) {
  auto hdl = spawn_pipe(core_->sys, spec);
  return open(hdl, spec);
}

caf::expected<pipe_handle> runtime::open(const pipe_actor& spawned, const pipe_spec& spec) {
  auto info = call<pipe_info>(core_->self, spawned, open_timeout(spec), caf::open_atom::value);
  if (!info)
    return info.error();
  core_->pipes.push_back(spawned);
  return pipe_handle{core_, std::move(*info), spec.conf};
}

caf::expected<pipe_handle> runtime::listen(net::protocol proto, endpoint local, msg_handler on_msg,
                                    net_conf conf) {
  auto spec = server_spec(proto, local, std::move(on_msg));
  if (local == endpoint{})
    spec.local.reset(); // the default: 127.0.0.1 and a free port
  spec.conf = conf;
  return open(std::move(spec));
}

caf::expected<pipe_handle> runtime::connect(net::protocol proto, const std::string& host,
                                     uint16_t port, net_conf conf) {
  auto spec = client_spec(proto, host, port);
  spec.conf = conf;
  return open(std::move(spec));
}

caf::expected<pipe_handle> runtime::connect(net::protocol proto, const endpoint& dest,
                                     net_conf conf) {
  return connect(proto, dest.ip.to_string(), dest.port, conf);
}

pipe_handle::pipe_handle(std::shared_ptr<runtime::core> core, pipe_info info, net_conf conf)
  : core_(std::move(core)), info_(std::move(info)), conf_(conf) {}

caf::error pipe_handle::closed_error() const {
  return make_error(errc::pipe_closed, "the " + std::string{net::to_string(info_.proto)}
                                         + " pipe on " + info_.local.to_string()
                                         + " was closed");
}

caf::timespan pipe_handle::call_timeout(caf::timespan wait) const {
  return wait + timeouts::call_margin;
}

caf::error pipe_handle::send(std::string_view data) {
  if (*closed_)
    return closed_error();
  return call_void(core_->self, info_.pipe, admin_timeout, send_atom::value, to_bytes(data));
}

caf::error pipe_handle::send(std::string_view data, const endpoint& to) {
  if (*closed_)
    return closed_error();
  return call_void(core_->self, info_.pipe, admin_timeout, send_atom::value, to_bytes(data),
                   to);
}

caf::expected<pipe_msg> pipe_handle::recv(caf::timespan timeout, msg_filter f) {
  if (*closed_)
    return closed_error();
  auto wait = timeout.count() > 0 ? timeout : conf_.recv_timeout;
  return call<pipe_msg>(core_->self, info_.pipe, call_timeout(wait), recv_atom::value,
                        std::move(f), wait);
}

caf::expected<pipe_msg> pipe_handle::ask(std::string_view data, msg_filter f) {
  if (*closed_)
    return closed_error();
  auto wait = conf_.recv_timeout * (conf_.send_retry + 1);
  return call<pipe_msg>(core_->self, info_.pipe, call_timeout(wait), ask_atom::value,
                        to_bytes(data), std::move(f));
}

caf::error pipe_handle::subscribe(const caf::actor& sub, uint8_t evs) {
  if (*closed_)
    return closed_error();
  return error_of(call<caf::ok_atom>(core_->self, info_.pipe, admin_timeout,
                            caf::subscribe_atom::value, sub, evs));
}

caf::error pipe_handle::unsubscribe(const caf::actor& sub) {
  if (*closed_)
    return closed_error();
  return error_of(call<caf::ok_atom>(core_->self, info_.pipe, admin_timeout,
                            caf::unsubscribe_atom::value, sub));
}

caf::error pipe_handle::link(const pipe_handle& other) {
  if (*closed_)
    return closed_error();
  return error_of(call<caf::ok_atom>(core_->self, info_.pipe, admin_timeout, caf::link_atom::value,
                            caf::actor_cast<caf::actor>(other.handle())));
}

caf::error pipe_handle::unlink(const pipe_handle& other) {
  if (*closed_)
    return closed_error();
  return error_of(call<caf::ok_atom>(core_->self, info_.pipe, admin_timeout, caf::unlink_atom::value,
                            caf::actor_cast<caf::actor>(other.handle())));
}

caf::expected<pipe_stats> pipe_handle::stats() {
  if (*closed_)
    return closed_error();
  return call<pipe_stats>(core_->self, info_.pipe, admin_timeout, stats_atom::value);
}

caf::expected<std::vector<endpoint>> pipe_handle::clients() {
  if (*closed_)
    return closed_error();
  return call<std::vector<endpoint>>(core_->self, info_.pipe, admin_timeout,
                                     clients_atom::value);
}

caf::error pipe_handle::close(const endpoint& client) {
  if (*closed_)
    return closed_error();
  return error_of(call<caf::ok_atom>(core_->self, info_.pipe, admin_timeout, caf::close_atom::value,
                            client));
}

caf::error pipe_handle::close() {
  if (*closed_)
    return caf::none;
  *closed_ = true;
  auto res = call<caf::ok_atom>(core_->self, info_.pipe, call_timeout(conf_.con_timeout),
                                caf::close_atom::value);
  auto& ps = core_->pipes;
  ps.erase(std::remove(ps.begin(), ps.end(), info_.pipe), ps.end());
  return error_of(res);
}

} // namespace p2pd

namespace p2pd {

namespace {

// Opening thousands of listeners takes a while; each answers within its own
// open timeout, which the daemon applies.
constexpr auto listen_timeout = timeouts::listen;

} // namespace

daemon_handle::daemon_handle(std::shared_ptr<runtime::core> core, daemon_actor hdl)
  : core_(std::move(core)), hdl_(std::move(hdl)) {}

caf::expected<std::vector<listener_info>>
daemon_handle::listen_all(const std::vector<net::listen_target>& targets,
                   const std::vector<net::port_range>& ports,
                   const std::vector<net::protocol>& protos, net::family_choice af,
                   bool error_on_af) {
  auto plan = net::plan_listen_all(targets, ports, protos, af, error_on_af);
  if (!plan)
    return make_error(plan.error());
  return listen_specific(*plan);
}

caf::expected<std::vector<listener_info>>
daemon_handle::listen_specific(const std::vector<listen_addr>& targets) {
  return call<std::vector<listener_info>>(core_->self, hdl_, listen_timeout,
                                          listen_atom::value, targets);
}

caf::expected<std::vector<listener_info>> daemon_handle::listeners() {
  return call<std::vector<listener_info>>(core_->self, hdl_, admin_timeout,
                                          listeners_atom::value);
}

caf::error daemon_handle::remove(uint64_t listener_id) {
  return error_of(call<caf::ok_atom>(core_->self, hdl_, admin_timeout,
                                     caf::delete_atom::value, listener_id));
}

caf::error daemon_handle::close() {
  auto res = call<caf::ok_atom>(core_->self, hdl_, listen_timeout, caf::close_atom::value);
  auto& ds = core_->daemons;
  ds.erase(std::remove(ds.begin(), ds.end(), hdl_), ds.end());
  return error_of(res);
}

} // namespace p2pd
