// VP8 payload descriptor, Opus TOC and the RFC 6464 / abs-send-time extension values.
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <vector>

#include "rtp/captured_packets.h"
#include "rtp/header_extensions.h"
#include "rtp/opus.h"
#include "rtp/packet.h"
#include "rtp/vp8.h"

using namespace conclave::rtp;
using namespace conclave::testdata;

namespace {
std::vector<uint8_t> payloadOf(std::span<const uint8_t> packet) {
  std::vector<uint8_t> buf(packet.begin(), packet.end());
  const auto p = RtpPacket::parse(buf);
  return {p->payload().begin(), p->payload().end()};
}
}  // namespace

// Expected values from tests/rtp/capture/select_vectors.py, which decodes the descriptors
// independently; the frame sizes are what the capture asked for (Chromium 640x360, aiortc's
// default 640x480).
TEST(Vp8Descriptor, ChromiumKeyFrameWithTemporalLayers) {
  const auto payload = payloadOf(kChromeVp8Key);
  const auto d = Vp8Descriptor::parse(payload);
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->startOfFrame());
  EXPECT_TRUE(d->keyframe);
  EXPECT_EQ(d->pictureId, 13569);
  EXPECT_TRUE(d->longPictureId);
  EXPECT_EQ(d->tl0PicIdx, 90);
  EXPECT_EQ(d->temporalId, 0);
  EXPECT_TRUE(d->layerSync);
  EXPECT_FALSE(d->keyIdx);
  EXPECT_EQ(d->size, 6u);
  EXPECT_EQ(d->width, 640);
  EXPECT_EQ(d->height, 360);
}

TEST(Vp8Descriptor, ChromiumDeltaFrameInTemporalLayerTwo) {
  const auto payload = payloadOf(kChromeVp8Tid2);
  const auto d = Vp8Descriptor::parse(payload);
  ASSERT_TRUE(d);
  EXPECT_FALSE(d->keyframe);
  EXPECT_TRUE(d->nonReference);  // the top temporal layer is never referenced
  EXPECT_EQ(d->pictureId, 13570);
  EXPECT_EQ(d->tl0PicIdx, 90);
  EXPECT_EQ(d->temporalId, 2);
  EXPECT_EQ(d->width, 0);
}

TEST(Vp8Descriptor, AiortcKeyFrameWithPictureIdOnly) {
  const auto payload = payloadOf(kAiortcVp8Key);
  const auto d = Vp8Descriptor::parse(payload);
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->keyframe);
  EXPECT_EQ(d->pictureId, 24835);
  EXPECT_FALSE(d->tl0PicIdx);
  EXPECT_FALSE(d->temporalId);
  EXPECT_EQ(d->size, 4u);
  EXPECT_EQ(d->width, 640);
  EXPECT_EQ(d->height, 480);
}

TEST(Vp8Descriptor, RewritesPictureIdAndTl0InPlace) {
  auto payload = payloadOf(kChromeVp8Key);
  ASSERT_TRUE(setVp8PictureId(payload, 0x7FFF));
  ASSERT_TRUE(setVp8Tl0PicIdx(payload, 200));
  const auto d = Vp8Descriptor::parse(payload);
  EXPECT_EQ(d->pictureId, 0x7FFF);
  EXPECT_EQ(d->tl0PicIdx, 200);
  EXPECT_EQ(d->temporalId, 0);
  EXPECT_TRUE(d->keyframe);
  // A 7-bit picture id keeps its width.
  std::vector<uint8_t> shortId = {0x90, 0x80, 0x05, 0x11};
  ASSERT_TRUE(setVp8PictureId(shortId, 0x1234));
  EXPECT_EQ(Vp8Descriptor::parse(shortId)->pictureId, 0x34);
  EXPECT_FALSE(setVp8Tl0PicIdx(shortId, 1));  // no L field
}

TEST(Vp8Descriptor, RejectsTruncatedDescriptors) {
  const auto payload = payloadOf(kChromeVp8Key);
  for (size_t n = 0; n <= 6; ++n) {
    EXPECT_FALSE(Vp8Descriptor::parse(std::span(payload).first(n))) << n;
  }
  EXPECT_TRUE(Vp8Descriptor::parse(std::span(payload).first(7)));
  const std::vector<uint8_t> minimal = {0x10, 0x00};  // no X: one byte, then VP8 data
  const auto d = Vp8Descriptor::parse(minimal);
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->keyframe);
  EXPECT_FALSE(d->pictureId);
  EXPECT_EQ(d->width, 0);
  // The P bit only means "key frame" at the start of partition 0.
  const std::vector<uint8_t> laterPartition = {0x11, 0x00};
  EXPECT_FALSE(Vp8Descriptor::parse(laterPartition)->keyframe);
  const std::vector<uint8_t> continuation = {0x00, 0x00};
  EXPECT_FALSE(Vp8Descriptor::parse(continuation)->keyframe);
}

TEST(Opus, ChromiumTocIsHybridFullbandTwentyMs) {
  const auto payload = payloadOf(kChromeOpus);
  const auto toc = OpusToc::parse(payload);
  ASSERT_TRUE(toc);
  EXPECT_EQ(toc->config, 15);
  EXPECT_EQ(toc->mode(), OpusToc::Mode::Hybrid);
  EXPECT_EQ(toc->bandwidth(), OpusToc::Bandwidth::Full);
  EXPECT_FALSE(toc->stereo);
  EXPECT_EQ(toc->frameDurationUs(), 20000u);
  EXPECT_EQ(opusFrameCount(payload), 1u);
  EXPECT_EQ(opusPacketSamples(payload), 960u);
}

TEST(Opus, ConfigTableAndFrameCounts) {
  // RFC 6716 Table 2.
  const auto toc = [](uint8_t config, uint8_t code) {
    return std::array<uint8_t, 2>{static_cast<uint8_t>(config << 3 | code), 0};
  };
  EXPECT_EQ(OpusToc::parse(toc(0, 0))->frameDurationUs(), 10000u);   // SILK NB 10 ms
  EXPECT_EQ(OpusToc::parse(toc(11, 0))->frameDurationUs(), 60000u);  // SILK WB 60 ms
  EXPECT_EQ(OpusToc::parse(toc(11, 0))->bandwidth(), OpusToc::Bandwidth::Wide);
  EXPECT_EQ(OpusToc::parse(toc(12, 0))->bandwidth(), OpusToc::Bandwidth::SuperWide);
  EXPECT_EQ(OpusToc::parse(toc(16, 0))->frameDurationUs(), 2500u);  // CELT NB 2.5 ms
  EXPECT_EQ(OpusToc::parse(toc(16, 0))->mode(), OpusToc::Mode::Celt);
  EXPECT_EQ(OpusToc::parse(toc(21, 0))->bandwidth(), OpusToc::Bandwidth::Wide);
  EXPECT_EQ(OpusToc::parse(toc(31, 0))->frameDurationUs(), 20000u);
  const auto two = toc(31, 1);
  EXPECT_EQ(opusFrameCount(two), 2u);
  EXPECT_EQ(opusPacketSamples(two), 1920u);
  std::array<uint8_t, 2> code3 = {static_cast<uint8_t>(16 << 3 | 3), 0x05};  // 5 x 2.5 ms
  EXPECT_EQ(opusFrameCount(code3), 5u);
  EXPECT_EQ(opusPacketSamples(code3), 600u);
  code3 = {static_cast<uint8_t>(3 << 3 | 3), 0x03};  // 3 x 60 ms = 180 ms: too long
  EXPECT_FALSE(opusPacketSamples(code3));
  code3[1] = 0;  // zero frames
  EXPECT_FALSE(opusFrameCount(code3));
  const std::array<uint8_t, 1> lone = {static_cast<uint8_t>(3 << 3 | 3)};
  EXPECT_FALSE(opusFrameCount(lone));
  EXPECT_FALSE(OpusToc::parse({}));
}

TEST(HeaderExtensions, AudioLevelAndAbsSendTime) {
  const std::array<uint8_t, 1> loud = {0x0A};
  EXPECT_EQ(parseAudioLevel(loud)->level, 10);
  EXPECT_FALSE(parseAudioLevel(loud)->voiceActivity);
  EXPECT_FALSE(parseAudioLevel({}));
  const std::array<uint8_t, 3> ast = {0x40, 0x00, 0x01};
  EXPECT_EQ(parseAbsSendTime(ast), 0x400001u);
  EXPECT_FALSE(parseAbsSendTime(std::span(ast).first(2)));
  using namespace std::chrono_literals;
  EXPECT_EQ(toAbsSendTime(1s), 1u << 18);
  EXPECT_EQ(toAbsSendTime(500ms), 1u << 17);
  EXPECT_EQ(toAbsSendTime(64s), 0u);  // wraps every 64 s
  EXPECT_EQ(toAbsSendTime(65s + 250ms), (1u << 18) | (1u << 16));
}
