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
  // 64 slots but room for 10 packets of 1000 bytes.
  PacketCache cache(64, 10'000);
  EXPECT_EQ(cache.maxBytes(), 10'000u);
  for (uint16_t s = 0; s < 40; ++s) ASSERT_TRUE(cache.insert(packetWithSeq(s, 1000), s, {}));
  // Only the newest ones whose bytes are intact answer, and they answer with their own bytes.
  size_t held = 0;
  for (uint16_t s = 0; s < 40; ++s) {
    if (cache.get(s)) {
      EXPECT_TRUE(holds(cache, s)) << s;
      ++held;
    }
  }
  EXPECT_GE(held, 9u);
  EXPECT_LE(held, 10u);
  EXPECT_TRUE(holds(cache, 39));
  EXPECT_FALSE(cache.get(0));
  EXPECT_FALSE(cache.get(29));
  // Mixed sizes: a packet that does not fit at the end of the ring starts at its beginning.
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
  EXPECT_LE(bytes, 10'000u);
}
