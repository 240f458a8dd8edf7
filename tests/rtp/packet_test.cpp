#include "rtp/packet.h"

#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "rtp/captured_packets.h"
#include "rtp/header_extensions.h"
#include "rtp/packet_writer.h"

using namespace conclave::rtp;
using namespace conclave::testdata;

namespace {

std::vector<uint8_t> copyOf(std::span<const uint8_t> bytes) { return {bytes.begin(), bytes.end()}; }

// Two-byte header extensions (RFC 8285 §4.3), written by aiortc's own encoder
// (aiortc.rtp.pack_header_extensions([(1, b''), (20, b'conclave-mid-value-x'), (3, b'\0*')]))
// behind a hand-written fixed header with one CSRC; aiortc.rtp.RtpPacket.parse reads it back
// with payload aabbcc and CSRC 0x11223344.
constexpr uint8_t kTwoByteExtensions[] = {0x91, 0x60, 0xff, 0xfe, 0x01, 0x02, 0x03, 0x04, 0xde, 0xad, 0xbe, 0xef, 0x11,
                                          0x22, 0x33, 0x44, 0x10, 0x00, 0x00, 0x07, 0x01, 0x00, 0x14, 0x14, 0x63, 0x6f,
                                          0x6e, 0x63, 0x6c, 0x61, 0x76, 0x65, 0x2d, 0x6d, 0x69, 0x64, 0x2d, 0x76, 0x61,
                                          0x6c, 0x75, 0x65, 0x2d, 0x78, 0x03, 0x02, 0x00, 0x2a, 0xaa, 0xbb, 0xcc};

}  // namespace

// Expected values below come from aiortc's parser (tests/rtp/capture/select_vectors.py output).
TEST(RtpPacket, ParsesChromiumOpusPacket) {
  auto buf = copyOf(kChromeOpus);
  const auto p = RtpPacket::parse(buf);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->payloadType(), 111);
  EXPECT_TRUE(p->marker());
  EXPECT_EQ(p->sequenceNumber(), 20780);
  EXPECT_EQ(p->timestamp(), 2407459772u);
  EXPECT_EQ(p->ssrc(), 0xd0dd2577u);
  EXPECT_EQ(p->csrcCount(), 0);
  EXPECT_EQ(p->headerSize(), 24u);
  EXPECT_EQ(p->payloadSize(), 32u);
  EXPECT_EQ(p->paddingSize(), 0u);
  EXPECT_EQ(p->payload()[0], 0x78);  // Opus TOC
  EXPECT_EQ(p->extensionProfile(), ExtensionProfile::OneByte);
  EXPECT_EQ(p->extensionProfileValue(), 0xBEDE);
  EXPECT_EQ(p->extensionString(4), "0");  // mid
  EXPECT_EQ(parseTransportSequenceNumber(*p->extension(3)), 1);
  const auto level = parseAudioLevel(*p->extension(1));
  ASSERT_TRUE(level);
  EXPECT_TRUE(level->voiceActivity);
  EXPECT_EQ(level->level, 127);
  EXPECT_FALSE(p->extension(2));
  EXPECT_FALSE(p->extension(0));
  std::vector<uint8_t> ids;
  p->forEachExtension([&](const HeaderExtension& e) { ids.push_back(e.id); });
  EXPECT_EQ(ids, (std::vector<uint8_t>{3, 4, 1}));
}

TEST(RtpPacket, ParsesChromiumVideoExtensions) {
  auto buf = copyOf(kChromeVp8Key);
  const auto p = RtpPacket::parse(buf);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->payloadType(), 96);
  EXPECT_EQ(p->sequenceNumber(), 8674);
  EXPECT_EQ(p->ssrc(), 0xfc91b0bdu);
  EXPECT_EQ(p->payloadSize(), 1104u);
  EXPECT_EQ(parseAbsSendTime(*p->extension(2)), 0x1b9f40u);
  EXPECT_EQ(parseTransportSequenceNumber(*p->extension(3)), 6);
  EXPECT_EQ(p->extensionString(4), "1");
}

TEST(RtpPacket, ParsesTwoByteExtensionsWithCsrcAndEmptyValue) {
  auto buf = copyOf(kTwoByteExtensions);
  auto p = RtpPacket::parse(buf);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->extensionProfile(), ExtensionProfile::TwoByte);
  EXPECT_EQ(p->csrcCount(), 1);
  EXPECT_EQ(p->csrc(0), 0x11223344u);
  EXPECT_EQ(p->sequenceNumber(), 0xfffe);
  const auto empty = p->extension(1);
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
  EXPECT_EQ(p->extensionString(20), "conclave-mid-value-x");
  EXPECT_EQ(parseTransportSequenceNumber(*p->extension(3)), 42);
  EXPECT_EQ(p->payloadSize(), 3u);
  EXPECT_EQ(p->payload()[0], 0xaa);
  // Two-byte ids above 14 can be remapped in place; id 0 never matches.
  EXPECT_TRUE(p->setExtensionId(20, 200));
  EXPECT_EQ(p->extensionString(200), "conclave-mid-value-x");
  EXPECT_FALSE(p->setExtensionId(200, 0));
}

TEST(RtpPacket, MutatorsRewriteOnlyTheirFields) {
  auto buf = copyOf(kChromeVp8Key);
  auto p = RtpPacket::parse(buf);
  ASSERT_TRUE(p);
  p->setSequenceNumber(0xFFFF);
  p->setTimestamp(0x89ABCDEF);
  p->setSsrc(0x01020304);
  p->setPayloadType(100);
  p->setMarker(false);
  ASSERT_TRUE(setTransportSequenceNumber(*p, 3, 0xBEEF));
  ASSERT_TRUE(setAbsSendTime(*p, 2, 0x123456));
  const auto q = RtpPacket::parse(buf);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->sequenceNumber(), 0xFFFF);
  EXPECT_EQ(q->timestamp(), 0x89ABCDEFu);
  EXPECT_EQ(q->ssrc(), 0x01020304u);
  EXPECT_EQ(q->payloadType(), 100);
  EXPECT_FALSE(q->marker());
  EXPECT_EQ(parseTransportSequenceNumber(*q->extension(3)), 0xBEEF);
  EXPECT_EQ(parseAbsSendTime(*q->extension(2)), 0x123456u);
  EXPECT_EQ(q->extensionString(4), "1");
  // Everything else is byte for byte the original.
  size_t changed = 0;
  for (size_t i = 0; i < buf.size(); ++i) changed += buf[i] != kChromeVp8Key[i];
  EXPECT_LE(changed, 1u + 2 + 4 + 4 + 2 + 3);
  EXPECT_TRUE(std::equal(buf.begin() + 28, buf.end(), kChromeVp8Key + 28));
  // Setting the originals back restores the exact bytes.
  p->setSequenceNumber(8674);
  p->setTimestamp(1207888924);
  p->setSsrc(0xfc91b0bd);
  p->setPayloadType(96);
  p->setMarker(true);
  setTransportSequenceNumber(*p, 3, 6);
  setAbsSendTime(*p, 2, 0x1b9f40);
  EXPECT_TRUE(std::equal(buf.begin(), buf.end(), kChromeVp8Key));
}

TEST(RtpPacket, ExtensionValueMustKeepItsSize) {
  auto buf = copyOf(kChromeOpus);
  auto p = RtpPacket::parse(buf);
  ASSERT_TRUE(p);
  const std::array<uint8_t, 3> three{1, 2, 3};
  EXPECT_FALSE(p->setExtensionValue(3, three));  // transport-cc is 2 bytes
  EXPECT_FALSE(p->setExtensionValue(9, three));  // absent
  const std::array<uint8_t, 1> mid{'7'};
  EXPECT_TRUE(p->setExtensionValue(4, mid));
  EXPECT_EQ(p->extensionString(4), "7");
}

TEST(RtpPacket, RemapsSwapsAndRemovesExtensionIds) {
  auto buf = copyOf(kChromeOpus);  // ids: 3 twcc, 4 mid, 1 audio level
  auto p = RtpPacket::parse(buf);
  ASSERT_TRUE(p);
  ExtensionIdMap map;
  map.set(3, 4);  // swap 3 and 4
  map.set(4, 3);
  map.set(1, 0);  // drop the audio level
  EXPECT_EQ(p->remapExtensions(map), 2u);
  const auto q = RtpPacket::parse(buf);  // still a valid packet
  ASSERT_TRUE(q);
  EXPECT_EQ(q->extensionString(3), "0");
  EXPECT_EQ(parseTransportSequenceNumber(*q->extension(4)), 1);
  EXPECT_FALSE(q->extension(1));
  EXPECT_EQ(q->payloadSize(), 32u);
  // A one-byte element cannot take id 15 or above: it is removed instead.
  map = {};
  map.set(3, 15);
  map.set(4, 4);
  EXPECT_EQ(p->remapExtensions(map), 1u);
  EXPECT_FALSE(p->extension(3));
  EXPECT_FALSE(p->setExtensionId(4, 15));
  EXPECT_TRUE(p->setExtensionId(4, 14));
  EXPECT_TRUE(p->removeExtension(14));
  EXPECT_FALSE(p->removeExtension(14));
  std::vector<uint8_t> zeros(8, 0);
  EXPECT_TRUE(std::equal(zeros.begin(), zeros.end(), p->extensionBlock().begin()));
}

TEST(RtpPacket, IdFifteenEndsOneByteBlock) {
  // RFC 8285 §4.2: processing stops at an element with id 15, whatever follows.
  std::vector<uint8_t> buf = {0x90, 0x60, 0x00, 0x01, 0,    0,    0,    1,    0,    0,    0,    2,   0xBE,
                              0xDE, 0x00, 0x02, 0x10, 0x55, 0xF3, 0x40, 0x31, 0xFF, 0xFF, 0xFF, 0xAB};
  const auto p = RtpPacket::parse(buf);
  ASSERT_TRUE(p);
  EXPECT_EQ((*p->extension(1))[0], 0x55);
  EXPECT_FALSE(p->extension(4));
  EXPECT_FALSE(p->extension(3));
  EXPECT_EQ(p->payloadSize(), 1u);
}

TEST(RtpPacket, IdZeroIsAlwaysOnePaddingByte) {
  // 0x05 has id 0: one padding byte, whatever its length nibble (found by fuzz_rtp: read as an
  // element it would be an id that lookups cannot find).
  std::vector<uint8_t> buf = {0x90, 0x60, 0x00, 0x01, 0,    0,    0,    1,    0,    0,
                              0,    2,    0xBE, 0xDE, 0x00, 0x01, 0x05, 0x10, 0x55, 0x00};
  const auto p = RtpPacket::parse(buf);
  ASSERT_TRUE(p);
  size_t elements = 0;
  p->forEachExtension([&](const HeaderExtension& e) {
    ++elements;
    EXPECT_EQ(e.id, 1);
  });
  EXPECT_EQ(elements, 1u);
  EXPECT_EQ((*p->extension(1))[0], 0x55);
}

TEST(RtpPacket, PaddingOnlyProbeFromChromium) {
  auto buf = copyOf(kChromePaddingOnly);
  auto p = RtpPacket::parse(buf);
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->hasPadding());
  EXPECT_EQ(p->paddingSize(), 255u);
  EXPECT_EQ(p->payloadSize(), 0u);
  EXPECT_EQ(p->headerSize(), 28u);
  p->removePadding();
  EXPECT_EQ(p->size(), 28u);
  EXPECT_FALSE(p->hasPadding());
  const auto q = RtpPacket::parse(p->data());
  ASSERT_TRUE(q);
  EXPECT_EQ(q->paddingSize(), 0u);
  EXPECT_EQ(q->payloadSize(), 0u);
}

TEST(RtpPacket, RejectsBadPadding) {
  auto buf = copyOf(kChromePaddingOnly);
  buf.back() = 0;  // a padding count of 0 is invalid
  EXPECT_FALSE(RtpPacket::parse(buf));
  buf.back() = 0xFF;
  buf.resize(buf.size() - 1);  // now 255 > the 254 bytes after the header
  buf.back() = 0xFF;
  EXPECT_FALSE(RtpPacket::parse(buf));
  std::vector<uint8_t> headerOnly(kChromePaddingOnly, kChromePaddingOnly + 28);
  EXPECT_FALSE(RtpPacket::parse(headerOnly));  // P set but no byte to hold the count
}

TEST(RtpPacket, RejectsEveryTruncatedHeader) {
  for (const auto packet : {std::span<const uint8_t>(kChromeOpus), std::span<const uint8_t>(kTwoByteExtensions)}) {
    auto buf = copyOf(packet);
    const size_t header = RtpPacket::parse(buf)->headerSize();
    for (size_t n = 0; n < header; ++n) {
      auto cut = copyOf(packet.first(n));
      EXPECT_FALSE(RtpPacket::parse(cut)) << n;
    }
    auto exact = copyOf(packet.first(header));
    EXPECT_TRUE(RtpPacket::parse(exact));  // an empty payload is fine
  }
}

TEST(RtpPacket, RejectsBadVersionAndOverlongElements) {
  auto buf = copyOf(kChromeOpus);
  buf[0] = static_cast<uint8_t>((buf[0] & 0x3F) | 0x40);  // version 1
  EXPECT_FALSE(RtpPacket::parse(buf));
  buf = copyOf(kChromeOpus);
  buf[0] |= 0x0F;  // 15 CSRCs: 60 bytes, more than there is
  EXPECT_FALSE(RtpPacket::parse(buf));
  buf = copyOf(kChromeOpus);
  buf[15] = 0x40;  // extension block of 256 bytes
  EXPECT_FALSE(RtpPacket::parse(buf));
  buf = copyOf(kChromeOpus);
  buf[21] = 0x1F;  // the audio level element claims 16 bytes where 2 remain
  EXPECT_FALSE(RtpPacket::parse(buf));
  auto two = copyOf(kTwoByteExtensions);
  two[45] = 0x03;  // the last two-byte element claims 3 bytes, 2 remain
  EXPECT_FALSE(RtpPacket::parse(two));
}

TEST(RtpPacketWriter, WritesOneByteFormAndParsesBack) {
  const uint8_t mid[] = {'a', 'b'};
  const uint8_t twcc[] = {0x12, 0x34};
  const ExtensionValue exts[] = {{4, mid}, {3, twcc}};
  const uint32_t csrcs[] = {7, 8};
  const uint8_t payload[] = {1, 2, 3, 4, 5};
  RtpHeader h{true, 96, 65535, 123456, 0xCAFEBABE, csrcs};
  std::array<uint8_t, 100> out{};
  const size_t n = writeRtpPacket(out, h, exts, payload, 3);
  ASSERT_EQ(n, 12u + 8 + 4 + 8 + 5 + 3);
  const auto p = RtpPacket::parse(std::span(out).first(n));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->extensionProfile(), ExtensionProfile::OneByte);
  EXPECT_EQ(p->extensionString(4), "ab");
  EXPECT_EQ(parseTransportSequenceNumber(*p->extension(3)), 0x1234);
  EXPECT_EQ(p->csrc(1), 8u);
  EXPECT_EQ(p->paddingSize(), 3u);
  EXPECT_EQ(p->payloadSize(), 5u);
  EXPECT_EQ(p->payload()[4], 5);
  EXPECT_EQ(writeRtpPacket(std::span(out).first(n - 1), h, exts, payload, 3), 0u);
}

TEST(RtpPacketWriter, ReproducesAiortcTwoByteBytes) {
  const uint8_t mid[] = {'c', 'o', 'n', 'c', 'l', 'a', 'v', 'e', '-', 'm',
                         'i', 'd', '-', 'v', 'a', 'l', 'u', 'e', '-', 'x'};
  const uint8_t twcc[] = {0x00, 0x2a};
  const ExtensionValue exts[] = {{1, {}}, {20, mid}, {3, twcc}};
  const uint32_t csrcs[] = {0x11223344};
  const uint8_t payload[] = {0xaa, 0xbb, 0xcc};
  const RtpHeader h{false, 96, 0xfffe, 0x01020304, 0xdeadbeef, csrcs};
  EXPECT_EQ(chooseExtensionProfile(exts), ExtensionProfile::TwoByte);
  std::array<uint8_t, 100> out{};
  const size_t n = writeRtpPacket(out, h, exts, payload);
  ASSERT_EQ(n, sizeof(kTwoByteExtensions));
  EXPECT_TRUE(std::equal(out.begin(), out.begin() + n, kTwoByteExtensions));
}

TEST(Rtx, UnwrapsChromiumRetransmissionToTheOriginal) {
  auto buf = copyOf(kChromeRtxOfKey);
  const auto rtx = RtpPacket::parse(buf);
  ASSERT_TRUE(rtx);
  const auto original = unwrapRtx(*rtx, 96, 0xfc91b0bd);
  ASSERT_TRUE(original);
  EXPECT_EQ(original->sequenceNumber(), 8674);
  EXPECT_EQ(original->payloadType(), 96);
  EXPECT_EQ(original->ssrc(), 0xfc91b0bdu);
  EXPECT_EQ(original->timestamp(), 1207888924u);
  auto keyBuf = copyOf(kChromeVp8Key);
  const auto key = RtpPacket::parse(keyBuf);
  ASSERT_EQ(original->payloadSize(), key->payloadSize());
  EXPECT_TRUE(std::equal(key->payload().begin(), key->payload().end(), original->payload().begin()));
}

TEST(Rtx, WrapsLikeChromium) {
  auto keyBuf = copyOf(kChromeVp8Key);
  const auto key = RtpPacket::parse(keyBuf);
  std::array<uint8_t, 1500> out{};
  const size_t n = writeRtx(out, *key, 97, 0x7cf7c518, 31014);
  ASSERT_EQ(n, sizeof(kChromeRtxOfKey));
  const auto rtx = RtpPacket::parse(std::span(out).first(n));
  ASSERT_TRUE(rtx);
  auto chromeBuf = copyOf(kChromeRtxOfKey);
  const auto chrome = RtpPacket::parse(chromeBuf);
  // Same fixed header and payload as Chromium's own RTX packet; the extension values (send time,
  // transport seq) differ because Chromium stamped them when it resent.
  EXPECT_TRUE(std::equal(out.begin(), out.begin() + 12, kChromeRtxOfKey));
  EXPECT_TRUE(std::equal(rtx->payload().begin(), rtx->payload().end(), chrome->payload().begin()));
  EXPECT_EQ(writeRtx(std::span(out).first(n - 1), *key, 97, 1, 1), 0u);
}

TEST(Rtx, WrapsInPlace) {
  auto buf = copyOf(kChromeVp8Key);
  buf.resize(buf.size() + 2);
  const auto key = RtpPacket::parse(std::span(buf).first(sizeof(kChromeVp8Key)));
  const size_t n = writeRtx(buf, *key, 97, 0x7cf7c518, 31014);
  const auto rtx = RtpPacket::parse(std::span(buf).first(n));
  auto chromeBuf = copyOf(kChromeRtxOfKey);
  const auto chrome = RtpPacket::parse(chromeBuf);
  ASSERT_TRUE(rtx);
  EXPECT_TRUE(std::equal(rtx->payload().begin(), rtx->payload().end(), chrome->payload().begin()));
}
