// Sender/receiver reports, SDES and BYE: real packets parsed, and rebuilt byte for byte.
#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "rtcp/captured_packets.h"
#include "rtcp/compound.h"
#include "rtcp/sdes.h"
#include "rtcp/sender_report.h"
#include "rtcp_test_util.h"

using namespace conclave::rtcp;
using namespace conclave::testdata;
using conclave::common::ByteWriter;
using conclave::rtcp::test::nth;

// Expected values come from aiortc's parser (tests/rtp/capture/select_vectors.py output).
TEST(SenderReport, ParsesAndRebuildsChromiumSr) {
  const auto sr = SenderReport::parse(nth(kChromeSrSdes, 0));
  ASSERT_TRUE(sr);
  EXPECT_EQ(sr->senderSsrc(), 4237406397u);
  const SenderInfo info = sr->senderInfo();
  EXPECT_EQ(info.ntpTimestamp, 17200183792307545216ull);
  EXPECT_EQ(info.rtpTimestamp, 1207928254u);
  EXPECT_EQ(info.packetCount, 30u);
  EXPECT_EQ(info.octetCount, 13225u);
  EXPECT_EQ(sr->reportCount(), 0u);
  EXPECT_EQ(compactNtp(info.ntpTimestamp), 0x540753ecu);

  std::array<uint8_t, 64> out{};
  ByteWriter w(out);
  ASSERT_TRUE(SenderReport::write(w, sr->senderSsrc(), info, {}));
  ASSERT_EQ(w.size(), 28u);
  EXPECT_TRUE(std::equal(out.begin(), out.begin() + 28, kChromeSrSdes));
}

TEST(ReceiverReport, ParsesAndRebuildsAiortcRrWithTwoBlocks) {
  const auto rr = ReceiverReport::parse(std::span<const uint8_t>(kAiortcRr2));
  ASSERT_TRUE(rr);
  EXPECT_EQ(rr->senderSsrc(), 1211492096u);
  ASSERT_EQ(rr->reportCount(), 2u);
  const ReportBlock a = rr->reportBlock(0);
  EXPECT_EQ(a.ssrc, 2096612632u);
  EXPECT_EQ(a.highestSequence, 31030u);
  EXPECT_EQ(a.jitter, 30586988u);
  EXPECT_EQ(a.lastSr, 0u);
  const ReportBlock b = rr->reportBlock(1);
  EXPECT_EQ(b.ssrc, 4237406397u);
  EXPECT_EQ(b.fractionLost, 0);
  EXPECT_EQ(b.cumulativeLost, 2);
  EXPECT_EQ(b.highestSequence, 8755u);
  EXPECT_EQ(b.jitter, 142u);
  EXPECT_EQ(b.lastSr, 1409844167u);
  EXPECT_EQ(b.delaySinceLastSr, 96354u);

  const ReportBlock blocks[] = {a, b};
  std::array<uint8_t, 64> out{};
  ByteWriter w(out);
  ASSERT_TRUE(ReceiverReport::write(w, rr->senderSsrc(), blocks));
  ASSERT_EQ(w.size(), sizeof(kAiortcRr2));
  EXPECT_TRUE(std::equal(out.begin(), out.begin() + w.size(), kAiortcRr2));
}

TEST(ReceiverReport, ChromiumBlockAndNegativeLoss) {
  const auto rr = ReceiverReport::parse(nth(kChromeRrNack, 0));
  ASSERT_TRUE(rr);
  const ReportBlock b = rr->reportBlock(0);
  EXPECT_EQ(b.ssrc, 1211492096u);
  EXPECT_EQ(b.highestSequence, 46967u);
  EXPECT_EQ(b.jitter, 153u);
  EXPECT_EQ(b.lastSr, 1409778976u);
  EXPECT_EQ(b.delaySinceLastSr, 21915u);
  // Cumulative loss is signed 24-bit: duplicates make it negative; it saturates when written.
  ReportBlock neg;
  neg.cumulativeLost = -3;
  ReportBlock huge;
  huge.cumulativeLost = 50'000'000;
  const ReportBlock blocks[] = {neg, huge};
  std::array<uint8_t, 64> out{};
  ByteWriter w(out);
  ASSERT_TRUE(ReceiverReport::write(w, 1, blocks));
  const auto back = ReceiverReport::parse(w.written());
  EXPECT_EQ(back->reportBlock(0).cumulativeLost, -3);
  EXPECT_EQ(back->reportBlock(1).cumulativeLost, 0x7FFFFF);
}

TEST(ReceiverReport, RejectsBlocksBeyondTheLength) {
  std::vector<uint8_t> bad(std::begin(kAiortcRr2), std::end(kAiortcRr2));
  bad[0] = 0x83;  // claims three blocks
  EXPECT_FALSE(ReceiverReport::parse(bad));
  bad[0] = 0x81;
  EXPECT_TRUE(ReceiverReport::parse(bad));                        // fewer blocks than room: the rest is ignored
  EXPECT_FALSE(SenderReport::parse(bad));                         // not an SR
  EXPECT_FALSE(ReceiverReport::parse(std::span(bad).first(52)));  // length says 56
}

TEST(Sdes, ParsesAndRebuildsCnames) {
  const auto chrome = Sdes::parse(nth(kChromeSrSdes, 1));
  ASSERT_TRUE(chrome);
  EXPECT_EQ(chrome->chunkCount(), 1u);
  EXPECT_EQ(chrome->cname(4237406397u), "QcdDfwHAxMCMEQvu");
  EXPECT_FALSE(chrome->cname(1));
  const auto aiortc = Sdes::parse(nth(kAiortcSrSdes, 1));
  ASSERT_TRUE(aiortc);
  EXPECT_EQ(aiortc->cname(1211492096u), "eb87d1f7-f68b-4474-9eb2-9adc63e09ec2");

  for (const auto compound : {std::span<const uint8_t>(kChromeSrSdes), std::span<const uint8_t>(kAiortcSrSdes)}) {
    const auto packet = nth(compound, 1);
    const auto sdes = Sdes::parse(packet);
    SdesChunk chunk;
    sdes->forEachItem([&](uint32_t ssrc, uint8_t item, std::string_view value) {
      EXPECT_EQ(item, sdes::kCname);
      chunk = {ssrc, value};
    });
    std::array<uint8_t, 128> out{};
    ByteWriter w(out);
    ASSERT_TRUE(Sdes::write(w, std::span(&chunk, 1)));
    ASSERT_EQ(w.size(), packet.bytes.size());
    EXPECT_TRUE(std::equal(out.begin(), out.begin() + w.size(), packet.bytes.begin()));
  }
}

TEST(Sdes, MultipleChunksAndMalformedItems) {
  const SdesChunk chunks[] = {{1, "a"}, {2, "bcde"}, {3, ""}};
  std::array<uint8_t, 128> out{};
  ByteWriter w(out);
  ASSERT_TRUE(Sdes::write(w, chunks));
  const auto sdes = Sdes::parse(w.written());
  ASSERT_TRUE(sdes);
  EXPECT_EQ(sdes->cname(2), "bcde");
  EXPECT_EQ(sdes->cname(3), "");
  std::vector<uint8_t> bad(w.written().begin(), w.written().end());
  bad[9] = 0x30;  // chunk 1's CNAME claims 48 bytes
  EXPECT_FALSE(Sdes::parse(bad));
  bad = {w.written().begin(), w.written().end()};
  bad[0] = 0x84;  // four chunks announced, three present
  EXPECT_FALSE(Sdes::parse(bad));
}

TEST(Bye, ParsesAiortcByeAndWritesAReason) {
  const auto bye = Bye::parse(std::span<const uint8_t>(kAiortcBye));
  ASSERT_TRUE(bye);
  ASSERT_EQ(bye->ssrcCount(), 1u);
  EXPECT_EQ(bye->ssrc(0), 1211492096u);
  EXPECT_EQ(bye->reason(), "");
  std::array<uint8_t, 8> copy{};
  ByteWriter w0(copy);
  const uint32_t ssrcs[] = {1211492096u, 7};
  ASSERT_TRUE(Bye::write(w0, std::span(ssrcs).first(1)));
  EXPECT_TRUE(std::equal(copy.begin(), copy.end(), kAiortcBye));

  std::array<uint8_t, 64> out{};
  ByteWriter w(out);
  ASSERT_TRUE(Bye::write(w, ssrcs, "left"));
  EXPECT_EQ(w.size(), 4u + 8 + 8);
  const auto back = Bye::parse(w.written());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->ssrc(1), 7u);
  EXPECT_EQ(back->reason(), "left");
  std::vector<uint8_t> bad(w.written().begin(), w.written().end());
  bad[12] = 9;  // reason longer than the packet
  EXPECT_FALSE(Bye::parse(bad));
}
