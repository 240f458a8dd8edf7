// Keeps the VP8 picture ID and TL0PICIDX (RFC 7741 §4.2) of one subscriber's stream continuous
// when the SFU switches it from one simulcast layer to another.
//
// Each layer numbers its pictures on its own. After switchSource(), the first packet that carries
// a picture ID starts a new segment: its picture gets the output picture ID after the newest one
// sent so far, and its TL0PICIDX the one after the newest TL0PICIDX; later packets of the segment
// keep the same offsets, so reordered and retransmitted packets get the numbers they had. Only the
// descriptor is touched (it stays clear with SFrame); the frame itself is never read past the
// payload header. No allocation, O(1) per packet.
#pragma once

#include <cstdint>
#include <span>

namespace conclave::rtp {

class Vp8PictureRewriter {
 public:
  // The next packet comes from another source: start a new segment.
  void switchSource() { mSegmentStarted = false; }

  // Rewrites the descriptor of `payload` (a VP8 RTP payload) in place. False when the payload has
  // no valid descriptor (it is left untouched). A descriptor without picture ID or TL0PICIDX
  // keeps what it has.
  bool rewrite(std::span<uint8_t> payload);

  static constexpr uint16_t kPictureIdMask = 0x7FFF;  // 15 bits

 private:
  bool mSegmentStarted = false;
  bool mPictureSegmentStarted = false;
  bool mTl0SegmentStarted = false;
  bool mHavePicture = false;  // an output picture ID was written
  bool mHaveTl0 = false;
  uint16_t mPictureOffset = 0;  // output = source + offset (mod 2^15)
  uint8_t mTl0Offset = 0;       // output = source + offset (mod 2^8)
  uint16_t mNewestPicture = 0;  // newest output picture ID
  uint8_t mNewestTl0 = 0;
};

}  // namespace conclave::rtp
