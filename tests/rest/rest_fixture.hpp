#pragma once

// Nodes on loopback with their REST API on a free port, and curl (a client
// nobody here wrote) as a child process to call it.

#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "p2pd/api/names.hpp"
#include "p2pd/net/names/name_store.hpp"
#include "p2pd/rest/rest_server.hpp"

#include "node/node_fixture.hpp"
#include "support/child_process.hpp"
#include "support/files.hpp"
#include "support/temp_dir.hpp"

namespace p2pd::test {

/// What curl got.
struct curl_result {
  int status = 0;      ///< 0: curl failed (its message is in `log`)
  std::string body;
  std::string headers;
  std::string log;

  nlohmann::json json() const {
    auto j = nlohmann::json::parse(body, nullptr, false);
    return j.is_discarded() ? nlohmann::json{{"unparsed", body}} : j;
  }
};

/// A curl call: method, path, and what else to send.
struct curl_call {
  std::string method = "GET";
  std::string path = "/version";
  /// The bearer token; unset: the server's; empty: none sent.
  std::optional<std::string> token;
  std::vector<std::string> headers;
  std::optional<std::string> data;  ///< body (--data-binary)
  std::string host = "127.0.0.1";   ///< of the URL
};

/// A node and its REST server.
struct served_node {
  node_handle node;
  rest::rest_server_info rest;
};

class rest_fixture : public node_fixture {
protected:
  void SetUp() override {
    ASSERT_FALSE(dir.path().empty());
    ASSERT_TRUE(have_program("curl")) << "curl is not installed (scripts/install-deps.sh)";
  }

  rest::rest_spec rest_spec_for() {
    rest::rest_spec spec;
    spec.port = 0;
    spec.data_dir = dir.path() + "/data" + std::to_string(++served_count);
    return spec;
  }

  served_node serve(rest::rest_spec spec) { return serve(spec_for(), std::move(spec)); }

  /// A node of `node` with its REST server of `spec`.
  served_node serve(node_spec node, rest::rest_spec spec) {
    auto n = start(std::move(node));
    auto r = rest::start_rest_server(rt.system(), n.handle(), spec);
    EXPECT_OK(r);
    if (!r)
      throw std::runtime_error("the REST server did not start");
    return {std::move(n), std::move(*r)};
  }
  served_node serve() { return serve(rest_spec_for()); }

  /// A name server of its own (SQLite in the test's directory) on UDP and
  /// TCP of 127.0.0.1, up until the test ends: its addresses.
  std::vector<name_server_addr> start_name_servers() {
    std::vector<name_server_addr> out;
    auto store = net::names::open_store("sqlite:" + dir.path() + "/names.db");
    EXPECT_OK(store);
    if (!store)
      return out;
    name_server_spec ns;
    ns.store = std::move(*store);
    daemon_spec base;
    base.data_dir = dir.path();
    auto lo = net::ip_address::loopback(net::family::v4);
    auto srv = start_name_server(rt, std::move(ns),
                                 {{net::protocol::udp, endpoint{lo, 0}},
                                  {net::protocol::tcp, endpoint{lo, 0}}},
                                 base);
    EXPECT_OK(srv);
    if (!srv)
      return out;
    for (const auto& l : srv->listeners)
      out.push_back({l.proto, l.local});
    name_servers_held.push_back(std::move(*srv));
    return out;
  }

  /// Starts curl for `c` against `s`; run() waits for it.
  struct running {
    child_process proc;
    std::string body_file, header_file, log_file;
  };
  running start_curl(const served_node& s, const curl_call& c) {
    running r;
    auto n = std::to_string(++curl_count);
    r.body_file = dir.path() + "/body" + n;
    r.header_file = dir.path() + "/headers" + n;
    r.log_file = dir.path() + "/curl" + n + ".log";
    std::string host = c.host.find(':') != std::string::npos ? "[" + c.host + "]" : c.host;
    std::vector<std::string> argv{"curl", "-sS", "--max-time", "20", "-X", c.method,
                                  "-o", r.body_file, "-D", r.header_file,
                                  "-w", "\nHTTP_STATUS=%{http_code}\n"};
    auto token = c.token.value_or(s.rest.token);
    if (!token.empty())
      argv.insert(argv.end(), {"-H", "Authorization: Bearer " + token});
    for (const auto& h : c.headers)
      argv.insert(argv.end(), {"-H", h});
    if (c.data) {
      auto data_file = dir.path() + "/upload" + n;
      std::ofstream(data_file, std::ios::binary) << *c.data;
      argv.insert(argv.end(), {"--data-binary", "@" + data_file});
    }
    argv.push_back("http://" + host + ":" + std::to_string(s.rest.port) + c.path);
    std::string why;
    EXPECT_TRUE(r.proc.start(argv, r.log_file, why)) << why;
    return r;
  }

  curl_result finish(running& r) {
    curl_result out;
    EXPECT_TRUE(r.proc.wait_exit(30000)) << "curl did not end";
    out.log = read_file(r.log_file);
    auto at = out.log.rfind("HTTP_STATUS=");
    if (at != std::string::npos)
      out.status = std::atoi(out.log.c_str() + at + 12);
    out.body = read_file(r.body_file);
    out.headers = read_file(r.header_file);
    return out;
  }

  curl_result curl(const served_node& s, const curl_call& c) {
    auto r = start_curl(s, c);
    return finish(r);
  }
  curl_result get(const served_node& s, const std::string& path) {
    curl_call c;
    c.path = path;
    return curl(s, c);
  }
  curl_result post(const served_node& s, const std::string& path,
                   std::optional<std::string> data = std::nullopt) {
    curl_call c;
    c.method = "POST";
    c.path = path;
    c.data = std::move(data);
    return curl(s, c);
  }

  rest::rest_stats stats_of(const served_node& s) {
    caf::scoped_actor self{rt.system()};
    rest::rest_stats out;
    self->request(s.rest.server, std::chrono::seconds(5), stats_atom::value)
      .receive([&](rest::rest_stats& x) { out = x; },
               [&](caf::error& err) { ADD_FAILURE() << render(err); });
    return out;
  }

  temp_dir dir;
  int served_count = 0;
  std::vector<name_server_handle> name_servers_held;
  int curl_count = 0;
};

} // namespace p2pd::test
