#include "rtp/packet_cache.h"

#include <gtest/gtest.h>

#include <chrono>
#include <vector>

#include "rtp/captured_packets.h"

using namespace conclave::rtp;
using conclave::common::TimePoint;
using namespace std::chrono_literals;

namespace {

std::vector<uint8_t> packetWithSeq(uint16_t seq, size_t size = 100) {
  std::vector<uint8_t> p(size, static_cast<uint8_t>(seq * 7));
  p[0] = 0x80;
  p[1] = 96;
  p[2] = static_cast<uint8_t>(seq >> 8);
  p[3] = static_cast<uint8_t>(seq);
  return p;
}

bool holds(const PacketCache& cache, uint16_t seq) {
  const auto e = cache.get(seq);
  if (!e) return false;
  const auto expected = packetWithSeq(seq, e->bytes.size());
  return e->sequenceNumber == seq && std::equal(e->bytes.begin(), e->bytes.end(), expected.begin());
}

}  // namespace

TEST(PacketCache, RoundsCapacityToAPowerOfTwo) {
  EXPECT_EQ(PacketCache(500).capacity(), 512u);
  EXPECT_EQ(PacketCache(0).capacity(), 1u);
  EXPECT_EQ(PacketCache(100000).capacity(), PacketCache::kMaxCapacity);
}

TEST(PacketCache, StoresACopyOfARealPacket) {
  PacketCache cache(64);
  std::vector<uint8_t> buf(std::begin(conclave::testdata::kChromeVp8Key), std::end(conclave::testdata::kChromeVp8Key));
  const auto packet = RtpPacket::parse(buf);
  const TimePoint t = TimePoint{} + 5s;
  ASSERT_TRUE(cache.insert(*packet, t));
  buf.assign(buf.size(), 0);  // the cache must not point into the caller's buffer
  const auto e = cache.get(8674);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->storedAt, t);
  ASSERT_EQ(e->bytes.size(), sizeof(conclave::testdata::kChromeVp8Key));
  EXPECT_TRUE(std::equal(e->bytes.begin(), e->bytes.end(), conclave::testdata::kChromeVp8Key));
  EXPECT_FALSE(cache.get(8673));
  EXPECT_FALSE(cache.get(8675));
  EXPECT_EQ(cache.size(), 1u);
}

TEST(PacketCache, HitMissAndOverwrite) {
  PacketCache cache(8);
  for (uint16_t s = 100; s < 108; ++s) ASSERT_TRUE(cache.insert(packetWithSeq(s), s, {}));
  for (uint16_t s = 100; s < 108; ++s) EXPECT_TRUE(holds(cache, s)) << s;
  EXPECT_EQ(cache.size(), 8u);
  // 108 takes the slot of 100.
  ASSERT_TRUE(cache.insert(packetWithSeq(108, 300), 108, {}));
  EXPECT_FALSE(cache.get(100));
  EXPECT_TRUE(holds(cache, 108));
  EXPECT_EQ(cache.get(108)->bytes.size(), 300u);
  EXPECT_TRUE(holds(cache, 101));
  EXPECT_EQ(cache.size(), 8u);
  // Too old for the window: refused.
  EXPECT_FALSE(cache.insert(packetWithSeq(100), 100, {}));
  // A missing packet arriving late, inside the window, is stored.
  PacketCache gaps(8);
  gaps.insert(packetWithSeq(10), 10, {});
  gaps.insert(packetWithSeq(13), 13, {});
  EXPECT_FALSE(gaps.get(11));
  EXPECT_TRUE(gaps.insert(packetWithSeq(11), 11, {}));
  EXPECT_TRUE(holds(gaps, 11));
  EXPECT_EQ(gaps.size(), 3u);
}

TEST(PacketCache, WorksAcrossTheSequenceWrap) {
  PacketCache cache(16);
  for (uint32_t i = 0; i < 40; ++i) {
    const auto s = static_cast<uint16_t>(65520 + i);
    ASSERT_TRUE(cache.insert(packetWithSeq(s), s, {}));
  }
  // Newest is 65520 + 39 = 23 (wrapped); the window is 8..23.
  for (uint16_t s = 8; s <= 23; ++s) EXPECT_TRUE(holds(cache, s)) << s;
  EXPECT_FALSE(cache.get(7));
  EXPECT_FALSE(cache.get(65535));
  EXPECT_FALSE(cache.get(24));
}

TEST(PacketCache, AJumpForgetsEverything) {
  PacketCache cache(16);
  for (uint16_t s = 0; s < 16; ++s) cache.insert(packetWithSeq(s), s, {});
  // 16 + 65536 - ... : a packet far ahead, beyond the window.
  ASSERT_TRUE(cache.insert(packetWithSeq(1000), 1000, {}));
  EXPECT_EQ(cache.size(), 1u);
  for (uint16_t s = 0; s < 16; ++s) EXPECT_FALSE(cache.get(s));
  // Slot of 1000 - 16 = 984 shares 1000's slot: the stale entry of seq 8 (same slot as 984
  // modulo 16) must not answer for 984 or 8.
  EXPECT_FALSE(cache.get(984));
  EXPECT_FALSE(cache.get(992));
}

TEST(PacketCache, RefusesOversizedPackets) {
  PacketCache cache(4);
  std::vector<uint8_t> big(PacketCache::kMaxPacketSize + 1, 0x80);
  EXPECT_FALSE(cache.insert(big, 1, {}));
  std::vector<uint8_t> max(PacketCache::kMaxPacketSize, 0x80);
  EXPECT_TRUE(cache.insert(max, 1, {}));
  EXPECT_EQ(cache.get(1)->bytes.size(), PacketCache::kMaxPacketSize);
  cache.clear();
  EXPECT_FALSE(cache.get(1));
  EXPECT_EQ(cache.size(), 0u);
}

// Issue 7, finding 3: a cache costs nothing until packets arrive, and then at most its byte bound.
TEST(PacketCache, AllocatesNothingBeforeTheFirstPacket) {
  PacketCache cache(1024);
  EXPECT_EQ(cache.allocatedBytes(), 0u);
  EXPECT_FALSE(cache.get(1));
  ASSERT_TRUE(cache.insert(packetWithSeq(1), 1, {}));
  EXPECT_GT(cache.allocatedBytes(), 0u);
  EXPECT_LE(cache.allocatedBytes(), PacketCache::kDefaultMaxBytes + 1024 * 32);
  EXPECT_TRUE(holds(cache, 1));
}

TEST(PacketCache, IsBoundedByBytesAndNeverReturnsOverwrittenCopies) {
  // 64 slots but two chunks: room for 2 x 8 packets of 1000 bytes, all of them young (one time).
  PacketCache cache(64, 10'000);
  EXPECT_EQ(cache.maxBytes(), 2 * PacketCache::kChunkBytes);
  const size_t perChunk = PacketCache::kChunkBytes / 1000;
  for (uint16_t s = 0; s < 40; ++s) ASSERT_TRUE(cache.insert(packetWithSeq(s, 1000), s, {}));
  // Only the newest ones whose chunk was not reused answer, and they answer with their own bytes.
  size_t held = 0;
  for (uint16_t s = 0; s < 40; ++s) {
    if (cache.get(s)) {
      EXPECT_TRUE(holds(cache, s)) << s;
      ++held;
    }
  }
  EXPECT_GE(held, perChunk + 1);
  EXPECT_LE(held, 2 * perChunk);
  EXPECT_TRUE(holds(cache, 39));
  EXPECT_FALSE(cache.get(0));
  EXPECT_FALSE(cache.get(static_cast<uint16_t>(39 - 2 * perChunk)));
  // Mixed sizes: a packet that does not fit in the rest of a chunk starts the next one.
  for (uint16_t s = 40; s < 200; ++s) {
    const size_t size = 60 + (s * 37) % 1400;
    ASSERT_TRUE(cache.insert(packetWithSeq(s, size), s, {}));
    EXPECT_TRUE(holds(cache, s));
    EXPECT_TRUE(holds(cache, static_cast<uint16_t>(s - 1)) || !cache.get(static_cast<uint16_t>(s - 1)));
  }
  size_t bytes = 0;
  for (uint16_t s = 0; s < 200; ++s)
    if (auto e = cache.get(s)) {
      EXPECT_TRUE(holds(cache, s)) << s;
      bytes += e->bytes.size();
    }
  EXPECT_LE(bytes, cache.maxBytes());
  EXPECT_LE(cache.allocatedBytes(), cache.maxBytes() + 64 * 64);
}

// Issue 13: the cache holds the last `window` of the stream, whatever its rate, and its memory
// follows the rate, not the byte bound.
TEST(PacketCache, KeepsEveryPacketOfTheWindowAndMemoryFollowsTheRate) {
  PacketCache cache(1024, PacketCache::kDefaultMaxBytes, 1500ms);
  // 30 packets/s of 625 bytes (a 150 kbit/s simulcast layer) for 20 s.
  TimePoint t{};
  uint16_t seq = 0;
  for (int i = 0; i < 600; ++i, ++seq, t += 33ms) ASSERT_TRUE(cache.insert(packetWithSeq(seq, 625), seq, t));
  const TimePoint newest = t - 33ms;
  // Every packet of the last 1.5 s answers.
  for (uint16_t s = 0; s < seq; ++s) {
    const auto age = newest - (TimePoint{} + s * 33ms);
    if (age <= 1500ms) {
      EXPECT_TRUE(holds(cache, s)) << s;
    }
  }
  // 1.5 s is ~28 KB: a handful of chunks and a small slot table, not 512 KiB and 1024 slots.
  EXPECT_LE(cache.allocatedBytes(), 6 * PacketCache::kChunkBytes + 128 * 64);
  EXPECT_LE(cache.slots(), 64u);
  // Far older packets are gone.
  EXPECT_FALSE(cache.get(0));
  EXPECT_FALSE(cache.get(400));
}

TEST(PacketCache, TheSlotTableGrowsToTheWindowsPacketCountAndKeepsItsPackets) {
  PacketCache cache(1024, PacketCache::kDefaultMaxBytes, 1000ms);
  EXPECT_EQ(cache.allocatedBytes(), 0u);
  // 300 packets/s of 1000 bytes (2.4 Mbit/s) for 3 s: 300 packets in a window of 1 s.
  TimePoint t{};
  uint16_t seq = 65000;  // across the wrap
  for (int i = 0; i < 900; ++i, ++seq, t += std::chrono::microseconds(3333))
    ASSERT_TRUE(cache.insert(packetWithSeq(seq, 1000), seq, t));
  EXPECT_EQ(cache.slots(), 512u);
  // The last second of packets (300) answers, with its own bytes.
  for (int back = 1; back <= 300; ++back) EXPECT_TRUE(holds(cache, static_cast<uint16_t>(seq - back))) << back;
  // About 300 KB of chunks: the window's bytes and a chunk or two, far below the byte bound.
  EXPECT_LE(cache.allocatedBytes(), 300'000 + 3 * PacketCache::kChunkBytes + 512 * 64);
  EXPECT_GE(cache.allocatedBytes(), 300'000u);
}

TEST(PacketCache, AFasterStreamThanTheByteBoundLosesItsOldestPacketsFirst) {
  // 4 chunks (32 KiB) and a window of 10 s: the byte bound decides.
  PacketCache cache(1024, 4 * PacketCache::kChunkBytes, 10s);
  TimePoint t{};
  for (uint16_t s = 0; s < 500; ++s, t += 1ms) ASSERT_TRUE(cache.insert(packetWithSeq(s, 1200), s, t));
  EXPECT_GE(cache.allocatedBytes(), 4 * PacketCache::kChunkBytes);
  EXPECT_LT(cache.allocatedBytes(), 5 * PacketCache::kChunkBytes);
  EXPECT_TRUE(holds(cache, 499));
  // At least three chunks' worth of the newest packets answer, nothing beyond four.
  const size_t perChunk = PacketCache::kChunkBytes / 1200;
  for (uint16_t back = 1; back <= 3 * perChunk; ++back) EXPECT_TRUE(holds(cache, static_cast<uint16_t>(499 - back)));
  EXPECT_FALSE(cache.get(static_cast<uint16_t>(499 - 4 * perChunk)));
}

TEST(PacketCache, RetiredChunksAreReusedBeforeNewOnesAfterABurst) {
  PacketCache cache(1024, PacketCache::kDefaultMaxBytes, 100ms);
  TimePoint t{};
  uint16_t seq = 0;
  // A burst of 20 chunks' worth within the window, then a slow stream for a long time.
  for (int i = 0; i < 160; ++i, ++seq) ASSERT_TRUE(cache.insert(packetWithSeq(seq, 1000), seq, t));
  const size_t afterBurst = cache.allocatedBytes();
  t += 200ms;  // the burst is older than the window now
  for (int i = 0; i < 5000; ++i, ++seq, t += 10ms) ASSERT_TRUE(cache.insert(packetWithSeq(seq, 1000), seq, t));
  // The slow stream lives in the chunks the burst left behind: nothing new is touched.
  EXPECT_EQ(cache.allocatedBytes(), afterBurst);
  for (int back = 1; back <= 10; ++back) EXPECT_TRUE(holds(cache, static_cast<uint16_t>(seq - back))) << back;
}

TEST(PacketCache, ClearReleasesEveryChunk) {
  PacketCache cache(64, 4 * PacketCache::kChunkBytes, 10s);
  for (uint16_t s = 0; s < 30; ++s) ASSERT_TRUE(cache.insert(packetWithSeq(s, 1000), s, {}));
  cache.clear();
  for (uint16_t s = 0; s < 30; ++s) EXPECT_FALSE(cache.get(s));
  // All four chunks are free again: 32 more packets fit without losing the first.
  for (uint16_t s = 100; s < 132; ++s) ASSERT_TRUE(cache.insert(packetWithSeq(s, 1000), s, {}));
  EXPECT_TRUE(holds(cache, 100));
  EXPECT_TRUE(holds(cache, 131));
}
