#include "rtcp/transport_cc.h"

#include <gtest/gtest.h>

#include <array>
#include <optional>
#include <vector>

#include "common/base64.h"
#include "rtcp/captured_packets.h"

using namespace conclave::rtcp;
using namespace conclave::testdata;
using conclave::common::ByteWriter;

namespace {

struct Expected {
  uint16_t seq;
  std::optional<int32_t> delta;  // nullopt: not received
};

std::vector<TransportCcPacket> packetsOf(const TransportCcFeedback& fb) {
  std::vector<TransportCcPacket> out;
  fb.forEachPacket([&](const TransportCcPacket& p) { out.push_back(p); });
  return out;
}

void expectPackets(const TransportCcFeedback& fb, const std::vector<Expected>& expected) {
  const auto got = packetsOf(fb);
  ASSERT_EQ(got.size(), expected.size());
  int64_t arrival = fb.referenceTimeUs();
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].sequenceNumber, expected[i].seq);
    EXPECT_EQ(got[i].received, expected[i].delta.has_value()) << i;
    if (expected[i].delta) {
      EXPECT_EQ(got[i].deltaTicks, *expected[i].delta);
      arrival += int64_t{*expected[i].delta} * 250;
      EXPECT_EQ(got[i].arrivalUs, arrival);
    }
  }
}

// Feeds the arrivals a feedback message describes into a builder and returns its bytes.
std::vector<uint8_t> rebuild(const TransportCcFeedback& fb) {
  TransportCcBuilder builder(fb.senderSsrc(), fb.mediaSsrc());
  builder.reset(fb.feedbackPacketCount(), fb.baseSequenceNumber());
  fb.forEachPacket([&](const TransportCcPacket& p) {
    if (p.received) {
      EXPECT_TRUE(builder.addReceived(p.sequenceNumber, p.arrivalUs));
    }
  });
  std::vector<uint8_t> out(builder.size());
  ByteWriter w(out);
  EXPECT_TRUE(builder.write(w));
  EXPECT_EQ(w.size(), out.size());
  return out;
}

}  // namespace

// Expected statuses and deltas come from the independent decoder in
// tests/rtp/capture/select_vectors.py (aiortc itself cannot parse transport-cc).
TEST(TransportCcFeedback, ParsesChromiumRunLengthFeedback) {
  const auto fb = TransportCcFeedback::parse(std::span<const uint8_t>(kChromeTwccRun));
  ASSERT_TRUE(fb);
  EXPECT_EQ(fb->senderSsrc(), 0xfc91b0bdu);
  EXPECT_EQ(fb->mediaSsrc(), 0x4835e700u);
  EXPECT_EQ(fb->baseSequenceNumber(), 7);
  EXPECT_EQ(fb->packetStatusCount(), 2);
  EXPECT_EQ(fb->referenceTime(), 0x003119);
  EXPECT_EQ(fb->referenceTimeUs(), int64_t{0x003119} * 64000);
  EXPECT_EQ(fb->feedbackPacketCount(), 2);
  EXPECT_EQ(fb->receivedCount(), 2u);
  expectPackets(*fb, {{7, 235}, {8, 133}});
}

TEST(TransportCcFeedback, ParsesChromiumFeedbackWithLosses) {
  const auto fb = TransportCcFeedback::parse(std::span<const uint8_t>(kChromeTwccLoss));
  ASSERT_TRUE(fb);
  EXPECT_EQ(fb->feedbackPacketCount(), 0x0e);
  EXPECT_EQ(fb->receivedCount(), 5u);
  expectPackets(*fb, {{29, {}}, {30, {}}, {31, {}}, {32, 238}, {33, 3}, {34, 2}, {35, 0}, {36, 135}});
  std::array<TransportCcPacket, 3> firstThree{};
  EXPECT_EQ(fb->packets(firstThree), 3u);
  EXPECT_FALSE(firstThree[2].received);
}

TEST(TransportCcFeedback, ParsesChromiumPaddedFeedback) {
  const auto fb = TransportCcFeedback::parse(std::span<const uint8_t>(kChromeTwccPadded));
  ASSERT_TRUE(fb);
  expectPackets(*fb, {{4, 239}, {5, 16}, {6, 111}});
}

TEST(TransportCcBuilder, ReproducesChromiumBytesExactly) {
  for (const auto bytes : {std::span<const uint8_t>(kChromeTwccRun), std::span<const uint8_t>(kChromeTwccLoss),
                           std::span<const uint8_t>(kChromeTwccPadded)}) {
    const auto fb = TransportCcFeedback::parse(bytes);
    ASSERT_TRUE(fb);
    const auto built = rebuild(*fb);
    EXPECT_EQ(conclave::common::hexEncode(built), conclave::common::hexEncode(bytes));
  }
}

TEST(TransportCcBuilder, RoundTripsLossesRunsLargeAndNegativeDeltas) {
  TransportCcBuilder builder(11, 22);
  builder.reset(9);
  std::vector<std::pair<uint16_t, int64_t>> arrivals;
  int64_t t = 5'000'123;  // microseconds
  uint16_t seq = 65500;   // crosses the 16-bit wrap
  for (int i = 0; i < 300; ++i, ++seq) {
    if (i % 17 == 5 || (i >= 100 && i < 130)) continue;  // scattered losses and a long gap
    if (i % 29 == 0) {
      t += 70'000;  // a large delta (> 63.75 ms)
    } else if (i % 31 == 0) {
      t -= 3'000;  // arrived before the previous packet: negative delta
    } else {
      t += 1'000 + (i % 7) * 377;
    }
    ASSERT_TRUE(builder.addReceived(seq, t)) << i;
    arrivals.emplace_back(seq, t);
  }
  std::vector<uint8_t> out(builder.size());
  ByteWriter w(out);
  ASSERT_TRUE(builder.write(w));
  ASSERT_EQ(w.size() % 4, 0u);
  const auto fb = TransportCcFeedback::parse(out);
  ASSERT_TRUE(fb);
  EXPECT_EQ(fb->senderSsrc(), 11u);
  EXPECT_EQ(fb->mediaSsrc(), 22u);
  EXPECT_EQ(fb->feedbackPacketCount(), 9);
  EXPECT_EQ(fb->baseSequenceNumber(), arrivals.front().first);
  EXPECT_EQ(fb->receivedCount(), arrivals.size());
  size_t next = 0;
  size_t lost = 0;
  fb->forEachPacket([&](const TransportCcPacket& p) {
    if (!p.received) {
      ++lost;
      return;
    }
    ASSERT_LT(next, arrivals.size());
    EXPECT_EQ(p.sequenceNumber, arrivals[next].first);
    // Arrival times survive quantised to 250 us, without drift.
    EXPECT_EQ(p.arrivalUs, arrivals[next].second / 250 * 250);
    ++next;
  });
  EXPECT_EQ(next, arrivals.size());
  EXPECT_EQ(lost + arrivals.size(), fb->packetStatusCount());
}

TEST(TransportCcBuilder, RefusesWhatDoesNotFit) {
  TransportCcBuilder builder(1, 2);
  builder.reset(0);
  std::array<uint8_t, 64> out{};
  ByteWriter w0(out);
  EXPECT_FALSE(builder.write(w0));  // empty
  ASSERT_TRUE(builder.addReceived(100, 1'000'000));
  EXPECT_FALSE(builder.addReceived(100, 1'000'100));  // not newer
  EXPECT_FALSE(builder.addReceived(99, 1'000'100));
  EXPECT_FALSE(builder.addReceived(101, 1'000'000 + 8'200'000));  // delta over 16 bits
  EXPECT_FALSE(builder.addReceived(100 + TransportCcBuilder::kMaxStatuses, 1'000'100));
  EXPECT_TRUE(builder.addReceived(101, 1'000'000 - 8'000'000));  // large negative is fine
  ByteWriter small(std::span<uint8_t>(out).first(builder.size() - 1));
  EXPECT_FALSE(builder.write(small));
  builder.reset(1);
  EXPECT_TRUE(builder.empty());
  builder.reset(2, 500);
  EXPECT_FALSE(builder.addReceived(499, 1'000'000));  // before the base
  EXPECT_TRUE(builder.addReceived(503, 1'000'000));
  EXPECT_EQ(builder.statusCount(), 4u);  // 500..502 not received, then 503
}

TEST(TransportCcFeedback, RejectsTruncatedAndReservedSymbols) {
  // Drop the padding word: the 5 delta bytes no longer fit.
  std::vector<uint8_t> cut(std::begin(kChromeTwccLoss), std::end(kChromeTwccLoss) - 4);
  cut[0] = 0x8f;  // no padding now
  cut[3] = 0x05;
  EXPECT_FALSE(TransportCcFeedback::parse(cut));
  // Run-length chunk with status 3.
  std::vector<uint8_t> reserved(std::begin(kChromeTwccRun), std::end(kChromeTwccRun));
  reserved[20] = 0x60;
  EXPECT_FALSE(TransportCcFeedback::parse(reserved));
  // Two-bit vector with a symbol 3 among the counted ones.
  reserved[20] = 0xF0;
  EXPECT_FALSE(TransportCcFeedback::parse(reserved));
  // More statuses than chunks.
  std::vector<uint8_t> many(std::begin(kChromeTwccRun), std::end(kChromeTwccRun));
  many[15] = 0x40;
  EXPECT_FALSE(TransportCcFeedback::parse(many));
}

TEST(TransportCcFeedback, LongRunOfLosses) {
  // One run-length chunk: 8191 packets not received; no deltas at all.
  const uint8_t bytes[] = {0x8f, 0xcd, 0x00, 0x05, 0,    0,    0,    1,    0,    0,    0, 2,
                           0xff, 0xf0, 0x1f, 0xff, 0xff, 0xff, 0xff, 0x03, 0x1f, 0xff, 0, 0};
  const auto fb = TransportCcFeedback::parse(std::span<const uint8_t>(bytes));
  ASSERT_TRUE(fb);
  EXPECT_EQ(fb->referenceTime(), -1);
  EXPECT_EQ(fb->packetStatusCount(), 8191);
  EXPECT_EQ(fb->receivedCount(), 0u);
  size_t n = 0;
  uint16_t last = 0;
  fb->forEachPacket([&](const TransportCcPacket& p) {
    ++n;
    last = p.sequenceNumber;
    EXPECT_FALSE(p.received);
  });
  EXPECT_EQ(n, 8191u);
  EXPECT_EQ(last, static_cast<uint16_t>(0xfff0 + 8190));
}

// Worked by hand from draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1, not from our
// encoder: a loss, a small, a large and a negative delta, and the wrap of the sequence number.
//   reference time: first arrival 1,000,000 us -> floor(/64 ms) = 15 (960,000 us)
//   65534 at 1,000,000: 160 ticks after the reference -> small, A0
//   65535 lost
//   0 at 1,000,500: +2 ticks -> small, 02
//   1 at 1,100,000: +398 ticks -> large, 01 8E
//   2 at 1,099,000: -4 ticks -> large, FF FC
//   statuses 1 0 1 2 2: one two-bit status vector chunk 11 01 00 01 10 10 00 00 = D1 A0
//   28 bytes: no padding, length 6.
TEST(TransportCcBuilder, WritesAHandWorkedExampleByteForByte) {
  TransportCcBuilder builder(0x11223344, 0x55667788);
  builder.reset(5);
  ASSERT_TRUE(builder.addReceived(65534, 1'000'000));
  ASSERT_TRUE(builder.addReceived(0, 1'000'500));
  ASSERT_TRUE(builder.addReceived(1, 1'100'000));
  ASSERT_TRUE(builder.addReceived(2, 1'099'000));
  const std::vector<uint8_t> expected = {0x8F, 0xCD, 0x00, 0x06, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66,
                                         0x77, 0x88, 0xFF, 0xFE, 0x00, 0x05, 0x00, 0x00, 0x0F, 0x05,
                                         0xD1, 0xA0, 0xA0, 0x02, 0x01, 0x8E, 0xFF, 0xFC};
  ASSERT_EQ(builder.size(), expected.size());
  std::vector<uint8_t> out(builder.size());
  ByteWriter w(out);
  ASSERT_TRUE(builder.write(w));
  EXPECT_EQ(conclave::common::hexEncode(out), conclave::common::hexEncode(expected));
  // Our own parser reads the same arrivals back.
  const auto fb = TransportCcFeedback::parse(out);
  ASSERT_TRUE(fb);
  EXPECT_EQ(fb->referenceTimeUs(), 960'000);
  expectPackets(*fb, {{65534, 160}, {65535, {}}, {0, 2}, {1, 398}, {2, -4}});
}

// Also by hand: 20 packets 1 ms apart are one run-length chunk of small deltas (0 01 0000000010100
// = 20 14), 20 delta bytes of 4 ticks after the first (0), and 2 bytes of padding (P bit, the
// last byte counting them) to the 32-bit boundary: 4 + 16 + 2 + 20 + 2 = 44 bytes, length 10.
TEST(TransportCcBuilder, WritesARunLengthChunkAndPadsToAWord) {
  TransportCcBuilder builder(1, 2);
  builder.reset(0, 100);
  for (uint16_t i = 0; i < 20; ++i) ASSERT_TRUE(builder.addReceived(100 + i, 640'000 + i * 1000));
  std::vector<uint8_t> out(builder.size());
  ASSERT_EQ(out.size(), 44u);
  ByteWriter w(out);
  ASSERT_TRUE(builder.write(w));
  EXPECT_EQ(out[0], 0xAF);  // V=2, P, FMT 15
  EXPECT_EQ(out[3], 10);
  EXPECT_EQ(out[16], 0x00);  // reference time 10 (640 ms)
  EXPECT_EQ(out[18], 0x0A);
  EXPECT_EQ(out[20], 0x20);
  EXPECT_EQ(out[21], 0x14);
  EXPECT_EQ(out[22], 0x00);
  for (size_t i = 23; i < 42; ++i) EXPECT_EQ(out[i], 4) << i;
  EXPECT_EQ(out[42], 0x00);
  EXPECT_EQ(out[43], 0x02);
  EXPECT_EQ(TransportCcFeedback::parse(out)->receivedCount(), 20u);
}

TEST(TransportCcBuilder, NamesTheMediaSourceItIsGiven) {
  TransportCcBuilder builder(1, 0);
  builder.reset(0);
  builder.setMediaSsrc(0xfc91b0bd);
  ASSERT_TRUE(builder.addReceived(1, 1000));
  std::vector<uint8_t> out(builder.size());
  ByteWriter w(out);
  ASSERT_TRUE(builder.write(w));
  EXPECT_EQ(TransportCcFeedback::parse(out)->mediaSsrc(), 0xfc91b0bdu);
}
