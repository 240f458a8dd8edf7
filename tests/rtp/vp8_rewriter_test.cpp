// Vp8PictureRewriter: picture IDs and TL0PICIDX stay continuous when the source changes.
#include "rtp/vp8_rewriter.h"

#include <gtest/gtest.h>

#include <vector>

#include "rtp/vp8.h"

using namespace conclave::rtp;

namespace {

// A VP8 payload: descriptor with a 15-bit (or 7-bit) picture ID, TL0PICIDX and TID, then a
// delta frame's first payload byte.
std::vector<uint8_t> payload(uint16_t pictureId, uint8_t tl0, bool longId = true) {
  std::vector<uint8_t> p = {0x90, 0xE0};
  if (longId) {
    p.push_back(static_cast<uint8_t>(0x80 | (pictureId >> 8)));
    p.push_back(static_cast<uint8_t>(pictureId));
  } else {
    p.push_back(static_cast<uint8_t>(pictureId & 0x7F));
  }
  p.push_back(tl0);
  p.push_back(0x00);  // TID 0
  p.push_back(0x01);  // P = 1: a delta frame
  p.push_back(0xAA);
  return p;
}

struct Ids {
  uint16_t pictureId;
  uint8_t tl0;
};

Ids rewrite(Vp8PictureRewriter& r, uint16_t pictureId, uint8_t tl0, bool longId = true) {
  auto p = payload(pictureId, tl0, longId);
  EXPECT_TRUE(r.rewrite(p));
  auto d = Vp8Descriptor::parse(p);
  EXPECT_TRUE(d && d->pictureId && d->tl0PicIdx);
  return {d->pictureId.value_or(0), d->tl0PicIdx.value_or(0)};
}

}  // namespace

TEST(Vp8PictureRewriter, TheFirstSourceKeepsItsNumbers) {
  Vp8PictureRewriter r;
  auto a = rewrite(r, 1234, 17);
  EXPECT_EQ(a.pictureId, 1234);
  EXPECT_EQ(a.tl0, 17);
  auto b = rewrite(r, 1235, 18);
  EXPECT_EQ(b.pictureId, 1235);
  EXPECT_EQ(b.tl0, 18);
}

TEST(Vp8PictureRewriter, ASwitchContinuesAfterTheNewestPicture) {
  Vp8PictureRewriter r;
  rewrite(r, 100, 5);
  rewrite(r, 101, 6);
  r.switchSource();
  // The other layer numbers its pictures far away: the output goes on with 102 / 7.
  auto a = rewrite(r, 30000, 200);
  EXPECT_EQ(a.pictureId, 102);
  EXPECT_EQ(a.tl0, 7);
  auto b = rewrite(r, 30001, 201);
  EXPECT_EQ(b.pictureId, 103);
  EXPECT_EQ(b.tl0, 8);
  // A reordered (or retransmitted) packet of the segment keeps its number.
  auto again = rewrite(r, 30000, 200);
  EXPECT_EQ(again.pictureId, 102);
  EXPECT_EQ(again.tl0, 7);
  // And back to the first layer: continues after 103 / 8.
  r.switchSource();
  auto c = rewrite(r, 150, 40);
  EXPECT_EQ(c.pictureId, 104);
  EXPECT_EQ(c.tl0, 9);
}

TEST(Vp8PictureRewriter, NumbersWrapAcrossASwitch) {
  Vp8PictureRewriter r;
  rewrite(r, 0x7FFE, 254);
  rewrite(r, 0x7FFF, 255);
  r.switchSource();
  auto a = rewrite(r, 500, 3);
  EXPECT_EQ(a.pictureId, 0);  // 0x7FFF + 1 wraps in 15 bits
  EXPECT_EQ(a.tl0, 0);        // 255 + 1 wraps in 8 bits
  // The source wraps inside the segment too.
  r.switchSource();
  auto b = rewrite(r, 0x7FFF, 255);
  EXPECT_EQ(b.pictureId, 1);
  EXPECT_EQ(b.tl0, 1);
  auto c = rewrite(r, 0, 0);
  EXPECT_EQ(c.pictureId, 2);
  EXPECT_EQ(c.tl0, 2);
}

TEST(Vp8PictureRewriter, ASevenBitPictureIdKeepsItsWidth) {
  Vp8PictureRewriter r;
  rewrite(r, 126, 1, false);
  r.switchSource();
  auto p = payload(5, 9, false);
  ASSERT_TRUE(r.rewrite(p));
  EXPECT_EQ(p.size(), payload(5, 9, false).size());
  auto d = Vp8Descriptor::parse(p);
  ASSERT_TRUE(d && d->pictureId);
  EXPECT_FALSE(d->longPictureId);
  EXPECT_EQ(*d->pictureId, 127);
}

TEST(Vp8PictureRewriter, AnInvalidPayloadIsLeftAlone) {
  Vp8PictureRewriter r;
  std::vector<uint8_t> truncated = {0x90, 0xE0, 0x80};
  const auto copy = truncated;
  EXPECT_FALSE(r.rewrite(truncated));
  EXPECT_EQ(truncated, copy);
}
