// tools/name_server as a process: killed (SIGKILL) while it writes and
// started again on its database, it has lost no acknowledged put and holds
// no half-written record.
#include <signal.h>

#include <fstream>
#include <sstream>

#include "actors/names/name_server_fixture.hpp"
#include "p2pd/actors/common/clock.hpp"
#include "support/child_process.hpp"

using namespace p2pd;
using namespace p2pd::test;
using net::names::status;
namespace wn = p2pd::wire::names;

namespace {

class NameServerTool : public NameServerTest {
protected:
  // Starts the tool on `url`; its UDP address, or a failed test.
  std::optional<name_server_addr> run_tool(child_process& proc, const std::string& log) {
    std::string why;
    size_t from = 0;
    {
      std::ifstream in{log, std::ios::ate};
      if (in)
        from = static_cast<size_t>(in.tellg());
    }
    if (!proc.start({P2PD_NAME_SERVER_BIN, "127.0.0.1", "--port", "0", "--db", url,
                     "--ip-limit", "1000/1000", "--key-limit", "1000/1000",
                     "--max-names-per-key", "1000"}, log, why)) {
      ADD_FAILURE() << why;
      return std::nullopt;
    }
    if (!proc.wait_for_text(log, "serving UDP", from, 10000)) {
      ADD_FAILURE() << "name_server did not come up";
      return std::nullopt;
    }
    std::ifstream in{log};
    std::stringstream text;
    text << in.rdbuf();
    auto all = text.str();
    auto at = all.rfind("serving UDP ");
    auto ep = endpoint::parse(all.substr(at + 12, all.find('\n', at) - at - 12));
    if (!ep) {
      ADD_FAILURE() << "no UDP address in " << all;
      return std::nullopt;
    }
    return name_server_addr{net::protocol::udp, *ep};
  }

  // The records carry the system's time: the tool runs on its clock.
  net::names::name_record now_rec(const std::string& name, uint64_t version) {
    return net::names::make_record(alice, name, std::vector<uint8_t>(256, uint8_t(version)),
                                   version, system_clock_ms() / 1000, 3600);
  }
};

} // namespace

TEST_P(NameServerTool, KilledMidWriteAndRestartedLosesNothing) {
  auto log = dir.path() + "/name_server.log";
  child_process proc;
  auto at = run_tool(proc, log);
  ASSERT_TRUE(at);
  auto p = rt.connect(net::protocol::udp, at->ep);
  ASSERT_OK(p);
  // Puts one after another, each acknowledged; then a burst in flight when
  // the process is killed.
  int acked = 0;
  for (; acked < 20; ++acked)
    ASSERT_EQ(put(now_rec("k" + std::to_string(acked), 1), &*at), status::ok);
  for (int i = 0; i < 20; ++i) {
    wn::request req;
    req.op = wn::op::put;
    req.request_id = static_cast<uint64_t>(acked + i);
    req.record = now_rec("k" + std::to_string(acked + i), 1);
    auto data = wn::encode_request(req);
    ASSERT_OK(data);
    ASSERT_OK(p->send(std::string_view{reinterpret_cast<const char*>(data->data()),
                                       data->size()}));
  }
  // The first answer of the burst (the server writes them in any order):
  // the server is writing the others now.
  auto first = p->recv(std::chrono::seconds{5});
  ASSERT_OK(first);
  auto first_resp = wn::decode_response(reinterpret_cast<const uint8_t*>(first->data.data()),
                                        first->data.size());
  ASSERT_OK(first_resp);
  ASSERT_EQ(first_resp->code, status::ok);
  auto also_acked = static_cast<int>(first_resp->request_id);
  ASSERT_EQ(::kill(proc.pid(), SIGKILL), 0);
  ASSERT_TRUE(proc.wait_exit(5000));
  child_process again;
  auto at2 = run_tool(again, log);
  ASSERT_TRUE(at2);
  for (int i = 0; i < acked + 20; ++i) {
    auto got = lookup("k" + std::to_string(i), &*at2);
    if (i < acked || i == also_acked) {
      ASSERT_EQ(got.code, status::ok) << "k" << i << " lost";
    }
    if (got.record) {
      EXPECT_TRUE(net::names::verify_record(*got.record)) << "k" << i;
      EXPECT_EQ(got.record->value, std::vector<uint8_t>(256, 1)) << "k" << i;
    } else {
      EXPECT_EQ(got.code, status::not_found) << "k" << i;
    }
  }
  EXPECT_EQ(put(now_rec("k0", 2), &*at2), status::ok);
  again.stop();
}

INSTANTIATE_TEST_SUITE_P(Backends, NameServerTool, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });
