// The REST API over loopback, called by curl: every endpoint, the security
// checks, the bounds, and two nodes talking through their APIs.

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <fstream>

#include "p2pd/actors/common/clock.hpp"
#include "p2pd/net/names/name_store.hpp"

#include "rest_fixture.hpp"
#include "support/prometheus_text.hpp"
#include "support/sockets.hpp"

namespace p2pd::test {

using nlohmann::json;

class RestApi : public rest_fixture {
protected:
  /// Whether `s`'s API lists `peer` among its peers within 5 s.
  bool knows_peer(const served_node& s, const std::string& peer) {
    return eventually([&] {
      auto peers = get(s, "/peers").json()["peers"];
      for (auto& p : peers)
        if (p["id"] == peer && !p["connections"].empty())
          return true;
      return false;
    });
  }
};

TEST_F(RestApi, VersionAnswersWithTheToken) {
  auto s = serve();
  auto r = get(s, "/version");
  ASSERT_EQ(r.status, 200) << r.log << r.body;
  EXPECT_EQ(r.json()["title"], "p2pd");
  EXPECT_EQ(r.json()["api"], 1);
  EXPECT_NE(r.headers.find("Content-Type: application/json"), std::string::npos) << r.headers;
}

TEST_F(RestApi, ARequestWithoutTheTokenIs401) {
  auto s = serve();
  curl_call c;
  c.token = "";
  auto r = curl(s, c);
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_NE(r.headers.find("WWW-Authenticate: Bearer"), std::string::npos) << r.headers;
  EXPECT_TRUE(r.json().contains("error"));
  EXPECT_EQ(stats_of(s).unauthorized, 1u);
}

TEST_F(RestApi, AWrongTokenIs401) {
  auto s = serve();
  curl_call c;
  c.token = std::string(64, '0');
  auto r = curl(s, c);
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_EQ(r.json()["error"], "wrong token");
}

TEST_F(RestApi, AForeignOriginIs403AndTheServersOwnPasses) {
  auto s = serve();
  curl_call c;
  c.headers = {"Origin: http://evil.example"};
  auto r = curl(s, c);
  EXPECT_EQ(r.status, 403) << r.body;
  c.headers = {"Origin: http://127.0.0.1:" + std::to_string(s.rest.port + 1)};
  EXPECT_EQ(curl(s, c).status, 403);
  c.headers = {"Origin: null"};
  EXPECT_EQ(curl(s, c).status, 403);
  c.headers = {"Origin: http://localhost:" + std::to_string(s.rest.port)};
  EXPECT_EQ(curl(s, c).status, 200);
  EXPECT_EQ(stats_of(s).forbidden, 3u);
}

TEST_F(RestApi, AHostOtherThanLoopbackIs403) {
  // DNS rebinding: a name of the attacker's that resolves to 127.0.0.1.
  auto s = serve();
  curl_call c;
  c.headers = {"Host: evil.example:" + std::to_string(s.rest.port)};
  auto r = curl(s, c);
  EXPECT_EQ(r.status, 403) << r.body;
  c.headers = {"Host: [::1]:" + std::to_string(s.rest.port)};
  EXPECT_EQ(curl(s, c).status, 200);
}

TEST_F(RestApi, ServesOnIpv6LoopbackToo) {
  auto s = serve();
  bool v6 = false;
  for (const auto& ep : s.rest.endpoints)
    v6 = v6 || ep.ip.fam() == net::family::v6;
  if (!v6)
    GTEST_SKIP() << "no ::1 on this host";
  curl_call c;
  c.host = "::1";
  EXPECT_EQ(curl(s, c).status, 200);
}

TEST_F(RestApi, ABodyTooLargeIs413) {
  auto s = serve();
  auto r = post(s, "/send/x", std::string(2 * 1024 * 1024, 'a'));
  EXPECT_EQ(r.status, 413) << r.log;
  EXPECT_EQ(stats_of(s).malformed, 1u);
}

TEST_F(RestApi, AConnectionNameThatDoesNotExistIs404) {
  auto s = serve();
  for (auto [method, path] : std::vector<std::pair<std::string, std::string>>{
         {"GET", "/recv/nope"}, {"GET", "/binary/nope"}, {"POST", "/send/nope"},
         {"POST", "/close/nope"}, {"GET", "/cons/nope"}}) {
    curl_call c;
    c.method = method;
    c.path = path;
    if (method == "POST")
      c.data = "x";
    auto r = curl(s, c);
    EXPECT_EQ(r.status, 404) << method << " " << path << ": " << r.body;
    EXPECT_NE(r.json()["error"].get<std::string>().find("nope"), std::string::npos);
  }
}

TEST_F(RestApi, UnknownEndpointsAndWrongMethodsAreRefused) {
  auto s = serve();
  EXPECT_EQ(get(s, "/nothing").status, 404);
  EXPECT_EQ(post(s, "/version", "x").status, 405);
  EXPECT_EQ(get(s, "/open/a/b").status, 405);
  EXPECT_EQ(get(s, "/cons/%zz").status, 400);
}

TEST_F(RestApi, AddrGivesTheNodesIdAndAddress) {
  auto s = serve();
  auto r = get(s, "/addr");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["id"], s.node.id());
  EXPECT_EQ(r.json()["address"], s.node.address());
  EXPECT_GT(r.json()["port"].get<int>(), 0);
}

TEST_F(RestApi, IfsAndNatDescribeTheInterfacesOfTheSignedAddress) {
  auto s = serve();
  auto r = get(s, "/ifs");
  ASSERT_EQ(r.status, 200) << r.body;
  auto ifs = r.json()["interfaces"];
  ASSERT_EQ(ifs.size(), 1u) << r.body;
  EXPECT_EQ(ifs[0]["name"], "lo");
  bool v4 = false;
  for (auto& route : ifs[0]["routes"])
    v4 = v4 || (route["family"] == "IPv4" && route["nic"] == "127.0.0.1");
  EXPECT_TRUE(v4) << r.body;
  bool lo_child = false;
  auto children = r.json()["children"];
  for (auto& c : children)
    lo_child = lo_child || (c["name"] == "interface lo" && c["running"] == true);
  EXPECT_TRUE(lo_child) << r.json()["children"].dump();
  auto nat = get(s, "/nat");
  ASSERT_EQ(nat.status, 200) << nat.body;
  ASSERT_FALSE(nat.json()["nat"].empty());
  EXPECT_TRUE(nat.json()["nat"][0].contains("nat"));
  EXPECT_EQ(get(s, "/nat/lo").status, 200);
  EXPECT_EQ(get(s, "/nat/0").status, 200);
  EXPECT_EQ(get(s, "/nat/eth9").status, 404);
}

TEST_F(RestApi, TwoNodesOpenSendAndReceiveThroughTheirApis) {
  auto a = serve();
  auto b = serve();
  auto open = post(a, "/open/c/" + b.node.address());
  ASSERT_EQ(open.status, 200) << open.body;
  EXPECT_EQ(open.json()["name"], "c");
  EXPECT_EQ(open.json()["peer"], b.node.id());
  EXPECT_EQ(open.json()["strategy"], "direct");
  EXPECT_TRUE(open.json().contains("path"));
  EXPECT_TRUE(open.json().contains("family"));
  EXPECT_TRUE(open.json().contains("ms"));
  auto sent = post(a, "/send/c", "hello b");
  ASSERT_EQ(sent.status, 200) << sent.body;
  EXPECT_EQ(sent.json()["sent"], 7);

  // b names the peer that connected to it by its id; the message that came
  // before was kept. (b's node tells b's API of the peer once its hello
  // came, which may be just after a's connect returned.)
  ASSERT_TRUE(knows_peer(b, a.node.id()));
  auto back = post(b, "/open/back/" + a.node.id());
  ASSERT_EQ(back.status, 200) << back.body;
  EXPECT_EQ(back.json()["strategy"], "inbound");
  auto got = get(b, "/recv/back?timeout=5");
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(got.json()["data"], "hello b");
  EXPECT_EQ(got.json()["peer"], a.node.id());

  // Binary, with a NUL and bytes that are not UTF-8, the other way; the
  // receive waits for it.
  std::string bin("\x00\xff\x01 bin", 7);
  auto waiting = start_curl(a, curl_call{"GET", "/binary/c?timeout=10", {}, {}, {}, "127.0.0.1"});
  auto sent_bin = post(b, "/binary/back", bin);
  ASSERT_EQ(sent_bin.status, 200) << sent_bin.body;
  auto got_bin = finish(waiting);
  ASSERT_EQ(got_bin.status, 200) << got_bin.log;
  EXPECT_EQ(got_bin.body, bin);
  EXPECT_NE(got_bin.headers.find("Content-Type: application/octet-stream"), std::string::npos);

  auto cons = get(a, "/cons");
  ASSERT_EQ(cons.status, 200);
  ASSERT_EQ(cons.json()["connections"].size(), 1u) << cons.body;
  auto c = cons.json()["connections"][0];
  EXPECT_EQ(c["name"], "c");
  EXPECT_EQ(c["strategy"], "direct");
  EXPECT_EQ(c["open"], true);
  EXPECT_EQ(c["msgs_out"], 1);
  EXPECT_EQ(c["bytes_out"], 7);
  EXPECT_EQ(c["msgs_in"], 1);
  EXPECT_EQ(c["bytes_in"], 7);
  EXPECT_EQ(get(a, "/cons/c").json()["report"]["strategy"], "direct");

  auto closed = post(a, "/close/c");
  ASSERT_EQ(closed.status, 200) << closed.body;
  EXPECT_EQ(get(a, "/cons/c").status, 404);
  // b learns the connection ended: a receive on it is refused, not left to wait.
  EXPECT_TRUE(eventually([&] { return get(b, "/recv/back?timeout=1").status == 410; }));
}

TEST_F(RestApi, AReceiveWithNothingToTakeTimesOut) {
  auto a = serve();
  auto b = serve();
  ASSERT_EQ(post(a, "/open/c/" + b.node.address()).status, 200);
  auto t0 = std::chrono::steady_clock::now();
  auto r = get(a, "/recv/c?timeout=0.5");
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(r.status, 504) << r.body;
  EXPECT_GE(took, std::chrono::milliseconds(500));
  EXPECT_LT(took, std::chrono::seconds(5));
  EXPECT_EQ(get(a, "/recv/c").status, 504); // no timeout: a poll
  EXPECT_EQ(get(a, "/recv/c?timeout=soon").status, 400);
}

TEST_F(RestApi, OpeningANameTwiceIs409AndGarbageIs400) {
  auto a = serve();
  auto b = serve();
  ASSERT_EQ(post(a, "/open/c/" + b.node.address()).status, 200);
  EXPECT_EQ(post(a, "/open/c/" + b.node.address()).status, 409);
  EXPECT_EQ(post(a, "/open/d/p2pd1_garbage").status, 400);
  EXPECT_EQ(post(a, "/open/d/not-an-address").status, 400);
  EXPECT_EQ(post(a, "/open/bad%20name/" + b.node.address()).status, 400);
}

TEST_F(RestApi, AConnectThatFailsIs502) {
  auto a = serve();
  auto gone = start();
  auto address = gone.address();
  ASSERT_OK(gone.close());
  auto r = post(a, "/open/c/" + address);
  EXPECT_EQ(r.status, 502) << r.body;
  EXPECT_NE(r.json()["error"].get<std::string>().find("connect failed"), std::string::npos);
  EXPECT_EQ(get(a, "/cons/c").status, 404);
}

TEST_F(RestApi, ANameStillOpeningIsListedWithoutAStrategy) {
  auto a = serve();
  // A connect to a node that is gone runs for seconds before it fails.
  auto gone = start();
  auto address = gone.address();
  ASSERT_OK(gone.close());
  auto opening = start_curl(a, curl_call{"POST", "/open/c/" + address, {}, {}, {}, "127.0.0.1"});
  curl_result cons;
  ASSERT_TRUE(eventually([&] {
    cons = get(a, "/cons/c");
    return cons.status != 404;
  }));
  ASSERT_EQ(cons.status, 200) << cons.log;
  EXPECT_EQ(cons.json()["opening"], true) << cons.body;
  EXPECT_TRUE(cons.json()["strategy"].is_null()) << cons.body;
  EXPECT_EQ(get(a, "/cons").json()["connections"].size(), 1u);
  EXPECT_EQ(finish(opening).status, 502);
  EXPECT_EQ(get(a, "/version").status, 200); // the server runs on
}

TEST_F(RestApi, TwentyConcurrentRequestsAreAllAnswered) {
  auto s = serve();
  std::vector<running> runs;
  for (int i = 0; i < 20; ++i) {
    curl_call c;
    c.path = i % 2 ? "/addr" : "/ifs";
    runs.push_back(start_curl(s, c));
  }
  for (auto& r : runs)
    EXPECT_EQ(finish(r).status, 200);
  EXPECT_EQ(stats_of(s).requests, 20u);
}

TEST_F(RestApi, ConnectionsBeyondTheCapAreRefusedAndCounted) {
  auto spec = rest_spec_for();
  spec.limits.max_connections = 2;
  auto s = serve(spec);
  net::endpoint ep{net::ip_address::loopback(net::family::v4), s.rest.port};
  auto c1 = raw_connect(ep);
  auto c2 = raw_connect(ep);
  ASSERT_TRUE(c1 && c2);
  ASSERT_TRUE(eventually([&] { return stats_of(s).open_connections == 2; }));
  auto r = get(s, "/version");
  EXPECT_EQ(r.status, 503) << r.log;
  EXPECT_EQ(stats_of(s).connections_refused, 1u);
}

// How many whole responses (head and Content-Length body) `got` holds.
size_t whole_responses(const std::string& got) {
  size_t n = 0;
  size_t at = 0;
  for (;;) {
    auto head_end = got.find("\r\n\r\n", at);
    if (head_end == std::string::npos)
      return n;
    auto cl = got.find("Content-Length: ", at);
    if (cl == std::string::npos || cl > head_end)
      return n;
    auto len = std::stoul(got.substr(cl + 16, got.find("\r\n", cl) - cl - 16));
    if (got.size() < head_end + 4 + len)
      return n;
    ++n;
    at = head_end + 4 + len;
  }
}

// A raw socket: what curl cannot do on purpose. Sends `pieces` apart and
// reads until `answers` whole responses came.
std::string exchange(const net::endpoint& ep, const std::vector<std::string>& pieces,
                     size_t answers) {
  auto fd = raw_connect(ep);
  if (!fd)
    return "no connection";
  set_timeouts(fd.get(), std::chrono::seconds(5));
  int one = 1; // each piece its own segment (no Nagle), so the server reads them apart
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  for (const auto& p : pieces) {
    ::send(fd.get(), p.data(), p.size(), MSG_NOSIGNAL);
    // Pacing, not synchronisation: the pieces should reach the server as
    // separate reads. The assertions hold either way (pieces that coalesce
    // test less); the parser's own tests split at every byte.
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::string got;
  char buf[4096];
  while (whole_responses(got) < answers) {
    auto r = ::recv(fd.get(), buf, sizeof buf, 0);
    if (r <= 0)
      break;
    got.append(buf, static_cast<size_t>(r));
  }
  return got;
}

TEST_F(RestApi, ARequestSplitAcrossManyWritesIsOneRequest) {
  auto s = serve();
  net::endpoint ep{net::ip_address::loopback(net::family::v4), s.rest.port};
  std::string req = "GET /version HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(s.rest.port)
                    + "\r\nAuthorization: Bearer " + s.rest.token + "\r\n\r\n";
  std::vector<std::string> pieces;
  for (size_t i = 0; i < req.size(); i += 7)
    pieces.push_back(req.substr(i, 7));
  auto got = exchange(ep, pieces, 1);
  EXPECT_EQ(got.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << got;
  EXPECT_NE(got.find("\"title\":\"p2pd\""), std::string::npos) << got;
  EXPECT_EQ(stats_of(s).requests, 1u);
}

TEST_F(RestApi, PipelinedRequestsAreAnsweredInOrder) {
  auto s = serve();
  net::endpoint ep{net::ip_address::loopback(net::family::v4), s.rest.port};
  auto one = [&](const std::string& path) {
    return "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(s.rest.port)
           + "\r\nAuthorization: Bearer " + s.rest.token + "\r\n\r\n";
  };
  auto got = exchange(ep, {one("/addr") + one("/version")}, 2);
  auto first = got.find("\"address\"");
  auto second = got.find("\"title\"");
  ASSERT_NE(first, std::string::npos) << got;
  ASSERT_NE(second, std::string::npos) << got;
  EXPECT_LT(first, second);
}

TEST_F(RestApi, TheStatusPageLoadsWithoutTheTokenAndTheApiDoesNot) {
  auto s = serve();
  curl_call c;
  c.token = "";
  c.path = "/";
  auto page = curl(s, c);
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("<title>p2pd node</title>"), std::string::npos);
  EXPECT_NE(page.headers.find("Content-Security-Policy"), std::string::npos);
  EXPECT_EQ(page.body.find(s.node.id()), std::string::npos); // no data in the page itself
  c.path = "/page.js";
  EXPECT_EQ(curl(s, c).status, 200);
  c.path = "/addr";
  EXPECT_EQ(curl(s, c).status, 401);
}

TEST_F(RestApi, StatsCountTheServersWork) {
  auto s = serve();
  get(s, "/version");
  auto r = get(s, "/stats");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_GE(r.json()["rest"]["requests"].get<int>(), 2);
  EXPECT_TRUE(r.json()["node"].contains("connections"));
}

TEST_F(RestApi, MetricsAreThePrometheusTextOfTheNode) {
  auto s = serve();
  auto r = get(s, "/metrics");
  ASSERT_EQ(r.status, 200) << r.log << r.body;
  EXPECT_NE(r.headers.find("Content-Type: text/plain; version=0.0.4"), std::string::npos)
    << r.headers;
  auto parsed = parse_prometheus_text(r.body);
  ASSERT_TRUE(parsed.ok()) << parsed.error << "\n" << r.body;
  EXPECT_NE(parsed.doc.family("p2pd_connections"), nullptr) << r.body;
  curl_call c;
  c.path = "/metrics";
  c.token = "";
  EXPECT_EQ(curl(s, c).status, 401);
}

TEST_F(RestApi, ANonLoopbackBindAddressIsRefused) {
  auto n = start();
  auto spec = rest_spec_for();
  spec.bind = {net::ip_address::any(net::family::v4)};
  auto r = rest::start_rest_server(rt.system(), n.handle(), spec);
  EXPECT_ERRC(r, errc::invalid_argument);
}

} // namespace p2pd::test

namespace p2pd::test {

TEST_F(RestApi, ARequestNotWholeInTimeIs408AndClosed) {
  auto spec = rest_spec_for();
  spec.limits.request_deadline = std::chrono::milliseconds(500);
  auto s = serve(spec);
  net::endpoint ep{net::ip_address::loopback(net::family::v4), s.rest.port};
  auto fd = raw_connect(ep);
  ASSERT_TRUE(fd);
  set_timeouts(fd.get(), std::chrono::seconds(5));
  std::string part = "GET /version HTTP/1.1\r\nHost: 127.0.0.1:";
  ASSERT_EQ(::send(fd.get(), part.data(), part.size(), MSG_NOSIGNAL), static_cast<ssize_t>(part.size()));
  char buf[1024];
  auto n = ::recv(fd.get(), buf, sizeof buf, 0);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf, static_cast<size_t>(n)).rfind("HTTP/1.1 408 ", 0), 0u);
  EXPECT_TRUE(raw_wait_closed(fd.get(), std::chrono::seconds(5)));
  EXPECT_EQ(stats_of(s).timed_out, 1u);
}

TEST_F(RestApi, AMessageAboveTheNodesLimitIs413) {
  auto a = serve();
  auto b = serve();
  ASSERT_EQ(post(a, "/open/c/" + b.node.address()).status, 200);
  auto r = post(a, "/binary/c", std::string(70 * 1024, 'x'));
  EXPECT_EQ(r.status, 413) << r.body;
  // Within it, a large message goes through (curl sends it after a 100 Continue).
  std::string big(60 * 1024, 'y');
  ASSERT_EQ(post(a, "/binary/c", big).status, 200);
  ASSERT_TRUE(knows_peer(b, a.node.id()));
  ASSERT_EQ(post(b, "/open/back/" + a.node.id()).status, 200);
  auto got = get(b, "/binary/back?timeout=5");
  ASSERT_EQ(got.status, 200) << got.log;
  EXPECT_EQ(got.body, big);
}

TEST_F(RestApi, OpenByNameConnectsToTheNodeThatHoldsTheName) {
  auto servers = start_name_servers();
  auto bob_spec = spec_for();
  bob_spec.name_servers = servers;
  bob_spec.names = {"bob.p2p"};
  auto b = start(std::move(bob_spec));
  auto a_spec = spec_for();
  a_spec.name_servers = servers;
  auto a = serve(std::move(a_spec), rest_spec_for());
  // Bob registers his name once he listens: wait until it can be found.
  ASSERT_TRUE(eventually([&] {
    auto l = a.node.lookup_name("bob.p2p");
    return l && l->record.has_value();
  }));
  auto r = post(a, "/open/c/bob.p2p");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(get(a, "/cons/c").json()["peer"], b.id());
  EXPECT_EQ(get(a, "/cons/c").json()["address"], "bob.p2p");
  auto none = post(a, "/open/d/nobody.p2p");
  EXPECT_EQ(none.status, 404) << none.body;
}

TEST_F(RestApi, OpenByANameAnotherKeySignedForANodeIsRefused) {
  auto servers = start_name_servers();
  auto b = start();
  // Mallory's key signs a record that points "bob.p2p" at Bob's address:
  // Bob never claimed the name, so connecting by it is refused.
  auto mallory = make_identity();
  auto rec = net::names::make_record(mallory, "bob.p2p",
                                     std::vector<uint8_t>(b.address().begin(), b.address().end()),
                                     1, system_clock_ms() / 1000, 3600);
  ASSERT_GE(publish_name(rt, servers, rec, std::chrono::seconds(5)).stored, 1u);
  auto a_spec = spec_for();
  a_spec.name_servers = servers;
  auto a = serve(std::move(a_spec), rest_spec_for());
  auto r = post(a, "/open/c/bob.p2p");
  EXPECT_EQ(r.status, 502) << r.body;
  EXPECT_NE(r.json()["error"].get<std::string>().find("not by node"), std::string::npos) << r.body;
  EXPECT_EQ(get(a, "/cons/c").status, 404);
}

TEST_F(RestApi, OpenByNameOnANodeWithoutNameServersIsABadRequest) {
  auto a = serve();
  auto r = post(a, "/open/c/bob.p2p");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.json()["error"].get<std::string>().find("no name servers"), std::string::npos)
    << r.body;
}

} // namespace p2pd::test

namespace p2pd::test {

TEST_F(RestApi, CloseStopsTheServerAndItsListeners) {
  auto s = serve();
  caf::scoped_actor self{rt.system()};
  bool closed = false;
  self->request(s.rest.server, std::chrono::seconds(10), caf::close_atom::value)
    .receive([&](caf::ok_atom) { closed = true; },
             [&](caf::error& err) { ADD_FAILURE() << render(err); });
  EXPECT_TRUE(closed);
  EXPECT_EQ(get(s, "/version").status, 0); // nothing listens: curl cannot connect
  EXPECT_OK(s.node.stats()); // the node runs on
}

TEST_F(RestApi, TheServerEndsWithItsNode) {
  auto s = serve();
  caf::scoped_actor self{rt.system()};
  self->monitor(s.rest.server);
  ASSERT_OK(s.node.close());
  bool down = false;
  self->receive([&](caf::down_msg&) { down = true; },
                caf::after(std::chrono::seconds(10)) >> [] {});
  EXPECT_TRUE(down);
  EXPECT_TRUE(eventually([&] { return get(s, "/version").status == 0; }));
}

} // namespace p2pd::test

namespace p2pd::test {

TEST_F(RestApi, APipelinedBurstIsAnsweredWhole) {
  auto s = serve();
  net::endpoint ep{net::ip_address::loopback(net::family::v4), s.rest.port};
  auto fd = raw_connect(ep);
  ASSERT_TRUE(fd);
  set_timeouts(fd.get(), std::chrono::seconds(10));
  std::string one = "GET /version HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(s.rest.port)
                    + "\r\nAuthorization: Bearer " + s.rest.token + "\r\n\r\n";
  constexpr size_t n = 1000;
  std::string burst;
  for (size_t i = 0; i < n; ++i)
    burst += one;
  ASSERT_EQ(::send(fd.get(), burst.data(), burst.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(burst.size()));
  std::string got;
  size_t answers = 0;
  char buf[65536];
  while (answers < n) {
    auto r = ::recv(fd.get(), buf, sizeof buf, 0);
    if (r <= 0)
      break;
    got.append(buf, static_cast<size_t>(r));
    answers = 0;
    for (size_t at = 0; (at = got.find("HTTP/1.1 200 OK", at)) != std::string::npos; ++at)
      ++answers;
  }
  EXPECT_EQ(answers, n);
  EXPECT_EQ(stats_of(s).requests, n);
}

} // namespace p2pd::test
