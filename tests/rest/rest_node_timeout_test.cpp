// A node that never answers the REST server: each request to it is
// answered 504 within the limits (node_timeout, connect_timeout) instead of
// holding a connection slot until the idle timeout; and such a late answer
// goes to the client that asked, not to a new one on the same endpoint.

#include "caf/actor_cast.hpp"
#include "caf/scoped_actor.hpp"

#include "p2pd/messages/pipe.hpp"

#include "rest_fixture.hpp"

namespace p2pd::test {

class RestNodeTimeout : public rest_fixture {
protected:
  // The server of a stand-in node: a blocking actor that never reads its
  // mailbox. No real node can be made to hang on purpose.
  served_node serve_silent() {
    auto spec = rest_spec_for();
    spec.limits.node_timeout = std::chrono::milliseconds(300);
    spec.limits.connect_timeout = std::chrono::milliseconds(300);
    auto r = rest::start_rest_server(rt.system(), caf::actor_cast<node_actor>(silent.ptr()), spec);
    EXPECT_OK(r);
    if (!r)
      throw std::runtime_error("the REST server did not start");
    return {start(), std::move(*r)};
  }

  caf::scoped_actor silent{rt.system()};
};

TEST_F(RestNodeTimeout, ARequestTheNodeNeverAnswersIs504) {
  auto s = serve_silent();
  for (auto path : {"/addr", "/ifs", "/peers", "/stats", "/metrics"}) {
    auto t0 = std::chrono::steady_clock::now();
    auto r = get(s, path);
    EXPECT_EQ(r.status, 504) << path << ": " << r.log << r.body;
    EXPECT_NE(r.json().value("error", "").find("no answer within 300 ms"), std::string::npos)
      << path << ": " << r.body;
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5)) << path;
  }
  EXPECT_EQ(get(s, "/version").status, 200); // the server runs on
  // Every slot is back once curl's connections ended.
  EXPECT_TRUE(eventually([&] { return stats_of(s).open_connections == 0; }));
}

TEST_F(RestNodeTimeout, AConnectTheNodeNeverAnswersIs504AndTheNameIsGone) {
  auto s = serve_silent();
  // s.node is a real node of the process, not the silent one the server asks.
  auto r = post(s, "/open/c/" + s.node.address());
  EXPECT_EQ(r.status, 504) << r.log << r.body;
  EXPECT_NE(r.json().value("error", "").find("connect failed: no answer within 300 ms"),
            std::string::npos)
    << r.body;
  EXPECT_EQ(get(s, "/cons/c").status, 404);
}

TEST_F(RestNodeTimeout, ALateAnswerDoesNotReachANewClientOnTheSameEndpoint) {
  auto s = serve_silent();
  // The listener pipe of a client whose end the server never heard of, and
  // then of a new client on the same endpoint: a real pipe reports every
  // end, so a stand-in pipe tells the server of the two connects.
  caf::scoped_actor pipe{rt.system()};
  auto hdl = caf::actor_cast<pipe_actor>(pipe.ptr());
  net::endpoint client{net::ip_address::loopback(net::family::v4), 40000};
  auto request = [&](const std::string& path) {
    auto text = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(s.rest.port)
                + "\r\nAuthorization: Bearer " + s.rest.token + "\r\n\r\n";
    pipe->send(s.rest.server, pipe_msg{bytes(text.begin(), text.end()), client, hdl});
  };
  pipe->send(s.rest.server, pipe_up{hdl, client, {}});
  request("/addr"); // the silent node's answer is late: 504 after 300 ms
  pipe->send(s.rest.server, pipe_up{hdl, client, {}});
  request("/version");
  // What the server sends the new client within twice the node's timeout.
  std::vector<std::string> sent;
  bool more = true;
  while (more)
    pipe->receive(
      [&](send_atom, const bytes& data, const endpoint& to) {
        EXPECT_EQ(to, client);
        sent.emplace_back(data.begin(), data.end());
      },
      [](caf::message&) {}, caf::after(std::chrono::milliseconds(600)) >> [&] { more = false; });
  ASSERT_EQ(sent.size(), 1u) << (sent.size() > 1 ? sent[1] : std::string{});
  EXPECT_EQ(sent[0].rfind("HTTP/1.1 200 ", 0), 0u) << sent[0];
  EXPECT_NE(sent[0].find("\"title\":\"p2pd\""), std::string::npos) << sent[0];
}

} // namespace p2pd::test
