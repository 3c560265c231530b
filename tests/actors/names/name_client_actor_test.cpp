// The name client actor (actors/names/name_client.hpp) as the node uses it:
// every server asked at once, the newest valid record kept, and how many
// servers agreed with it.
#include "caf/scoped_actor.hpp"

#include "actors/names/name_server_fixture.hpp"

using namespace p2pd;
using namespace p2pd::test;
using net::names::status;

namespace {

class NameClientActor : public NameServerTest {
protected:
  name_client_actor client(std::vector<name_server_addr> servers,
                           caf::timespan timeout = std::chrono::seconds{5}) {
    name_client_spec spec;
    spec.servers = std::move(servers);
    spec.timeout = timeout;
    return spawn_name_client(rt.system(), std::move(spec));
  }

  caf::expected<name_lookup> look(const name_client_actor& c, const std::string& name) {
    caf::scoped_actor self{rt.system()};
    caf::expected<name_lookup> out = make_error(errc::io_failed, "no answer");
    self->request(c, std::chrono::seconds{30}, name_lookup_atom::value,
                  name_query{name, std::nullopt, names_t0})
      .receive([&](name_lookup& l) { out = std::move(l); },
               [&](caf::error& err) { out = std::move(err); });
    return out;
  }

  name_publish publish(const name_client_actor& c, const net::names::name_record& r) {
    caf::scoped_actor self{rt.system()};
    name_publish out;
    self->request(c, std::chrono::seconds{30}, name_put_atom::value, r)
      .receive([&](name_publish& p) { out = std::move(p); },
               [&](caf::error& err) { ADD_FAILURE() << render(err); });
    return out;
  }

  /// Another real server on a database of its own.
  caf::expected<name_server_handle> another_server() {
    std::string why;
    bool skip = false;
    dirs.push_back(std::make_unique<temp_dir>());
    auto url2 = fresh_store_url(GetParam(), *dirs.back(), why, skip);
    if (url2.empty())
      return make_error(errc::io_failed, "no other store: " + why);
    return start_server(url2);
  }

  std::vector<std::unique_ptr<temp_dir>> dirs;
};

} // namespace

TEST_P(NameClientActor, ALiarAndADownServerDoNotHideTheTrueRecord) {
  auto truth = rec(alice, "alice.p2p", 3);
  ASSERT_EQ(put(truth), status::ok);
  auto forged = truth;
  forged.value = {'m', 'a', 'l', 'l', 'o', 'r', 'y'};
  forged.version = 99;
  auto liar = start_liar(rt, forged);
  ASSERT_OK(liar);
  auto down = start_silent(rt);
  ASSERT_OK(down);
  auto c = client({{net::protocol::udp, liar->local()}, tcp(), {net::protocol::udp, down->local()}},
                  std::chrono::milliseconds{500});
  auto t0 = std::chrono::steady_clock::now();
  auto got = look(c, "alice.p2p");
  auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_OK(got);
  ASSERT_TRUE(got->record);
  EXPECT_EQ(*got->record, truth);
  EXPECT_EQ(got->answered, 2u);
  EXPECT_EQ(got->forged, 1u);
  EXPECT_EQ(got->agreed, 1u);
  EXPECT_EQ(got->disagreed, 0u);
  ASSERT_EQ(got->replies.size(), 3u);
  // The down server is counted as a timeout, within the one deadline.
  ASSERT_FALSE(got->replies[2].answer);
  EXPECT_ERRC(got->replies[2].answer, errc::recv_timeout);
  EXPECT_LT(took, std::chrono::seconds{3});
  caf::anon_send_exit(c, caf::exit_reason::user_shutdown);
}

TEST_P(NameClientActor, WhereServersDisagreeTheNewestValidVersionWinsAndTheCountsSaySo) {
  auto other = another_server();
  ASSERT_OK(other);
  auto other_udp = addr_of(*other, net::protocol::udp);
  auto third = another_server();
  ASSERT_OK(third);
  auto third_udp = addr_of(*third, net::protocol::udp);
  auto v1 = rec(alice, "alice.p2p", 1);
  for (auto* to : {&other_udp, &third_udp})
    ASSERT_EQ(put(v1, to), status::ok);
  ASSERT_EQ(put(v1), status::ok);
  // Only one server got the update: one against two, the newer still wins.
  auto v2 = rec(alice, "alice.p2p", 2);
  ASSERT_EQ(put(v2), status::ok);
  auto c = client({other_udp, udp(), third_udp});
  auto got = look(c, "alice.p2p");
  ASSERT_OK(got);
  ASSERT_TRUE(got->record);
  EXPECT_EQ(*got->record, v2);
  EXPECT_EQ(got->answered, 3u);
  EXPECT_EQ(got->agreed, 1u);
  EXPECT_EQ(got->disagreed, 2u);
  caf::anon_send_exit(c, caf::exit_reason::user_shutdown);
}

TEST_P(NameClientActor, APutAndADeletionGoToEveryServerAndADownOneIsCounted) {
  auto other = another_server();
  ASSERT_OK(other);
  auto down = start_silent(rt);
  ASSERT_OK(down);
  auto c = client({tcp(), addr_of(*other, net::protocol::tcp),
                   {net::protocol::udp, down->local()}},
                  std::chrono::milliseconds{500});
  auto stored = publish(c, rec(alice, "alice.p2p", 1));
  EXPECT_EQ(stored.stored, 2u);
  ASSERT_EQ(stored.replies.size(), 3u);
  EXPECT_ERRC(stored.replies[2].answer, errc::recv_timeout);
  auto gone = publish(c, rec(alice, "alice.p2p", 2, true));
  EXPECT_EQ(gone.stored, 2u);
  auto after = look(c, "alice.p2p");
  ASSERT_OK(after);
  EXPECT_FALSE(after->record);
  EXPECT_EQ(after->answered, 2u);
  caf::anon_send_exit(c, caf::exit_reason::user_shutdown);
}

TEST_P(NameClientActor, ServerFileLinesAreResolvedAndAskedOverTcp) {
  ASSERT_EQ(put(rec(alice, "alice.p2p", 1)), status::ok);
  auto list = net::parse_server_list("stun 127.0.0.1:3478\nname 127.0.0.1:"
                                     + std::to_string(tcp().ep.port) + "\n");
  ASSERT_TRUE(list.has_value());
  name_client_spec spec;
  spec.entries = name_entries_of(*list);
  ASSERT_EQ(spec.entries.size(), 1u);
  auto c = spawn_name_client(rt.system(), std::move(spec));
  auto got = look(c, "alice.p2p");
  ASSERT_OK(got);
  ASSERT_EQ(got->replies.size(), 1u);
  EXPECT_EQ(got->replies[0].server.proto, net::protocol::tcp);
  ASSERT_TRUE(got->record);
  EXPECT_EQ(got->agreed, 1u);
  caf::anon_send_exit(c, caf::exit_reason::user_shutdown);
}

TEST_P(NameClientActor, GarbageAndAnswersToOtherRequestsAreRepliesErrorsNotRecords) {
  ASSERT_EQ(put(rec(alice, "alice.p2p", 1)), status::ok);
  auto lo = *net::ip_address::parse("127.0.0.1");
  auto garbage = rt.listen(net::protocol::udp, endpoint{lo, 0},
                           [](pipe_io& io, std::string_view, const endpoint&) {
                             io.reply(std::string_view{"\xff\xff\xff garbage"});
                           });
  ASSERT_OK(garbage);
  // A valid answer with a record, but to request 424242.
  auto other = rt.listen(net::protocol::udp, endpoint{lo, 0},
                         [r = rec(alice, "alice.p2p", 9)](pipe_io& io, std::string_view,
                                                         const endpoint&) {
                           wire::names::response resp;
                           resp.request_id = 424242;
                           resp.record = r;
                           auto out = wire::names::encode_response(resp);
                           io.reply(std::string_view{reinterpret_cast<const char*>(out->data()),
                                                     out->size()});
                         });
  ASSERT_OK(other);
  auto c = client({{net::protocol::udp, garbage->local()}, {net::protocol::udp, other->local()},
                   udp()});
  auto got = look(c, "alice.p2p");
  ASSERT_OK(got);
  ASSERT_EQ(got->replies.size(), 3u);
  EXPECT_ERRC(got->replies[0].answer, errc::malformed);
  EXPECT_ERRC(got->replies[1].answer, errc::not_for_us);
  EXPECT_EQ(got->answered, 1u);
  ASSERT_TRUE(got->record);
  EXPECT_EQ(got->record->version, 1u);
  caf::anon_send_exit(c, caf::exit_reason::user_shutdown);
}

TEST_P(NameClientActor, AnInvalidNameIsRefusedWithoutAskingAnyone) {
  auto c = client({udp()});
  EXPECT_ERRC(look(c, "Not A Name"), errc::invalid_argument);
  EXPECT_EQ(stats(server).requests, 0u);
  caf::anon_send_exit(c, caf::exit_reason::user_shutdown);
}

INSTANTIATE_TEST_SUITE_P(Backends, NameClientActor, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });
