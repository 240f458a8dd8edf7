// RFC 4571 framing as ICE-TCP uses it: frames split across reads, several in one read, a byte at a
// time, zero-length frames, hostile length prefixes, and a write queue that drops instead of
// growing.
#include "net/stream_framing.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <vector>

using namespace conclave::net;

namespace {

std::vector<uint8_t> framed(const std::vector<std::vector<uint8_t>>& frames) {
  std::vector<uint8_t> out;
  for (const auto& f : frames) {
    out.push_back(static_cast<uint8_t>(f.size() >> 8));
    out.push_back(static_cast<uint8_t>(f.size()));
    out.insert(out.end(), f.begin(), f.end());
  }
  return out;
}

std::vector<uint8_t> pattern(size_t size, uint8_t seed) {
  std::vector<uint8_t> v(size);
  for (size_t i = 0; i < size; ++i) v[i] = static_cast<uint8_t>(seed + i * 7);
  return v;
}

// Feeds `bytes` in reads of at most `chunk` bytes; returns the frames, or stops at an error.
std::vector<std::vector<uint8_t>> readAll(FrameReader& reader, const std::vector<uint8_t>& bytes, size_t chunk,
                                          bool* tooLarge = nullptr) {
  std::vector<std::vector<uint8_t>> frames;
  size_t offset = 0;
  while (offset < bytes.size()) {
    auto space = reader.space();
    EXPECT_FALSE(space.empty());
    const size_t n = std::min({chunk, space.size(), bytes.size() - offset});
    std::memcpy(space.data(), bytes.data() + offset, n);
    reader.commit(n);
    offset += n;
    std::span<uint8_t> frame;
    while (true) {
      auto status = reader.next(frame);
      if (status == FrameReader::Status::NeedMore) break;
      if (status == FrameReader::Status::TooLarge) {
        if (tooLarge != nullptr) *tooLarge = true;
        return frames;
      }
      frames.emplace_back(frame.begin(), frame.end());
    }
  }
  return frames;
}

}  // namespace

TEST(FrameReader, SeveralFramesInOneReadComeOutInOrder) {
  const std::vector<std::vector<uint8_t>> sent{pattern(20, 1), pattern(1200, 2), pattern(1, 3), pattern(2048, 4)};
  FrameReader reader(2048);
  EXPECT_EQ(readAll(reader, framed(sent), 1 << 20), sent);
  EXPECT_EQ(reader.buffered(), 0u);
}

TEST(FrameReader, AFrameSplitAcrossReadsIsReassembled) {
  const std::vector<std::vector<uint8_t>> sent{pattern(1500, 9), pattern(700, 10), pattern(2048, 11)};
  for (size_t chunk : {1u, 2u, 3u, 1000u, 1501u, 4095u}) {
    FrameReader reader(2048);
    EXPECT_EQ(readAll(reader, framed(sent), chunk), sent) << "reads of " << chunk << " bytes";
  }
}

TEST(FrameReader, ByteAtATimeOverManyFramesKeepsTheBufferBounded) {
  std::vector<std::vector<uint8_t>> sent;
  for (uint8_t i = 0; i < 200; ++i) sent.push_back(pattern(1 + (i * 37) % 2048, i));
  FrameReader reader(2048);
  const size_t capacity = reader.capacity();
  EXPECT_EQ(readAll(reader, framed(sent), 1), sent);
  EXPECT_EQ(reader.capacity(), capacity);
  EXPECT_LE(capacity, 2 * (2 + 2048u));
}

TEST(FrameReader, ZeroLengthFramesAreSkipped) {
  const std::vector<uint8_t> one = pattern(5, 1);
  auto bytes = framed({{}, one, {}, {}, one});
  FrameReader reader(2048);
  EXPECT_EQ(readAll(reader, bytes, 3), (std::vector<std::vector<uint8_t>>{one, one}));
}

TEST(FrameReader, ALengthOverTheLimitIsAnErrorNotABufferToGrow) {
  for (uint16_t length : {2049, 4096, 65535}) {
    FrameReader reader(2048);
    std::vector<uint8_t> bytes{static_cast<uint8_t>(length >> 8), static_cast<uint8_t>(length)};
    bool tooLarge = false;
    auto frames = readAll(reader, bytes, 1, &tooLarge);
    EXPECT_TRUE(tooLarge) << length;
    EXPECT_TRUE(frames.empty());
    EXPECT_EQ(reader.capacity(), 2 * (2 + 2048u));
  }
  // A good frame first still comes out; the bad prefix after it is reported.
  FrameReader reader(2048);
  auto bytes = framed({pattern(100, 1)});
  bytes.push_back(0xff);
  bytes.push_back(0xff);
  bool tooLarge = false;
  auto frames = readAll(reader, bytes, 1 << 20, &tooLarge);
  EXPECT_TRUE(tooLarge);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0], pattern(100, 1));
}

TEST(FrameReader, AFrameCanBeModifiedInPlace) {
  FrameReader reader(2048);
  auto bytes = framed({pattern(10, 0)});
  auto space = reader.space();
  std::memcpy(space.data(), bytes.data(), bytes.size());
  reader.commit(bytes.size());
  std::span<uint8_t> frame;
  ASSERT_EQ(reader.next(frame), FrameReader::Status::Frame);
  frame[0] = 0xaa;  // as SRTP unprotect writes the plain packet over the protected one
  EXPECT_EQ(frame[0], 0xaa);
  EXPECT_EQ(reader.next(frame), FrameReader::Status::NeedMore);
}

TEST(FrameWriter, QueuesLengthPrefixedFrames) {
  FrameWriter writer(4096);
  ASSERT_TRUE(writer.push(pattern(3, 1)));
  ASSERT_TRUE(writer.push(pattern(300, 2)));
  auto pending = writer.pending();
  EXPECT_EQ(std::vector<uint8_t>(pending.begin(), pending.end()), framed({pattern(3, 1), pattern(300, 2)}));
}

TEST(FrameWriter, AFullQueueDropsWholeFramesAndNeverGrows) {
  FrameWriter writer(1000);
  size_t queued = 0, dropped = 0;
  for (int i = 0; i < 100; ++i) (writer.push(pattern(200, static_cast<uint8_t>(i))) ? queued : dropped)++;
  EXPECT_EQ(queued, 4u);  // 4 x 202 bytes fit in 1000
  EXPECT_EQ(dropped, 96u);
  EXPECT_EQ(writer.capacity(), 1000u);
  EXPECT_EQ(writer.pending().size(), 4 * 202u);
  // Empty frames and frames the 16-bit prefix cannot describe are refused too.
  FrameWriter big(70000);
  EXPECT_FALSE(big.push({}));
  EXPECT_FALSE(big.push(std::vector<uint8_t>(65536)));
  EXPECT_TRUE(big.push(std::vector<uint8_t>(65535)));
}

TEST(FrameWriter, PartialWritesKeepTheFramingAndFreeRoom) {
  FrameWriter writer(1000);
  std::vector<uint8_t> wire;
  std::vector<std::vector<uint8_t>> sent;
  // A peer that reads 77 bytes at a time while frames keep coming: what reaches the wire is the
  // frames that were queued, whole and in order.
  for (int i = 0; i < 300; ++i) {
    auto f = pattern(1 + (i * 53) % 400, static_cast<uint8_t>(i));
    if (writer.push(f)) sent.push_back(f);
    auto pending = writer.pending();
    const size_t n = std::min<size_t>(77, pending.size());
    wire.insert(wire.end(), pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(n));
    writer.consume(n);
  }
  auto rest = writer.pending();
  wire.insert(wire.end(), rest.begin(), rest.end());
  writer.consume(rest.size());
  EXPECT_TRUE(writer.empty());
  EXPECT_GT(sent.size(), 10u);
  EXPECT_LT(sent.size(), 300u);  // some were dropped
  FrameReader reader(2048);
  EXPECT_EQ(readAll(reader, wire, 1 << 20), sent);
}

TEST(FrameWriter, GrowingTheQueueKeepsWhatIsQueued) {
  FrameWriter writer(100);
  ASSERT_TRUE(writer.push(pattern(50, 1)));
  writer.consume(10);
  ASSERT_TRUE(writer.reserve(4096));
  EXPECT_EQ(writer.capacity(), 4096u);
  auto bytes = framed({pattern(50, 1)});
  auto pending = writer.pending();
  EXPECT_EQ(std::vector<uint8_t>(pending.begin(), pending.end()),
            std::vector<uint8_t>(bytes.begin() + 10, bytes.end()));
  EXPECT_FALSE(writer.reserve(10));  // would lose queued bytes
}
