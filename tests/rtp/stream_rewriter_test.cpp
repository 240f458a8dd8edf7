#include "rtp/stream_rewriter.h"

#include <gtest/gtest.h>

#include <chrono>
#include <vector>

#include "rtp/captured_packets.h"
#include "rtp/seq_num.h"

using namespace conclave::rtp;
using conclave::common::TimePoint;
using namespace std::chrono_literals;

namespace {

constexpr uint32_t kOut = 0xABCD0001;
constexpr uint32_t kVideoRate = 90000;
const TimePoint kT0 = TimePoint{} + 1000s;

struct Forwarded {
  uint16_t seq;
  uint32_t ts;
};

// A source sending one packet per 30 fps frame, 3000 ticks apart.
Forwarded send(StreamRewriter& r, uint32_t ssrc, uint16_t seq, uint32_t ts, TimePoint now) {
  const auto out = r.map(ssrc, seq, ts, now);
  EXPECT_TRUE(out) << "seq " << seq;
  return out ? Forwarded{out->sequenceNumber, out->timestamp} : Forwarded{0, 0};
}

}  // namespace

TEST(StreamRewriter, StartsTheOutputWhereTold) {
  StreamRewriter r(kOut, kVideoRate, 500, 77777);
  EXPECT_FALSE(r.started());
  const auto a = send(r, 0x1111, 60000, 1'000'000, kT0);
  EXPECT_EQ(a.seq, 500);
  EXPECT_EQ(a.ts, 77777u);
  const auto b = send(r, 0x1111, 60001, 1'003'000, kT0 + 33ms);
  EXPECT_EQ(b.seq, 501);
  EXPECT_EQ(b.ts, 80777u);
  EXPECT_TRUE(r.started());
  EXPECT_EQ(r.lastSequenceNumber(), 501);
}

TEST(StreamRewriter, StaysContinuousAcrossASourceSwitch) {
  StreamRewriter r(kOut, kVideoRate, 100, 5000);
  TimePoint now = kT0;
  Forwarded last{};
  for (uint16_t i = 0; i < 10; ++i, now += 33ms) {
    last = send(r, 0xAAAA, static_cast<uint16_t>(65530 + i), 900'000 + 3000u * i, now);
  }
  EXPECT_EQ(last.seq, 109);  // through the source's wrap at 65535
  // The SFU switches to another simulcast layer: unrelated seq and timestamp bases.
  r.switchSource(0xBBBB);
  const auto first = send(r, 0xBBBB, 20000, 4'000'000'000u, now);
  EXPECT_EQ(first.seq, 110);
  // 33 ms since the last frame was forwarded: 2970 ticks at 90 kHz.
  EXPECT_EQ(first.ts - last.ts, 2970u);
  const auto second = send(r, 0xBBBB, 20001, 4'000'003'000u, now + 33ms);
  EXPECT_EQ(second.seq, 111);
  EXPECT_EQ(second.ts - first.ts, 3000u);
  // Late packets of the old source, and packets older than the new segment, are dropped.
  EXPECT_FALSE(r.map(0xAAAA, 4, 900'000 + 3000u * 10, now));
  EXPECT_FALSE(r.map(0xBBBB, 19999, 3'999'997'000u, now));
  // A publisher change back to the first source continues the same way.
  r.switchSource(0xAAAA);
  const auto back = send(r, 0xAAAA, 300, 1'500'000, now + 100ms);
  EXPECT_EQ(back.seq, 112);
  EXPECT_EQ(back.ts - second.ts, 67u * 90);  // 67 ms after the last frame
  EXPECT_EQ(r.outputTimestamp(1'500'000), back.ts);
}

TEST(StreamRewriter, SameTimestampForPacketsOfOneFrame) {
  StreamRewriter r(kOut, kVideoRate, 0, 0);
  send(r, 1, 10, 1000, kT0);
  r.switchSource(2);
  const auto a = send(r, 2, 500, 42, kT0 + 40ms);
  const auto b = send(r, 2, 501, 42, kT0 + 45ms);  // same frame, arriving later
  const auto c = send(r, 2, 502, 3042, kT0 + 73ms);
  EXPECT_EQ(a.ts, b.ts);
  EXPECT_EQ(c.ts - a.ts, 3000u);
  EXPECT_EQ(a.ts, 3600u);  // 40 ms
}

TEST(StreamRewriter, SwitchRightAwayStillAdvancesTheTimestamp) {
  StreamRewriter r(kOut, 48000, 0, 1000);
  send(r, 1, 10, 960, kT0);
  r.switchSource(2);
  const auto a = send(r, 2, 77, 5, kT0);  // same instant: one tick at least
  EXPECT_EQ(a.ts, 1001u);
  EXPECT_EQ(a.seq, 1);
}

TEST(StreamRewriter, ReorderedPacketsKeepTheirPlace) {
  StreamRewriter r(kOut, kVideoRate, 1000, 0);
  send(r, 9, 10, 0, kT0);
  const auto third = send(r, 9, 12, 3000, kT0);
  const auto second = send(r, 9, 11, 0, kT0);
  EXPECT_EQ(second.seq, 1001);
  EXPECT_EQ(third.seq, 1002);
  EXPECT_EQ(r.lastSequenceNumber(), 1002);
  const auto dup = send(r, 9, 11, 0, kT0);
  EXPECT_EQ(dup.seq, 1001);
}

TEST(StreamRewriter, SkippedPacketsCloseTheGap) {
  StreamRewriter r(kOut, kVideoRate, 0, 0);
  send(r, 5, 100, 0, kT0);  // out 0
  r.skip(101);              // e.g. temporal layer 2, filtered out
  r.skip(102);
  EXPECT_EQ(send(r, 5, 104, 3000, kT0).seq, 2);  // 103 not here yet
  EXPECT_EQ(send(r, 5, 103, 3000, kT0).seq, 1);  // arrives late, still fits
  EXPECT_FALSE(r.map(5, 101, 0, kT0));           // a skipped packet stays skipped
  r.skip(105);
  EXPECT_EQ(send(r, 5, 106, 6000, kT0).seq, 3);
  r.skip(104);  // too late to skip: it was forwarded; nothing changes
  EXPECT_EQ(send(r, 5, 107, 6000, kT0).seq, 4);
  // NACK translation back to source numbers.
  EXPECT_EQ(r.sourceSequenceNumber(0), 100);
  EXPECT_EQ(r.sourceSequenceNumber(1), 103);
  EXPECT_EQ(r.sourceSequenceNumber(2), 104);
  EXPECT_EQ(r.sourceSequenceNumber(3), 106);
  EXPECT_EQ(r.sourceSequenceNumber(4), 107);
  EXPECT_FALSE(r.sourceSequenceNumber(5));      // not sent yet
  EXPECT_FALSE(r.sourceSequenceNumber(65535));  // before the stream
}

TEST(StreamRewriter, ManySkipsAcrossTheWrap) {
  StreamRewriter r(kOut, kVideoRate, 40000, 0);
  uint16_t seq = 65000;
  uint16_t expectOut = 40000;
  std::vector<std::pair<uint16_t, uint16_t>> sent;  // source -> output
  for (int i = 0; i < 1000; ++i, ++seq) {
    if (i % 3 == 1) {
      r.skip(seq);
      continue;
    }
    const auto out = r.map(5, seq, 0, kT0);
    ASSERT_TRUE(out);
    EXPECT_EQ(out->sequenceNumber, expectOut);
    sent.emplace_back(seq, expectOut);
    ++expectOut;
  }
  // Recent output numbers translate back exactly; ones older than the remembered skips do not
  // translate at all (never to a wrong packet).
  size_t exact = 0;
  for (const auto& [source, out] : sent) {
    const auto back = r.sourceSequenceNumber(out);
    if (back) {
      EXPECT_EQ(*back, source);
      ++exact;
    }
  }
  EXPECT_GE(exact, 100u);
  EXPECT_LT(exact, sent.size());
  EXPECT_FALSE(r.map(5, sent.front().first, 0, kT0));  // too old to place: dropped
}

TEST(StreamRewriter, RewritesARealPacketInPlace) {
  std::vector<uint8_t> buf(std::begin(conclave::testdata::kChromeVp8Key), std::end(conclave::testdata::kChromeVp8Key));
  auto packet = RtpPacket::parse(buf);
  ASSERT_TRUE(packet);
  StreamRewriter r(kOut, kVideoRate, 7, 123);
  ASSERT_TRUE(r.rewrite(*packet, kT0));
  const auto again = RtpPacket::parse(buf);
  EXPECT_EQ(again->ssrc(), kOut);
  EXPECT_EQ(again->sequenceNumber(), 7);
  EXPECT_EQ(again->timestamp(), 123u);
  EXPECT_EQ(again->payloadSize(), 1104u);
}
