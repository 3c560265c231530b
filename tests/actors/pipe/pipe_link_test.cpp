#include "support/expect.hpp"
#include "support/pipes.hpp"
#include "support/values.hpp"

#include "transports.hpp"

using namespace p2pd;
using namespace p2pd::test;

namespace {

class PipeLink : public on_transport {};

} // namespace

TEST_P(PipeLink, LinkedPipeSendsWhatItReceivesDownTheOther) {
  auto sink = listen(udp, any_port("127.0.0.1"));
  auto entry = listen(udp, any_port("127.0.0.1"));
  ASSERT_OK(sink);
  ASSERT_OK(entry);
  auto exit = connect(udp, sink->local());
  ASSERT_OK(exit);
  EXPECT_OK(entry->link(*exit));
  auto sender = connect(udp, entry->local());
  ASSERT_OK(sender);
  EXPECT_OK(sender->send("pass it on"));
  auto got = sink->recv();
  ASSERT_OK(got);
  EXPECT_EQ(to_string(got->data), "pass it on");
  EXPECT_EQ(got->from.port, exit->local().port);
}

TEST_P(PipeLink, TwoWayLinkRelaysBetweenTwoTcpConnections) {
  auto left = listen(tcp, any_port("127.0.0.1"));
  auto right = listen(tcp, any_port("::1"));
  ASSERT_OK(left);
  ASSERT_OK(right);
  auto a = connect(tcp, left->local());
  auto b = connect(tcp, right->local());
  ASSERT_OK(a);
  ASSERT_OK(b);
  EXPECT_OK(a->link(*b));
  EXPECT_OK(b->link(*a));
  EXPECT_OK(a->send("hello left"));
  EXPECT_OK(b->send("hello right"));
  auto l = left->recv();
  auto r = right->recv();
  ASSERT_OK(l);
  ASSERT_OK(r);
  EXPECT_OK(left->send("from left", l->from));
  auto at_right = right->recv(5s, msg_filter::contains("from left"));
  ASSERT_OK(at_right);
  EXPECT_OK(right->send("from right", r->from));
  auto at_left = left->recv(5s, msg_filter::contains("from right"));
  ASSERT_OK(at_left);
}

TEST_P(PipeLink, LinkingAPipeToItselfIsRejected) {
  auto p = listen(udp, any_port("127.0.0.1"));
  ASSERT_OK(p);
  EXPECT_ERRC(p->link(*p), errc::link_rejected);
}

TEST_P(PipeLink, UnlinkStopsForwarding) {
  auto sink = listen(udp, any_port("127.0.0.1"));
  auto entry = listen(udp, any_port("127.0.0.1"));
  ASSERT_OK(sink);
  ASSERT_OK(entry);
  auto exit = connect(udp, sink->local());
  ASSERT_OK(exit);
  EXPECT_OK(entry->link(*exit));
  EXPECT_OK(entry->unlink(*exit));
  auto sender = connect(udp, entry->local());
  ASSERT_OK(sender);
  EXPECT_OK(sender->send("stays here"));
  ASSERT_OK(entry->recv()); // arrived at the entry ...
  auto stats = exit->stats(); // ... and the exit sent nothing
  ASSERT_OK(stats);
  EXPECT_EQ(stats->tx_msgs, 0u);
}

INSTANTIATE_TEST_SUITE_P(Transports, PipeLink, transports());
