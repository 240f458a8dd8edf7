#include "rtp/seq_num.h"

#include <gtest/gtest.h>

using namespace conclave::rtp;

TEST(SeqNum, ComparesAcrossTheWrap) {
  EXPECT_TRUE(SeqNum::isNewer(1, 0));
  EXPECT_FALSE(SeqNum::isNewer(0, 1));
  EXPECT_FALSE(SeqNum::isNewer(5, 5));
  EXPECT_TRUE(SeqNum::isNewer(0, 65535));
  EXPECT_TRUE(SeqNum::isNewer(10, 65530));
  EXPECT_FALSE(SeqNum::isNewer(65530, 10));
  EXPECT_TRUE(SeqNum::isNewer(0x7FFF, 0));
  EXPECT_FALSE(SeqNum::isNewer(0x8001, 0));  // more than half behind counts as older
  // Exactly half way: the larger value wins, and only one direction holds.
  EXPECT_TRUE(SeqNum::isNewer(0x8000, 0));
  EXPECT_FALSE(SeqNum::isNewer(0, 0x8000));
  EXPECT_TRUE(SeqNum::isNewerOrEqual(7, 7));
  EXPECT_EQ(SeqNum::newest(65535, 2), 2);
}

TEST(SeqNum, SignedDistance) {
  EXPECT_EQ(SeqNum::diff(2, 65534), 4);
  EXPECT_EQ(SeqNum::diff(65534, 2), -4);
  EXPECT_EQ(SeqNum::diff(100, 100), 0);
  EXPECT_EQ(SeqNum::diff(0x8000, 0), -32768);
}

TEST(RtpTimestamp, ComparesAcrossTheWrap) {
  EXPECT_TRUE(RtpTimestamp::isNewer(100, 0xFFFFFF00u));
  EXPECT_FALSE(RtpTimestamp::isNewer(0xFFFFFF00u, 100));
  EXPECT_EQ(RtpTimestamp::diff(100, 0xFFFFFF00u), 356);
}

TEST(SeqUnwrapper, CountsCyclesAndKeepsReorderedPacketsBelow) {
  SeqUnwrapper u;
  EXPECT_TRUE(u.empty());
  EXPECT_EQ(u.unwrap(65530), 65530);
  EXPECT_EQ(u.unwrap(65535), 65535);
  EXPECT_EQ(u.unwrap(3), 65539);
  EXPECT_EQ(u.unwrap(65534), 65534);  // late packet from before the wrap
  EXPECT_EQ(u.unwrap(10), 65546);
  EXPECT_EQ(u.last(), 65546);
  for (int i = 0; i < 3 * 65536; i += 1000) u.unwrap(static_cast<uint16_t>(65546 + i));
  EXPECT_GT(u.last(), 3 * 65536);
}
