#include "net/stream_framing.h"

#include <algorithm>
#include <cstring>

namespace conclave::net {

FrameReader::FrameReader(size_t maxFrame) : mBuffer(2 * (kFrameHeader + maxFrame)), mMaxFrame(maxFrame) {}

std::span<uint8_t> FrameReader::space() {
  // Move the unread tail to the front when it leaves less than one maximal frame of room.
  if (mBegin == mEnd) {
    mBegin = mEnd = 0;
  } else if (mBuffer.size() - mEnd < kFrameHeader + mMaxFrame && mBegin > 0) {
    std::memmove(mBuffer.data(), mBuffer.data() + mBegin, mEnd - mBegin);
    mEnd -= mBegin;
    mBegin = 0;
  }
  return {mBuffer.data() + mEnd, mBuffer.size() - mEnd};
}

void FrameReader::commit(size_t n) { mEnd += std::min(n, mBuffer.size() - mEnd); }

FrameReader::Status FrameReader::next(std::span<uint8_t>& frame) {
  while (mEnd - mBegin >= kFrameHeader) {
    const size_t length = (size_t{mBuffer[mBegin]} << 8) | mBuffer[mBegin + 1];
    if (length > mMaxFrame) return Status::TooLarge;
    if (mEnd - mBegin < kFrameHeader + length) return Status::NeedMore;
    const size_t start = mBegin + kFrameHeader;
    mBegin = start + length;
    if (length == 0) continue;
    frame = {mBuffer.data() + start, length};
    return Status::Frame;
  }
  return Status::NeedMore;
}

FrameWriter::FrameWriter(size_t capacity) : mBuffer(capacity) {}

bool FrameWriter::push(std::span<const uint8_t> frame) {
  const size_t need = kFrameHeader + frame.size();
  if (frame.empty() || frame.size() > 0xffff || need > mBuffer.size() - (mEnd - mBegin)) return false;
  if (mBuffer.size() - mEnd < need) {
    if (mEnd > mBegin) std::memmove(mBuffer.data(), mBuffer.data() + mBegin, mEnd - mBegin);
    mEnd -= mBegin;
    mBegin = 0;
  }
  mBuffer[mEnd] = static_cast<uint8_t>(frame.size() >> 8);
  mBuffer[mEnd + 1] = static_cast<uint8_t>(frame.size());
  std::memcpy(mBuffer.data() + mEnd + kFrameHeader, frame.data(), frame.size());
  mEnd += need;
  return true;
}

void FrameWriter::consume(size_t n) {
  mBegin += std::min(n, mEnd - mBegin);
  if (mBegin == mEnd) mBegin = mEnd = 0;
}

bool FrameWriter::reserve(size_t capacity) {
  const size_t queued = mEnd - mBegin;
  if (queued > capacity) return false;
  std::vector<uint8_t> buffer(capacity);
  if (queued > 0) std::memcpy(buffer.data(), mBuffer.data() + mBegin, queued);
  mBuffer = std::move(buffer);
  mBegin = 0;
  mEnd = queued;
  return true;
}

}  // namespace conclave::net
