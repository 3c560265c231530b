// A node that never answers the REST server: each request to it is
// answered 504 within the limits (node_timeout, connect_timeout) instead of
// holding a connection slot until the idle timeout.

#include "caf/actor_cast.hpp"
#include "caf/scoped_actor.hpp"

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

} // namespace p2pd::test
