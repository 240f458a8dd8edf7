#include "rtcp/transport_cc_recorder.h"

#include <gtest/gtest.h>

#include <vector>

using namespace conclave::rtcp;

namespace {

struct Reported {
  uint16_t seq;
  bool received;
  int64_t arrivalUs;
};

// Everything the recorder writes now, parsed back.
std::vector<Reported> flushAll(TransportCcRecorder& r, size_t* messages = nullptr,
                               std::vector<uint8_t>* feedbackCounts = nullptr) {
  std::vector<Reported> out;
  size_t n = r.flush([&](std::span<const uint8_t> message) {
    EXPECT_LE(message.size(), TransportCcRecorder::kMaxMessageBytes);
    auto fb = TransportCcFeedback::parse(message);
    ASSERT_TRUE(fb);
    EXPECT_EQ(fb->senderSsrc(), 0x1234u);
    if (feedbackCounts) feedbackCounts->push_back(fb->feedbackPacketCount());
    fb->forEachPacket([&](const TransportCcPacket& p) { out.push_back({p.sequenceNumber, p.received, p.arrivalUs}); });
  });
  if (messages) *messages = n;
  return out;
}

}  // namespace

TEST(TransportCcRecorder, ReportsArrivalsAndLossesSinceTheLastFeedback) {
  TransportCcRecorder r(0x1234);
  EXPECT_FALSE(r.hasNew());
  r.onPacket(10, 1'000'000);
  r.onPacket(11, 1'001'000);
  r.onPacket(13, 1'003'500);  // 12 lost
  auto got = flushAll(r);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0].seq, 10);
  EXPECT_TRUE(got[0].received);
  EXPECT_FALSE(got[2].received);
  EXPECT_EQ(got[2].seq, 12);
  // Relative arrival times survive (250 us resolution).
  EXPECT_EQ(got[1].arrivalUs - got[0].arrivalUs, 1000);
  EXPECT_EQ(got[3].arrivalUs - got[0].arrivalUs, 3500);
  EXPECT_FALSE(r.hasNew());
  EXPECT_TRUE(flushAll(r).empty());
  // The next message starts after the last one.
  r.onPacket(15, 1'020'000);
  got = flushAll(r);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].seq, 14);
  EXPECT_FALSE(got[0].received);
  EXPECT_TRUE(got[1].received);
}

// A packet reported lost that turns up later was only reordered: libwebrtc's receiver reports it
// again (received) with everything after it, and so do we; a sender that believed the loss
// would cut its estimate for nothing. A duplicate changes nothing.
TEST(TransportCcRecorder, AReorderedPacketReportedLostIsReportedAgainReceived) {
  TransportCcRecorder r(0x1234);
  r.onPacket(10, 1'000'000);
  r.onPacket(12, 1'002'000);
  auto got = flushAll(r);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_FALSE(got[1].received);
  r.onPacket(11, 1'060'000);  // late
  r.onPacket(13, 1'061'000);
  r.onPacket(12, 1'062'000);  // a duplicate: its first arrival stands
  EXPECT_TRUE(r.hasNew());
  got = flushAll(r);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].seq, 11);
  EXPECT_TRUE(got[0].received);
  EXPECT_EQ(got[1].seq, 12);
  EXPECT_TRUE(got[1].received);
  EXPECT_EQ(got[1].arrivalUs - got[0].arrivalUs, 1'002'000 - 1'060'000);
  EXPECT_EQ(got[2].arrivalUs - got[0].arrivalUs, 1000);
  EXPECT_EQ(r.received(), 4u);
  // A duplicate alone reports nothing.
  r.onPacket(13, 1'070'000);
  EXPECT_FALSE(r.hasNew());
  // Too late to matter: not reported again.
  for (int s = 14; s < 14 + static_cast<int>(TransportCcRecorder::kMaxLateReport) + 2; ++s)
    r.onPacket(static_cast<uint16_t>(s), 1'100'000 + s);
  flushAll(r);
  r.onPacket(9, 1'200'000);
  EXPECT_FALSE(r.hasNew());
}

// A trace of arrivals 0.25 to 70 ms apart, in several feedback intervals and across the wrap of
// the 16-bit sequence number: what the sender reads back are the same arrival differences
// (250 us resolution), every number exactly once, and the feedback counts go up by one.
TEST(TransportCcRecorder, AnArrivalTraceReadsBackExactlyAcrossFlushesAndTheWrap) {
  TransportCcRecorder r(0x1234);
  std::vector<std::pair<uint16_t, int64_t>> trace;
  int64_t t = 7'000'000;
  uint16_t seq = 65000;
  std::vector<Reported> got;
  std::vector<uint8_t> counts;
  for (int i = 0; i < 1200; ++i, ++seq) {
    t += 250 * (1 + (i * 7919) % 280);  // 0.25 .. 70 ms, some beyond a small delta
    trace.emplace_back(seq, t);
    r.onPacket(seq, t);
    if (i % 37 == 36) {
      auto part = flushAll(r, nullptr, &counts);
      got.insert(got.end(), part.begin(), part.end());
    }
  }
  auto part = flushAll(r, nullptr, &counts);
  got.insert(got.end(), part.begin(), part.end());
  ASSERT_EQ(got.size(), trace.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].seq, trace[i].first);
    EXPECT_TRUE(got[i].received);
    if (i > 0) {
      EXPECT_EQ(got[i].arrivalUs - got[i - 1].arrivalUs, trace[i].second - trace[i - 1].second) << i;
    }
  }
  for (size_t i = 1; i < counts.size(); ++i) EXPECT_EQ(counts[i], static_cast<uint8_t>(counts[i - 1] + 1));
}

TEST(TransportCcRecorder, FeedbackNamesTheMediaSourceSet) {
  TransportCcRecorder r(0x1234);
  r.onPacket(1, 1000);
  r.setMediaSsrc(0xfc91b0bd);
  size_t n = r.flush([&](std::span<const uint8_t> message) {
    EXPECT_EQ(TransportCcFeedback::parse(message)->mediaSsrc(), 0xfc91b0bdu);
  });
  EXPECT_EQ(n, 1u);
}

TEST(TransportCcRecorder, ReorderedPacketsAreReportedInSequenceOrderAcrossTheWrap) {
  TransportCcRecorder r(0x1234);
  r.onPacket(65534, 5000);
  r.onPacket(0, 6000);
  r.onPacket(65535, 7000);  // late, arrived after 0
  auto got = flushAll(r);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].seq, 65534);
  EXPECT_EQ(got[1].seq, 65535);
  EXPECT_EQ(got[2].seq, 0);
  EXPECT_TRUE(got[1].received);
  EXPECT_EQ(got[1].arrivalUs - got[2].arrivalUs, 1000);  // a negative delta
}

TEST(TransportCcRecorder, ManyPacketsSplitIntoSeveralNumberedMessagesOfBoundedSize) {
  TransportCcRecorder r(0x1234);
  for (int i = 0; i < 1500; ++i)
    if (i % 3 != 0) r.onPacket(static_cast<uint16_t>(i), 1'000'000 + i * 700);
  size_t messages = 0;
  std::vector<uint8_t> counts;
  auto got = flushAll(r, &messages, &counts);
  EXPECT_GE(messages, 4u);
  ASSERT_EQ(got.size(), 1499u);  // from the first received (1) to the last (1499)
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].seq, i + 1);
    EXPECT_EQ(got[i].received, (i + 1) % 3 != 0);
  }
  for (size_t i = 1; i < counts.size(); ++i) EXPECT_EQ(counts[i], static_cast<uint8_t>(counts[i - 1] + 1));
  // The next flush goes on counting.
  r.onPacket(1500, 3'000'000);
  std::vector<uint8_t> next;
  flushAll(r, nullptr, &next);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0], static_cast<uint8_t>(counts.back() + 1));
}

TEST(TransportCcRecorder, AJumpAheadReportsOnlyTheLastWindow) {
  TransportCcRecorder r(0x1234);
  r.onPacket(0, 1000);
  r.onPacket(30000, 2000);
  auto got = flushAll(r);
  ASSERT_EQ(got.size(), TransportCcRecorder::kWindow);
  EXPECT_EQ(got.back().seq, 30000);
  EXPECT_TRUE(got.back().received);
}

TEST(TransportCcRecorder, ArrivalGapsBeyondTheDeltaRangeStartANewMessage) {
  TransportCcRecorder r(0x1234);
  r.onPacket(1, 0);
  r.onPacket(2, 10'000'000);  // 10 s later: more than a 16-bit delta of 250 us
  size_t messages = 0;
  auto got = flushAll(r, &messages);
  EXPECT_EQ(messages, 2u);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_TRUE(got[0].received && got[1].received);
}
