#include <gtest/gtest.h>

#include <string>

#include "p2pd/sim/net/event_queue.hpp"

namespace p2pd::sim {
namespace {

sim_time at_ms(int64_t n) {
  return std::chrono::milliseconds{n};
}

TEST(SimEventQueue, EqualTimesRunInInsertionOrder) {
  event_queue q;
  std::string order;
  q.schedule_at(at_ms(5), [&] { order += 'a'; });
  q.schedule_at(at_ms(1), [&] { order += 'b'; });
  q.schedule_at(at_ms(5), [&] { order += 'c'; });
  q.schedule_at(at_ms(5), [&] { order += 'd'; });
  EXPECT_EQ(q.run_until(at_ms(10)), 4u);
  EXPECT_EQ(order, "bacd");
}

TEST(SimEventQueue, RunUntilStopsAtTheHorizonAndSetsTheClock) {
  event_queue q;
  int ran = 0;
  q.schedule_at(at_ms(3), [&] { ++ran; });
  q.schedule_at(at_ms(8), [&] { ++ran; });
  ASSERT_TRUE(q.next_time());
  EXPECT_EQ(*q.next_time(), at_ms(3));
  q.run_until(at_ms(5));
  EXPECT_EQ(ran, 1);
  EXPECT_EQ(q.now(), at_ms(5));
  EXPECT_EQ(*q.next_time(), at_ms(8));
  q.run_until(at_ms(8)); // due exactly at the horizon: runs
  EXPECT_EQ(ran, 2);
  EXPECT_FALSE(q.next_time());
}

TEST(SimEventQueue, EventsScheduledWhileRunningKeepTimeThenSequenceOrder) {
  event_queue q;
  std::string order;
  q.schedule_at(at_ms(1), [&] {
    order += '1';
    q.schedule_in(at_ms(0), [&] { order += 'x'; }); // same time, after what is queued
    q.schedule_in(at_ms(2), [&] { order += 'z'; });
  });
  q.schedule_at(at_ms(1), [&] { order += '2'; });
  q.schedule_at(at_ms(2), [&] { order += 'y'; });
  q.run_until(at_ms(100));
  EXPECT_EQ(order, "12xyz");
  EXPECT_EQ(q.executed(), 5u);
}

TEST(SimEventQueue, APastTimeMeansNowNeverBackwards) {
  event_queue q;
  q.run_until(at_ms(10));
  sim_time seen{-1};
  q.schedule_at(at_ms(2), [&] { seen = q.now(); });
  EXPECT_EQ(*q.next_time(), at_ms(10));
  EXPECT_TRUE(q.run_next());
  EXPECT_EQ(seen, at_ms(10));
  EXPECT_FALSE(q.run_next());
}

} // namespace
} // namespace p2pd::sim
