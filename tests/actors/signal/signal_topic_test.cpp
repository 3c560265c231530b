// MQTT topic rules shared by the MQTT channel and the hub.
#include <gtest/gtest.h>

#include "p2pd/actors/signal/topic_filter.hpp"
#include "p2pd/messages/signal.hpp"

using namespace p2pd;
using namespace p2pd::actors;

TEST(SignalTopic, NodeTopicIsPrefixAndNodeId) {
  EXPECT_EQ(signal_topic("abc"), "p2pd/v1/abc");
  EXPECT_EQ(signal_topic("abc", "lab/x"), "lab/x/abc");
}

TEST(SignalTopic, NamesHaveNoWildcards) {
  EXPECT_TRUE(valid_topic_name("p2pd/v1/abc"));
  EXPECT_TRUE(valid_topic_name("a//b/"));
  EXPECT_FALSE(valid_topic_name(""));
  EXPECT_FALSE(valid_topic_name("p2pd/+/abc"));
  EXPECT_FALSE(valid_topic_name("p2pd/#"));
  EXPECT_FALSE(valid_topic_name(std::string_view{"a\0b", 3}));
  EXPECT_FALSE(valid_topic_name(std::string(65536, 'a')));
}

TEST(SignalTopic, FiltersPlaceWildcardsOnWholeLevels) {
  EXPECT_TRUE(valid_topic_filter("p2pd/v1/+"));
  EXPECT_TRUE(valid_topic_filter("p2pd/#"));
  EXPECT_TRUE(valid_topic_filter("#"));
  EXPECT_TRUE(valid_topic_filter("+/+"));
  EXPECT_FALSE(valid_topic_filter("p2pd/#/x"));
  EXPECT_FALSE(valid_topic_filter("p2pd/v1+"));
  EXPECT_FALSE(valid_topic_filter("p2pd/v#"));
  EXPECT_FALSE(valid_topic_filter(""));
}

TEST(SignalTopic, MatchingFollowsMqtt) {
  EXPECT_TRUE(topic_matches("a/b", "a/b"));
  EXPECT_FALSE(topic_matches("a/b", "a/b/c"));
  EXPECT_FALSE(topic_matches("a/b/c", "a/b"));
  EXPECT_TRUE(topic_matches("a/+", "a/b"));
  EXPECT_FALSE(topic_matches("a/+", "a/b/c"));
  EXPECT_FALSE(topic_matches("a/+", "a"));
  EXPECT_TRUE(topic_matches("a/+/c", "a//c"));
  EXPECT_TRUE(topic_matches("a/#", "a"));
  EXPECT_TRUE(topic_matches("a/#", "a/b/c"));
  EXPECT_TRUE(topic_matches("#", "a/b"));
  EXPECT_FALSE(topic_matches("#", "$SYS/x"));
  EXPECT_FALSE(topic_matches("+/x", "$SYS/x"));
  EXPECT_TRUE(topic_matches("$SYS/#", "$SYS/x"));
}
