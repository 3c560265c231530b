#include "agent.hpp"

#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>

#include "caf/event_based_actor.hpp"
#include "caf/typed_event_based_actor.hpp"
#include "caf/stateful_actor.hpp"

#include "node_lines.hpp"
#include "connect_options.hpp"
#include "token.hpp"

#include "p2pd/messages/errors.hpp"
#include "p2pd/node.hpp"

namespace p2pd::harness {

namespace {

using steady = std::chrono::steady_clock;
using await_atom = caf::atom_constant<caf::atom("hawait")>;
using expire_atom = caf::atom_constant<caf::atom("hexpire")>;
using node_atom = caf::atom_constant<caf::atom("hnode")>;

/// Echo waits a keeper holds at most: a controller asks one at a time.
constexpr size_t max_echo_waits = 16;
/// The node answers a send at once; this only bounds one that hangs.
constexpr auto node_send_wait = std::chrono::seconds(10);

// -- the keeper: the node's subscriber --------------------------------------------

// It answers every peer message "re: <text>" and gives the echo request
// the answer it waits for. A separate, untyped actor, so that the node's
// events are not part of the agent's published interface.
struct keeper_state {
  struct wait {
    uint64_t id;
    std::string peer;
    std::string text;
    steady::time_point since;
    caf::response_promise rp;
  };
  std::optional<node_actor> node;
  std::vector<wait> waits;
  uint64_t next_id = 0;
  static inline const char* name = "harness_keeper";
};

// `agent` names it in what it logs (and gives the spawn an argument: CAF
// 0.17 wants one for a stateful function-based actor).
caf::behavior harness_keeper(caf::stateful_actor<keeper_state>* self, std::string agent) {
  self->set_default_handler(caf::drop); // node events it does not use
  return {
    [=](node_atom, node_actor n) { self->state.node = std::move(n); },
    [=](node_msg& m) {
      auto text = to_string(m.data);
      auto& ws = self->state.waits;
      if (text.rfind("re: ", 0) == 0) {
        auto it = std::find_if(ws.begin(), ws.end(), [&](const keeper_state::wait& w) {
          return w.peer == m.peer && w.text == text;
        });
        if (it != ws.end()) {
          auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(steady::now()
                                                                          - it->since);
          it->rp.deliver(static_cast<int64_t>(ms.count()));
          ws.erase(it);
        }
        return; // an answer is never answered
      }
      if (self->state.node)
        self->request(*self->state.node, node_send_wait, send_atom::value, m.peer,
                      to_bytes("re: " + text))
          .then([](caf::ok_atom) {},
                [agent, peer = m.peer](caf::error& err) {
                  std::cerr << "p2pd_agent " << agent << ": answer " << peer << ": "
                            << render(err) << '\n';
                });
    },
    [=](await_atom, std::string& peer, std::string& text,
        uint32_t timeout_s) -> caf::result<int64_t> {
      auto& st = self->state;
      if (st.waits.size() >= max_echo_waits)
        return make_error(errc::queue_full, "echo: " + std::to_string(max_echo_waits)
                                              + " answers awaited already");
      auto rp = self->make_response_promise();
      auto id = st.next_id++;
      st.waits.push_back({id, std::move(peer), std::move(text), steady::now(), rp});
      self->delayed_send(self, std::chrono::seconds(timeout_s), expire_atom::value, id);
      return rp;
    },
    [=](expire_atom, uint64_t id) {
      auto& ws = self->state.waits;
      auto it = std::find_if(ws.begin(), ws.end(),
                             [&](const keeper_state::wait& w) { return w.id == id; });
      if (it == ws.end())
        return;
      it->rp.deliver(make_error(errc::recv_timeout, "echo: no answer from " + it->peer
                                                      + " to '" + it->text + "' in time"));
      ws.erase(it);
    },
  };
}

// -- the agent ----------------------------------------------------------------

struct agent_state {
  agent_config cfg;
  std::optional<node_actor> node;
  bool ready = false;  ///< the node answered its ready request
  caf::actor keeper;
  uint64_t refused = 0;
  uint64_t refused_exits = 0; ///< exit and down messages from outside this process
  static inline const char* name = "p2pd_agent";
};

using tools::parse_connect_words;
using agent_pointer = agent_actor::stateful_pointer<agent_state>;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in{text};
  for (std::string line; std::getline(in, line);)
    out.push_back(line);
  return out;
}

connect_result result_of(const node_connection& conn) {
  auto& r = conn.report;
  connect_result out;
  out.ok = true;
  out.peer = conn.peer;
  out.strategy = node::to_string(r.how);
  out.path = node::to_string(r.path);
  out.family = tools::family_name(r.fam);
  out.transport = r.kind == node::transport::stream ? "tcp" : "udp";
  out.punch = tools::punch_kind_of(r);
  out.local = to_string(r.local);
  out.remote = to_string(r.remote);
  out.ms = r.ms;
  out.shared = r.shared;
  for (auto& a : r.attempts)
    out.attempts.push_back("ms=" + std::to_string(a.ms) + " | " + a.attempt + " | " + a.outcome);
  return out;
}

int64_t ms_since(steady::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - t0).count();
}

// Forgets the node (already gone or going) and ends its keeper.
void drop_node(agent_pointer self) {
  auto& st = self->state;
  if (st.node)
    self->demonitor(st.node->address());
  if (st.keeper)
    self->send_exit(st.keeper, caf::exit_reason::user_shutdown);
  st.node.reset();
  st.ready = false;
  st.keeper = nullptr;
}

// A node_spec from the request, the agent's defaults filling what it leaves
// empty.
caf::expected<node_spec> spec_of(const agent_config& cfg, const node_request& req) {
  node_spec spec;
  spec.port = req.port;
  spec.data_dir = req.data_dir.empty() ? cfg.data_dir + "/node" : req.data_dir;
  spec.interfaces = req.interfaces.empty() ? cfg.interfaces : req.interfaces;
  auto servers = req.servers.empty() ? cfg.servers : req.servers;
  if (!servers.empty() && servers != "none") {
    auto list = net::load_server_list(servers);
    if (!list)
      return make_error(list.error());
    tools::apply_server_list(spec, *list, std::cerr, "p2pd_agent");
  }
  return spec;
}

agent_actor::behavior_type harness_agent(agent_pointer self, agent_config cfg) {
  self->state.cfg = std::move(cfg);
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& st = self->state;
    if (st.node && dm.source == st.node->address()) {
      std::cerr << "p2pd_agent: the node ended: "
                << (dm.reason ? render(dm.reason) : std::string{"normally"}) << '\n';
      drop_node(self);
    }
  });
  // Every request: the token first, then its bound.
  auto allowed = [=](const std::string& token) {
    if (token_matches(self->state.cfg.token, token))
      return true;
    ++self->state.refused;
    std::cerr << "p2pd_agent: refused a request with a wrong token (" << self->state.refused
              << " so far)\n";
    return false;
  };
  auto refusal = [] { return make_error(errc::auth_refused, "harness: wrong token"); };
  auto bound = [=](uint32_t timeout_s) {
    auto s = std::chrono::seconds(std::max<uint32_t>(timeout_s, 1));
    return std::min(s, self->state.cfg.max_wait);
  };
  auto no_node = [](const char* what) {
    return make_error(errc::invalid_argument, std::string{what} + ": no node runs (start one)");
  };
  return {
    [=](hello_atom, const std::string& token) -> caf::result<agent_hello> {
      if (!allowed(token))
        return refusal();
      return agent_hello{self->state.cfg.name, static_cast<int32_t>(::getpid()),
                         self->state.node.has_value()};
    },
    [=](start_atom, const std::string& token, node_request& req) -> caf::result<node_facts> {
      if (!allowed(token))
        return refusal();
      auto& st = self->state;
      if (st.node)
        return make_error(errc::invalid_argument, "start: a node runs already (stop it first)");
      auto spec = spec_of(st.cfg, req);
      if (!spec)
        return spec.error();
      auto keeper = self->spawn(harness_keeper, st.cfg.name);
      spec->subscribers.push_back(keeper);
      auto n = spawn_node(self->home_system(), std::move(*spec));
      if (!n) {
        self->send_exit(keeper, caf::exit_reason::user_shutdown);
        return n.error();
      }
      caf::anon_send(keeper, node_atom::value, *n);
      // Neither outlives the agent, however it ends (a stop signal ends it
      // with an exit message).
      self->attach_functor([hdl = *n, keeper] {
        caf::anon_send_exit(hdl, caf::exit_reason::user_shutdown);
        caf::anon_send_exit(keeper, caf::exit_reason::user_shutdown);
      });
      st.node = *n;
      st.keeper = keeper;
      self->monitor(*n);
      auto t0 = steady::now();
      auto rp = self->make_response_promise<node_facts>();
      self->request(*n, bound(req.timeout_s), ready_atom::value)
        .then(
          [=](node_info& info) mutable {
            self->state.ready = true;
            node_facts f;
            f.agent = self->state.cfg.name;
            f.id = info.id;
            f.address = info.address;
            f.port = info.port;
            f.start_ms = ms_since(t0);
            std::ostringstream out;
            tools::print_node_facts(out, std::cerr, "p2pd_agent", info, f.start_ms);
            f.lines = lines_of(out.str());
            rp.deliver(std::move(f));
          },
          [=, hdl = *n](caf::error& err) mutable {
            self->send_exit(hdl, caf::exit_reason::user_shutdown);
            if (self->state.node && *self->state.node == hdl)
              drop_node(self);
            rp.deliver(make_error(code_of(err) == errc::none ? errc::child_failed : code_of(err),
                                  "start: the node did not become ready: " + render(err)));
          });
      return rp;
    },
    [=](connect_atom, const std::string& token,
        connect_request& req) -> caf::result<connect_result> {
      if (!allowed(token))
        return refusal();
      if (!self->state.node)
        return no_node("connect");
      auto opts = parse_connect_words(tools::word_if_any(req.strategies),
                                      tools::word_if_any(req.families),
                                      tools::word_if_any(req.transport));
      if (!opts)
        return make_error(errc::invalid_argument, "connect: " + render(opts.error()));
      auto t0 = steady::now();
      auto rp = self->make_response_promise<connect_result>();
      self->request(*self->state.node, bound(req.timeout_s), p2pd::connect_atom::value,
                    req.address, std::move(*opts))
        .then([=](node_connection& conn) mutable { rp.deliver(result_of(conn)); },
              [=](caf::error& err) mutable {
                connect_result r; // a failed connect is a result: a row of the matrix
                r.ms = ms_since(t0);
                r.error = render(err);
                rp.deliver(std::move(r));
              });
      return rp;
    },
    [=](echo_atom, const std::string& token, echo_request& req) -> caf::result<echo_result> {
      if (!allowed(token))
        return refusal();
      auto& st = self->state;
      if (!st.node)
        return no_node("echo");
      auto rp = self->make_response_promise<echo_result>();
      auto answered = std::make_shared<bool>(false); // the first outcome answers
      auto answer = "re: " + req.text;
      // The wait first: the answer cannot come before the send.
      self->request(st.keeper, bound(req.timeout_s) + std::chrono::seconds(1), await_atom::value,
                    req.peer, answer, static_cast<uint32_t>(bound(req.timeout_s).count()))
        .then(
          [=](int64_t rtt_ms) mutable {
            if (!std::exchange(*answered, true))
              rp.deliver(echo_result{answer, rtt_ms});
          },
          [=](caf::error& err) mutable {
            if (!std::exchange(*answered, true))
              rp.deliver(err);
          });
      self->request(*st.node, node_send_wait, send_atom::value, req.peer, to_bytes(req.text))
        .then([](caf::ok_atom) {},
              [=](caf::error& err) mutable {
                if (!std::exchange(*answered, true))
                  rp.deliver(make_error(code_of(err) == errc::none ? errc::send_failed
                                                                   : code_of(err),
                                        "echo: send: " + render(err)));
              });
      return rp;
    },
    [=](stop_atom, const std::string& token) -> caf::result<caf::ok_atom> {
      if (!allowed(token))
        return refusal();
      auto& st = self->state;
      if (!st.node)
        return caf::ok_atom::value;
      auto hdl = *st.node;
      if (!st.ready) {
        // Still starting (waiting on its servers): it would answer a close
        // only once started. Its start request fails with its end.
        self->send_exit(hdl, caf::exit_reason::user_shutdown);
        drop_node(self);
        return caf::ok_atom::value;
      }
      auto rp = self->make_response_promise<caf::ok_atom>();
      auto done = [=]() mutable {
        if (self->state.node && *self->state.node == hdl)
          drop_node(self);
        rp.deliver(caf::ok_atom::value);
      };
      self->request(hdl, bound(10), caf::close_atom::value)
        .then([=](caf::ok_atom) mutable { done(); },
              [=](caf::error& err) mutable {
                std::cerr << "p2pd_agent: close: " << render(err) << "; killing the node\n";
                self->send_exit(hdl, caf::exit_reason::kill);
                done();
              });
      return rp;
    },
    [=](quit_atom, const std::string& token) -> caf::result<caf::ok_atom> {
      if (!allowed(token))
        return refusal();
      if (self->state.node)
        self->send_exit(*self->state.node, caf::exit_reason::user_shutdown);
      drop_node(self);
      auto rp = self->make_response_promise<caf::ok_atom>();
      rp.deliver(caf::ok_atom::value); // before the quit: the answer leaves first
      self->quit();
      return rp;
    },
  };
}

} // namespace

namespace {

// The agent's actor class: CAF's, with a guard before the mailbox's
// dispatch. The middleman delivers whatever a peer sends, tokenless, and
// an exit message ends an actor before any handler sees it
// (exit_reason::kill cannot be trapped with set_exit_handler): only an
// exit sent from this process (its stop signal's) ends the agent. A down
// message from another node is dropped too (the agent monitors only its
// own node).
class agent_impl : public agent_actor::stateful_base<agent_state> {
public:
  using super = agent_actor::stateful_base<agent_state>;

  agent_impl(caf::actor_config& cfg, agent_config conf) : super(cfg), conf_(std::move(conf)) {}

  behavior_type make_behavior() override { return harness_agent(this, std::move(conf_)); }

  caf::invoke_message_result consume(caf::mailbox_element& x) override {
    auto& msg = x.content();
    bool local = x.sender != nullptr && x.sender->node() == node();
    bool exit = msg.match_elements<caf::exit_msg>();
    bool foreign_down = msg.match_elements<caf::down_msg>() && x.sender != nullptr && !local;
    if ((exit && !local) || foreign_down) {
      ++state.refused_exits;
      std::cerr << "p2pd_agent: refused " << (exit ? "an exit" : "a down")
                << " message from outside this process (" << state.refused_exits
                << " so far)\n";
      return caf::invoke_message_result::dropped;
    }
    return super::consume(x);
  }

private:
  agent_config conf_;
};

} // namespace

agent_actor spawn_agent(caf::actor_system& sys, agent_config cfg) {
  return sys.spawn<agent_impl>(std::move(cfg));
}

} // namespace p2pd::harness
