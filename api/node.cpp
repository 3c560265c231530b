#include "p2pd/api/node.hpp"

#include "caf/actor_cast.hpp"

#include "p2pd/messages/errors.hpp"
#include "p2pd/net/names/name_rules.hpp"

namespace p2pd {

namespace {

// A connect tries strategies one after another, each within its budget:
// this bounds only a node that stopped answering.
constexpr auto connect_wait = std::chrono::seconds(60);
constexpr auto admin_wait = std::chrono::seconds(10);

template <class T, class... Ts>
caf::expected<T> call(caf::scoped_actor& self, const node_actor& n, caf::timespan wait,
                      Ts&&... xs) {
  caf::expected<T> out{caf::make_error(caf::sec::request_timeout)};
  self->request(n, wait, std::forward<Ts>(xs)...)
    .receive([&](T& x) { out = std::move(x); }, [&](caf::error& err) { out = std::move(err); });
  return out;
}

caf::error error_of(const caf::expected<caf::ok_atom>& x) {
  return x ? caf::error{} : x.error();
}

} // namespace

caf::expected<node_handle> runtime::start_node(node_spec spec) {
  // Start waits on interfaces (STUN, NAT probes) and signalling (brokers):
  // bounded by their own timeouts; this only bounds a node that hangs.
  constexpr auto start_wait = std::chrono::minutes(2);
  auto hdl = spawn_node(core_->sys, std::move(spec));
  if (!hdl)
    return hdl.error();
  core_->nodes.push_back(caf::actor_cast<caf::actor>(*hdl));
  // A node that fails at once (a missing interface) may end before it reads
  // the ready request: then its exit reason is the answer.
  core_->self->monitor(*hdl);
  auto info = call<node_info>(core_->self, *hdl, start_wait, ready_atom::value);
  if (!info) {
    auto err = info.error();
    if (err == caf::sec::request_receiver_down)
      core_->self->receive(
        [&](caf::down_msg& dm) {
          if (dm.reason)
            err = dm.reason;
        },
        caf::after(std::chrono::seconds(1)) >> [] {});
    core_->self->demonitor(hdl->address());
    core_->self->send_exit(*hdl, caf::exit_reason::user_shutdown);
    return err;
  }
  core_->self->demonitor(hdl->address());
  return node_handle{core_, *hdl, std::move(*info)};
}

node_handle::node_handle(std::shared_ptr<runtime::core> core, node_actor hdl, node_info info)
  : core_(std::move(core)), hdl_(std::move(hdl)), info_(std::move(info)) {
}

caf::expected<node_connection> node_handle::connect(const std::string& address,
                                                    node::connect_options opts) {
  return call<node_connection>(core_->self, hdl_, connect_wait, connect_atom::value, address,
                               std::move(opts));
}

caf::expected<node_connection> node_handle::connect_by_name(const std::string& name,
                                                            node::connect_options opts) {
  // A peer address is no name: connect would take it as an address.
  if (auto err = net::names::check_name(name))
    return make_error(err.code, "connect by name: " + err.what);
  return connect(name, std::move(opts));
}

caf::expected<name_publish> node_handle::register_name(const std::string& name) {
  return call<name_publish>(core_->self, hdl_, connect_wait, name_register_atom::value, name);
}

caf::expected<name_publish> node_handle::delete_name(const std::string& name) {
  return call<name_publish>(core_->self, hdl_, connect_wait, name_delete_atom::value, name);
}

caf::expected<name_lookup> node_handle::lookup_name(const std::string& name) {
  return call<name_lookup>(core_->self, hdl_, connect_wait, name_lookup_atom::value, name);
}

caf::error node_handle::send(const std::string& peer, std::string_view data) {
  return error_of(call<caf::ok_atom>(core_->self, hdl_, admin_wait, send_atom::value, peer,
                                     bytes(data.begin(), data.end())));
}

caf::error node_handle::disconnect(const std::string& peer) {
  return error_of(
    call<caf::ok_atom>(core_->self, hdl_, admin_wait, caf::close_atom::value, peer));
}

caf::error node_handle::subscribe(const caf::actor& sub) {
  return error_of(
    call<caf::ok_atom>(core_->self, hdl_, admin_wait, caf::subscribe_atom::value, sub));
}

caf::expected<node_stats> node_handle::stats() {
  return call<node_stats>(core_->self, hdl_, admin_wait, stats_atom::value);
}

caf::expected<node_metrics> node_handle::metrics() {
  return call<node_metrics>(core_->self, hdl_, admin_wait, metrics_atom::value);
}

caf::expected<std::vector<node_child>> node_handle::children() {
  return call<std::vector<node_child>>(core_->self, hdl_, admin_wait, children_atom::value);
}

caf::error node_handle::close() {
  return error_of(call<caf::ok_atom>(core_->self, hdl_, admin_wait, caf::close_atom::value));
}

} // namespace p2pd
