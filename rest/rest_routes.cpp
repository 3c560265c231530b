#include <cmath>
#include <utility>

#include "p2pd/actors/common/timeouts.hpp"
#include "p2pd/messages/errors.hpp"
#include "p2pd/net/http/response.hpp"
#include "p2pd/net/names/name_rules.hpp"
#include "p2pd/node/address/peer_address.hpp"
#include "p2pd/node/metrics/prometheus.hpp"
#include "p2pd/rest/detail/rest_state.hpp"
#include "p2pd/rest/rest_guard.hpp"
#include "p2pd/rest/detail/rest_json.hpp"


namespace p2pd::rest::detail {

namespace {

using net::http::request;
using net::http::response;

// The path's segments, percent-decoded; none if one does not decode.
std::optional<std::vector<std::string>> segments(std::string_view path) {
  std::vector<std::string> out;
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    auto slash = path.find('/');
    auto seg = net::http::percent_decode(path.substr(0, slash));
    if (!seg)
      return std::nullopt;
    out.push_back(std::move(*seg));
    if (slash == std::string_view::npos)
      break;
    path.remove_prefix(slash);
  }
  return out;
}

// The answer when the node fails a request of the server's: 502 with why,
// 504 when it did not answer within limits.node_timeout.
auto node_failed(server_actor* self, uint64_t id) {
  return [self, id](caf::error& err) {
    fail(self, id, node_error_status(err, 502),
         "the node did not answer: "
           + node_error_text(err, self->state.spec.limits.node_timeout));
  };
}

// How long the server waits for the node's answer to an API request.
caf::timespan node_wait(server_actor* self) {
  return self->state.spec.limits.node_timeout;
}

void get_addr(server_actor* self, uint64_t id) {
  self->request(self->state.node, node_wait(self), info_atom::value)
    .then(
      [self, id](node_info& info) {
        json ls = json::array();
        for (const auto& l : info.listeners)
          ls.push_back(l.local.to_string());
        reply(self, id, 200,
              {{"id", info.id}, {"address", info.address}, {"port", info.port}, {"listeners", ls}});
      },
      node_failed(self, id));
}

// /ifs and /nat: the node's signed address and its children.
void get_interfaces(server_actor* self, uint64_t id, bool nat, std::string which) {
  auto node = self->state.node;
  self->request(node, node_wait(self), info_atom::value)
    .then(
      [=](node_info& info) {
        self->request(node, node_wait(self), children_atom::value)
          .then(
            [=](std::vector<node_child>& children) {
              auto a = node::parse_peer_address(info.address);
              if (!a)
                return fail(self, id, 500, "the node's own address does not parse: " + a.error().what);
              if (!nat) {
                json kids = json::array();
                for (const auto& c : children)
                  kids.push_back({{"name", c.name}, {"restarts", c.restarts},
                                  {"running", static_cast<bool>(c.actor)}});
                return reply(self, id, 200,
                             {{"id", info.id}, {"interfaces", interfaces_json(*a, children)},
                              {"children", kids}});
              }
              auto all = nat_json(*a, children);
              if (which.empty())
                return reply(self, id, 200, {{"nat", all}});
              json picked = json::array();
              for (auto& r : all)
                if (r["name"] == which || std::to_string(r["interface"].get<int>()) == which)
                  picked.push_back(r);
              if (picked.empty())
                return fail(self, id, 404, "no interface '" + which + "'");
              reply(self, id, 200, {{"nat", picked}});
            },
            node_failed(self, id));
      },
      node_failed(self, id));
}

void get_peers(server_actor* self, uint64_t id, bool with_stats) {
  self->request(self->state.node, node_wait(self), stats_atom::value)
    .then(
      [self, id, with_stats](node_stats& ns) {
        auto& st = self->state;
        if (with_stats) {
          auto rs = st.stats;
          rs.open_connections = static_cast<uint32_t>(st.conns.size());
          return reply(self, id, 200, {{"node", to_json(ns)}, {"rest", to_json(rs)}});
        }
        json peers = json::array();
        for (const auto& [pid, ps] : st.peers) {
          json conns = json::array();
          for (const auto& c : ps.conns) {
            json cj = {{"inbound", c.inbound}, {"remote", c.remote.to_string()}};
            cj["strategy"] = c.inbound ? std::string("inbound") : node::to_string(c.report.how);
            if (!c.inbound) {
              cj["path"] = node::to_string(c.report.path);
              cj["family"] = net::to_string(c.report.fam);
            }
            conns.push_back(std::move(cj));
          }
          json names = json::array();
          for (const auto& [name, n] : st.names)
            if (n.peer == pid)
              names.push_back(name);
          peers.push_back({{"id", pid}, {"connections", conns}, {"names", names},
                           {"msgs_in", ps.msgs_in}, {"bytes_in", ps.bytes_in},
                           {"msgs_out", ps.msgs_out}, {"bytes_out", ps.bytes_out},
                           {"buffered", ps.inbox.size()}, {"dropped", ps.dropped}});
        }
        reply(self, id, 200, {{"peers", peers}, {"node", to_json(ns)}});
      },
      node_failed(self, id));
}

// The node's metrics in Prometheus' text format: the node gathers them
// (bounded by timeouts::metrics_gather), the server only renders.
void get_metrics(server_actor* self, uint64_t id) {
  auto failed = node_failed(self, id);
  self->request(self->state.node, node_wait(self), info_atom::value)
    .then(
      [self, id, failed](node_info& info) {
        self->request(self->state.node, node_wait(self), metrics_atom::value)
          .then(
            [self, id, node_id = std::move(info.id)](node_metrics& m) {
              net::http::response r;
              r.status = 200;
              r.set("Content-Type", std::string{prometheus_content_type});
              r.body = to_prometheus(m, node_id);
              answer(self, id, std::move(r));
            },
            failed);
      },
      failed);
}

bool is_page(const request& req) {
  return req.method == "GET" && page_file_for(req.path()).has_value();
}

} // namespace

void reply(server_actor* self, uint64_t id, int status, const json& j) {
  answer(self, id, json_response(status, dump(j)));
}

void fail(server_actor* self, uint64_t id, int status, const std::string& why) {
  answer(self, id, error_response(status, why));
}

int node_error_status(const caf::error& err, int otherwise) {
  return err == caf::sec::request_timeout ? 504 : otherwise;
}

std::string node_error_text(const caf::error& err, caf::timespan limit) {
  if (err == caf::sec::request_timeout)
    return "no answer within " + timeouts::ms_text(limit);
  return render(err);
}

net::http::response error_response(int status, const std::string& why) {
  return json_response(status, dump(json{{"error", why}}));
}

void route(server_actor* self, uint64_t id, request& req) {
  auto& st = self->state;
  if (st.port == 0)
    return fail(self, id, 503, "the REST API is starting");
  bool page = is_page(req);
  if (auto r = check_request(req, st.port, st.token, !page)) {
    ++(r->status == 401 ? st.stats.unauthorized : st.stats.forbidden);
    auto resp = error_response(r->status, r->why);
    if (r->status == 401)
      resp.set("WWW-Authenticate", "Bearer realm=\"p2pd\"");
    return answer(self, id, std::move(resp));
  }
  if (page) {
    auto f = page_file_for(req.path());
    response r;
    r.set("Content-Type", std::string(f->type));
    // The page runs its own script and style only, and in no frame.
    r.set("Content-Security-Policy",
          "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
          "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
    r.set("Referrer-Policy", "no-referrer");
    r.body = std::string(f->body);
    return answer(self, id, std::move(r));
  }
  auto segs = segments(req.path());
  if (!segs || segs->empty())
    return fail(self, id, 400, "a path segment with a bad percent-escape");
  auto& s = *segs;
  const auto& m = req.method;
  const auto& what = s[0];
  auto arg = [&](size_t i) { return i < s.size() ? s[i] : std::string{}; };
  auto wrong_method = [&](const char* allowed) {
    auto r = error_response(405, "use " + std::string(allowed) + " for /" + what);
    r.set("Allow", allowed);
    answer(self, id, std::move(r));
  };
  if (what == "version" && s.size() == 1)
    return m == "GET" ? reply(self, id, 200,
                              {{"title", "p2pd"}, {"version", P2PD_REST_VERSION}, {"api", 1}})
                      : wrong_method("GET");
  if (what == "addr" && s.size() == 1)
    return m == "GET" ? get_addr(self, id) : wrong_method("GET");
  if (what == "ifs" && s.size() == 1)
    return m == "GET" ? get_interfaces(self, id, false, {}) : wrong_method("GET");
  if (what == "nat" && s.size() <= 2)
    return m == "GET" ? get_interfaces(self, id, true, arg(1)) : wrong_method("GET");
  if (what == "peers" && s.size() == 1)
    return m == "GET" ? get_peers(self, id, false) : wrong_method("GET");
  if (what == "stats" && s.size() == 1)
    return m == "GET" ? get_peers(self, id, true) : wrong_method("GET");
  if (what == "metrics" && s.size() == 1)
    return m == "GET" ? get_metrics(self, id) : wrong_method("GET");
  if (what == "cons" && s.size() <= 2)
    return m == "GET" ? get_cons(self, id, arg(1)) : wrong_method("GET");
  if (what == "open" && s.size() == 3)
    return m == "POST" ? post_open(self, id, s[1], s[2]) : wrong_method("POST");
  if (what == "send" && s.size() == 2)
    return m == "POST" ? post_send(self, id, s[1], std::move(req.body)) : wrong_method("POST");
  if (what == "binary" && s.size() == 2) {
    if (m == "POST")
      return post_send(self, id, s[1], std::move(req.body));
    return m == "GET" ? get_recv(self, id, s[1], req, true) : wrong_method("GET, POST");
  }
  if (what == "recv" && s.size() == 2)
    return m == "GET" ? get_recv(self, id, s[1], req, false) : wrong_method("GET");
  if (what == "close" && s.size() == 2)
    return m == "POST" ? post_close(self, id, s[1]) : wrong_method("POST");
  fail(self, id, 404, "no such endpoint: " + m + " " + std::string(req.path()));
}

} // namespace p2pd::rest::detail
