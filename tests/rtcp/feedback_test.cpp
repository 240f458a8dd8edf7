// NACK, PLI, FIR and REMB: real packets parsed and rebuilt, plus round trips.
#include "rtcp/feedback.h"

#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "rtcp/captured_packets.h"
#include "rtcp/compound.h"
#include "rtcp_test_util.h"

using namespace conclave::rtcp;
using namespace conclave::testdata;
using conclave::common::ByteWriter;
using conclave::rtcp::test::nth;

namespace {
std::vector<uint16_t> lostOf(const GenericNack& nack) {
  std::vector<uint16_t> lost;
  nack.forEachLost([&](uint16_t s) { lost.push_back(s); });
  return lost;
}
}  // namespace

// Expected lost lists come from aiortc's parser (tests/rtp/capture/select_vectors.py).
TEST(GenericNack, ParsesAndRebuildsChromiumNack) {
  const auto packet = nth(kChromeRrNack, 1);
  const auto nack = GenericNack::parse(packet);
  ASSERT_TRUE(nack);
  EXPECT_EQ(nack->senderSsrc(), 4237406397u);
  EXPECT_EQ(nack->mediaSsrc(), 1211492096u);
  EXPECT_EQ(lostOf(*nack), (std::vector<uint16_t>{46968, 46969, 46970}));
  const auto lost = lostOf(*nack);
  std::array<uint8_t, 64> out{};
  ByteWriter w(out);
  ASSERT_TRUE(GenericNack::write(w, nack->senderSsrc(), nack->mediaSsrc(), lost));
  ASSERT_EQ(w.size(), packet.bytes.size());
  EXPECT_TRUE(std::equal(out.begin(), out.begin() + w.size(), packet.bytes.begin()));
}

TEST(GenericNack, ParsesAndRebuildsAiortcNack) {
  const auto nack = GenericNack::parse(std::span<const uint8_t>(kAiortcNack));
  ASSERT_TRUE(nack);
  const auto lost = lostOf(*nack);
  EXPECT_EQ(lost, (std::vector<uint16_t>{8708, 8709}));
  std::array<uint8_t, 64> out{};
  ByteWriter w(out);
  ASSERT_TRUE(GenericNack::write(w, 1211492096u, 4237406397u, lost));
  EXPECT_TRUE(std::equal(out.begin(), out.begin() + w.size(), kAiortcNack));
  EXPECT_EQ(w.size(), sizeof(kAiortcNack));
}

TEST(GenericNack, GroupsAcrossTheWrapAndExpandsIntoABuffer) {
  // 65534 is the PID; 65535, 0, 1 and 14 (distances 1..16) fall in its bitmask; 15 is 17 away
  // and starts a new item, 40 another.
  const std::vector<uint16_t> lost = {65534, 65535, 0, 1, 14, 15, 40};
  std::array<uint8_t, 64> out{};
  ByteWriter w(out);
  ASSERT_TRUE(GenericNack::write(w, 1, 2, lost));
  const auto nack = GenericNack::parse(w.written());
  ASSERT_TRUE(nack);
  EXPECT_EQ(nack->itemCount(), 3u);
  EXPECT_EQ(nack->item(0).pid, 65534);
  EXPECT_EQ(nack->item(0).blp, 0x0001 | 0x0002 | 0x0004 | 0x8000);
  EXPECT_EQ(lostOf(*nack), lost);
  std::array<uint16_t, 4> some{};
  EXPECT_EQ(nack->lostSequenceNumbers(some), 4u);
  EXPECT_EQ(some[3], 1);
  ByteWriter empty(out);
  EXPECT_FALSE(GenericNack::write(empty, 1, 2, {}));
}

TEST(GenericNack, RejectsBadFci) {
  std::vector<uint8_t> bad(std::begin(kAiortcNack), std::end(kAiortcNack));
  bad[3] = 0x02;  // no FCI left
  bad.resize(12);
  EXPECT_FALSE(GenericNack::parse(bad));
  EXPECT_FALSE(Pli::parse(std::span<const uint8_t>(kAiortcNack)));  // wrong type
}

TEST(Pli, ParsesAndRebuildsChromiumPli) {
  const auto packet = nth(kChromeRrPli, 1);
  const auto pli = Pli::parse(packet);
  ASSERT_TRUE(pli);
  EXPECT_EQ(pli->senderSsrc(), 4237406397u);
  EXPECT_EQ(pli->mediaSsrc(), 1211492096u);
  std::array<uint8_t, 12> out{};
  ByteWriter w(out);
  ASSERT_TRUE(Pli::write(w, pli->senderSsrc(), pli->mediaSsrc()));
  EXPECT_TRUE(std::equal(out.begin(), out.end(), packet.bytes.begin()));
  EXPECT_FALSE(Fir::parse(packet));
}

TEST(Fir, MatchesTheRfc5104Layout) {
  // RFC 5104 §4.3.1: PSFB (206), FMT 4, media source SSRC 0, then per target SSRC + seq nr +
  // 24 reserved bits. Hand-written from the figure.
  const uint8_t expected[] = {0x84, 0xce, 0x00, 0x06, 0x11, 0x22, 0x33, 0x44, 0x00, 0x00, 0x00, 0x00, 0xaa, 0xbb,
                              0xcc, 0xdd, 0x07, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0xff, 0x00, 0x00, 0x00};
  const FirEntry entries[] = {{0xaabbccdd, 7}, {0x01020304, 255}};
  std::array<uint8_t, 64> out{};
  ByteWriter w(out);
  ASSERT_TRUE(Fir::write(w, 0x11223344, entries));
  ASSERT_EQ(w.size(), sizeof(expected));
  EXPECT_TRUE(std::equal(out.begin(), out.begin() + w.size(), expected));
  const auto fir = Fir::parse(std::span<const uint8_t>(expected));
  ASSERT_TRUE(fir);
  EXPECT_EQ(fir->senderSsrc(), 0x11223344u);
  ASSERT_EQ(fir->entryCount(), 2u);
  EXPECT_EQ(fir->entry(0).ssrc, 0xaabbccddu);
  EXPECT_EQ(fir->entry(0).sequenceNumber, 7);
  EXPECT_EQ(fir->entry(1).sequenceNumber, 255);
  std::vector<uint8_t> bad(std::begin(expected), std::end(expected));
  bad[3] = 0x05;  // an entry of 4 bytes
  bad.resize(24);
  EXPECT_FALSE(Fir::parse(bad));
}

TEST(Remb, ParsesAndRebuildsAiortcRemb) {
  const auto remb = Remb::parse(std::span<const uint8_t>(kAiortcRemb));
  ASSERT_TRUE(remb);
  EXPECT_EQ(remb->senderSsrc(), 1211492096u);
  EXPECT_EQ(remb->bitrate(), 189040u);  // aiortc.rtp.unpack_remb_fci
  ASSERT_EQ(remb->ssrcCount(), 2u);
  EXPECT_EQ(remb->ssrc(0), 0x7cf7c518u);
  EXPECT_EQ(remb->ssrc(1), 0xfc91b0bdu);
  const uint32_t ssrcs[] = {0x7cf7c518u, 0xfc91b0bdu};
  std::array<uint8_t, 64> out{};
  ByteWriter w(out);
  ASSERT_TRUE(Remb::write(w, 1211492096u, 189040u, ssrcs));
  ASSERT_EQ(w.size(), sizeof(kAiortcRemb));
  EXPECT_TRUE(std::equal(out.begin(), out.begin() + w.size(), kAiortcRemb));
}

TEST(Remb, ExponentMantissaRoundTrip) {
  for (const uint64_t bps :
       {0ull, 1ull, 0x3FFFFull, 0x40000ull, 2'500'000ull, 1'000'000'007ull, (1ull << 40) + 12345}) {
    std::array<uint8_t, 32> out{};
    ByteWriter w(out);
    ASSERT_TRUE(Remb::write(w, 1, bps, {}));
    const auto back = Remb::parse(w.written());
    ASSERT_TRUE(back);
    EXPECT_LE(back->bitrate(), bps);
    EXPECT_GE(back->bitrate(), bps - bps / 0x20000);  // 18-bit precision, rounded down
  }
  // Exponent 63 with a full mantissa saturates instead of wrapping.
  std::vector<uint8_t> big(std::begin(kAiortcRemb), std::end(kAiortcRemb));
  big[17] = 0xFF;
  big[18] = 0xFF;
  big[19] = 0xFF;
  EXPECT_EQ(Remb::parse(big)->bitrate(), ~uint64_t{0});
  big[12] = 'X';  // some other application feedback
  EXPECT_FALSE(Remb::parse(big));
  big = {std::begin(kAiortcRemb), std::end(kAiortcRemb)};
  big[16] = 3;  // three SSRCs announced, two present
  EXPECT_FALSE(Remb::parse(big));
}
