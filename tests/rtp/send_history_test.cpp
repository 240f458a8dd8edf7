#include "rtp/send_history.h"

#include <gtest/gtest.h>

using namespace conclave::rtp;

TEST(SendHistory, NumbersPacketsInOrderAndFindsThemAgain) {
  SendHistory h(65534);
  EXPECT_EQ(h.add(1200, 1000, SentKind::Media), 65534);
  EXPECT_EQ(h.add(300, 2000, SentKind::Retransmission), 65535);
  EXPECT_EQ(h.add(200, 3000, SentKind::Padding), 0);
  EXPECT_EQ(h.nextSequenceNumber(), 1);
  auto e = h.get(65535);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->bytes, 300u);
  EXPECT_EQ(e->sendTimeUs, 2000);
  EXPECT_EQ(e->kind, SentKind::Retransmission);
  EXPECT_EQ(h.get(0)->kind, SentKind::Padding);
  EXPECT_FALSE(h.get(1));      // not sent yet
  EXPECT_FALSE(h.get(65533));  // before the first
  EXPECT_FALSE(h.get(30000));
}

TEST(SendHistory, ForgetsWhatIsOlderThanItsCapacity) {
  SendHistory h(0);
  for (size_t i = 0; i < SendHistory::kCapacity + 10; ++i) h.add(100, static_cast<int64_t>(i), SentKind::Media);
  EXPECT_FALSE(h.get(9));
  ASSERT_TRUE(h.get(10));
  EXPECT_EQ(h.get(10)->sendTimeUs, 10);
  ASSERT_TRUE(h.get(static_cast<uint16_t>(SendHistory::kCapacity + 9)));
  EXPECT_EQ(h.sent(), SendHistory::kCapacity + 10);
}

TEST(SendHistory, KeepsWorkingPastManyWraps) {
  SendHistory h(100);
  for (int i = 0; i < 300000; ++i) h.add(static_cast<uint32_t>(i % 1500), i, SentKind::Media);
  const auto newest = static_cast<uint16_t>(h.nextSequenceNumber() - 1);
  ASSERT_TRUE(h.get(newest));
  EXPECT_EQ(h.get(newest)->sendTimeUs, 299999);
  EXPECT_FALSE(h.get(static_cast<uint16_t>(newest - SendHistory::kCapacity)));
}
