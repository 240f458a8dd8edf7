#include "rtp/vp8_rewriter.h"

#include "rtp/vp8.h"

namespace conclave::rtp {
namespace {

// a follows b in a 15-bit (picture ID) or 8-bit (TL0PICIDX) space, by less than half of it.
bool pictureNewer(uint16_t a, uint16_t b) {
  const auto d = static_cast<uint16_t>((a - b) & Vp8PictureRewriter::kPictureIdMask);
  return d != 0 && d < 0x4000;
}
bool tl0Newer(uint8_t a, uint8_t b) {
  const auto d = static_cast<uint8_t>(a - b);
  return d != 0 && d < 0x80;
}

}  // namespace

bool Vp8PictureRewriter::rewrite(std::span<uint8_t> payload) {
  const auto d = Vp8Descriptor::parse(payload);
  if (!d) return false;
  if (!mSegmentStarted) {
    mSegmentStarted = true;
    mPictureSegmentStarted = false;
    mTl0SegmentStarted = false;
  }
  if (d->pictureId) {
    if (!mPictureSegmentStarted) {
      mPictureSegmentStarted = true;
      // The first segment keeps the publisher's numbers; later ones continue after the newest.
      mPictureOffset = mHavePicture ? static_cast<uint16_t>((mNewestPicture + 1 - *d->pictureId) & kPictureIdMask) : 0;
    }
    const auto out = static_cast<uint16_t>((*d->pictureId + mPictureOffset) & kPictureIdMask);
    setVp8PictureId(payload, out);  // a 7-bit field keeps the low 7 bits
    if (!mHavePicture || pictureNewer(out, mNewestPicture)) mNewestPicture = out;
    mHavePicture = true;
  }
  if (d->tl0PicIdx) {
    if (!mTl0SegmentStarted) {
      mTl0SegmentStarted = true;
      mTl0Offset = mHaveTl0 ? static_cast<uint8_t>(mNewestTl0 + 1 - *d->tl0PicIdx) : 0;
    }
    const auto out = static_cast<uint8_t>(*d->tl0PicIdx + mTl0Offset);
    setVp8Tl0PicIdx(payload, out);
    if (!mHaveTl0 || tl0Newer(out, mNewestTl0)) mNewestTl0 = out;
    mHaveTl0 = true;
  }
  return true;
}

}  // namespace conclave::rtp
