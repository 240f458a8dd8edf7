// net::SpscRing allocates its buffer once, in the constructor: claims, commits, reads, pops, wrap
// markers, refusals of a full ring and the wake-up flag allocate nothing. Allocations are counted
// with the sanitizers' malloc hook in sanitizer builds and with bench/sfu/allocation_hooks.cpp
// (which replaces malloc and operator new) otherwise.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>

#include "common/allocation_counter.h"
#include "net/spsc_ring.h"

using conclave::testing::allocationsIn;

TEST(SpscRingAllocations, NoneAfterTheConstructor) {
  conclave::net::SpscRing ring(64 * 1024);
  size_t passed = 0, refused = 0, wakes = 0;
  const size_t allocations = allocationsIn([&] {
    for (uint32_t round = 0; round < 2000; ++round) {
      // A batch of mixed sizes (audio, video, the largest), some claims not committed, until the
      // ring refuses; then the reader takes most of it. Many rounds wrap the ring many times.
      for (uint32_t i = 0; i < 64; ++i) {
        const size_t length = i % 7 == 0 ? ring.maxRecord() : i % 2 == 0 ? 100 : 1200;
        auto room = ring.claim(length);
        if (room.empty()) {
          ++refused;
          break;
        }
        std::memset(room.data(), static_cast<int>(i), room.size());
        ring.commit(i % 5 == 0 ? 0 : length);
      }
      if (ring.wakeNeeded()) ++wakes;
      ring.clearNotified();
      for (int i = 0; i < 48; ++i) {
        auto record = ring.front();
        if (record.empty()) break;
        passed += record.size();
        ring.pop();
      }
    }
  });
  EXPECT_EQ(allocations, 0u);
  EXPECT_GT(passed, 0u);
  EXPECT_GT(refused, 0u);  // the full path ran too
  EXPECT_GT(wakes, 0u);
}
