#include "p2pd/net/turn/channel_data.hpp"

#include <gtest/gtest.h>

#include "support/expect.hpp"
#include "support/printers.hpp"
#include "support/values.hpp"

using namespace p2pd::net;
using p2pd::test::bytes_of;

TEST(ChannelData, EncodesHeaderAndDataWithoutPaddingOverUdp) {
  auto d = bytes_of("hello");
  auto cd = encode_channel_data(0x4001, d.data(), d.size(), false);
  ASSERT_OK(cd);
  std::vector<uint8_t> want{0x40, 0x01, 0x00, 0x05, 'h', 'e', 'l', 'l', 'o'};
  EXPECT_EQ(*cd, want);
}

TEST(ChannelData, IsPaddedToFourBytesOverAStreamButTheLengthCountsTheDataOnly) {
  auto d = bytes_of("hello");
  auto cd = encode_channel_data(0x4FFF, d.data(), d.size(), true);
  ASSERT_OK(cd);
  ASSERT_EQ(cd->size(), 12u);
  EXPECT_EQ((*cd)[3], 5);
  auto size = turn_stream_frame_size(cd->data(), cd->size());
  ASSERT_OK(size);
  EXPECT_EQ(size->value_or(0), 12u);
}

TEST(ChannelData, RoundTripsAndIgnoresTrailingPaddingInADatagram) {
  auto d = bytes_of("abc");
  auto cd = encode_channel_data(0x4abc, d.data(), d.size(), true);
  ASSERT_OK(cd);
  auto v = decode_channel_data(cd->data(), cd->size());
  ASSERT_OK(v);
  EXPECT_EQ(v->channel, 0x4abc);
  EXPECT_EQ(std::string(v->data, v->data + v->size), "abc");
}

TEST(ChannelData, ChannelNumbersOutsideTheRangeAreRefusedBothWays) {
  uint8_t x = 0;
  EXPECT_ERRC(encode_channel_data(0x3FFF, &x, 1, false), errc::invalid_argument);
  EXPECT_ERRC(encode_channel_data(0x5000, &x, 1, false), errc::invalid_argument);
  uint8_t bad[] = {0x50, 0x00, 0x00, 0x01, 0xAA};
  EXPECT_ERRC(decode_channel_data(bad, sizeof(bad)), errc::malformed);
}

TEST(ChannelData, Rfc5766NumbersUpTo0x7fffPassWhenTheCallerAllowsThem) {
  auto d = bytes_of("x");
  EXPECT_FALSE(encode_channel_data(0x61ab, d.data(), d.size(), false));
  auto cd = encode_channel_data(0x61ab, d.data(), d.size(), false, turn_channel_max_rfc5766);
  ASSERT_OK(cd);
  auto strict = decode_channel_data(cd->data(), cd->size());
  ASSERT_FALSE(strict);
  EXPECT_TRUE(p2pd::test::contains(strict.error().what, "outside 0x4000..0x4FFF"))
    << strict.error().what;
  auto v = decode_channel_data(cd->data(), cd->size(), turn_channel_max_rfc5766);
  ASSERT_OK(v);
  EXPECT_EQ(v->channel, 0x61ab);
  uint8_t top[5] = {0x80, 0x00, 0x00, 0x01, 'x'}; // 0x8000 is no channel either way
  EXPECT_FALSE(decode_channel_data(top, sizeof(top), turn_channel_max_rfc5766));
}

TEST(ChannelData, ALengthRunningPastTheEndIsMalformed) {
  uint8_t lying[] = {0x40, 0x00, 0x00, 0x09, 1, 2, 3};
  auto v = decode_channel_data(lying, sizeof(lying));
  ASSERT_ERRC(v, errc::malformed);
  EXPECT_NE(v.error().what.find("past the end"), std::string::npos) << v.error().what;
  EXPECT_ERRC(decode_channel_data(lying, 3), errc::malformed);
}

TEST(ChannelData, MoreThan65535BytesIsTooLarge) {
  std::vector<uint8_t> big(65536);
  EXPECT_ERRC(encode_channel_data(0x4000, big.data(), big.size(), false),
              errc::message_too_large);
}

TEST(ChannelData, TheFirstTwoBitsTellStunFromChannelData) {
  uint8_t stun[] = {0x01, 0x01};
  uint8_t chan[] = {0x40, 0x00};
  uint8_t other[] = {0x80, 0x00};
  EXPECT_EQ(turn_frame_of(stun, 2), turn_frame_kind::stun);
  EXPECT_EQ(turn_frame_of(chan, 2), turn_frame_kind::channel_data);
  EXPECT_EQ(turn_frame_of(other, 2), turn_frame_kind::unknown);
  EXPECT_EQ(turn_frame_of(other, 0), turn_frame_kind::unknown);
}

TEST(ChannelData, AStreamFrameSizeWaitsForItsHeaderAndRefusesOtherBytes) {
  uint8_t partial[] = {0x40, 0x00, 0x00};
  auto size = turn_stream_frame_size(partial, sizeof(partial));
  ASSERT_OK(size);
  EXPECT_FALSE(size->has_value());
  uint8_t junk[] = {0xC0, 0, 0, 0};
  EXPECT_ERRC(turn_stream_frame_size(junk, sizeof(junk)), errc::malformed);
}
