// net::SpscRing allocates its buffer once, in the constructor: claims, commits, reads, pops, wrap
// markers, refusals of a full ring and the wake-up flag allocate nothing. Allocations are counted
// with the sanitizers' malloc hook in sanitizer builds and with bench/sfu/allocation_hooks.cpp
// (which replaces malloc and operator new) otherwise.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>

#include "net/spsc_ring.h"

namespace {

bool gCounting = false;
size_t gAllocations = 0;

void noteAllocation() {
  if (gCounting) ++gAllocations;
}

}  // namespace

#if CONCLAVE_SANITIZER_MALLOC_HOOKS
extern "C" int __sanitizer_install_malloc_and_free_hooks(void (*onMalloc)(const volatile void*, size_t),
                                                         void (*onFree)(const volatile void*));
namespace {
void onMalloc(const volatile void* /*pointer*/, size_t /*size*/) { noteAllocation(); }
void onFree(const volatile void* /*pointer*/) {}
}  // namespace
#else
namespace conclave::bench {
void noteAllocation(bool /*cxx*/) { ::noteAllocation(); }
}  // namespace conclave::bench
#endif

namespace {

// Counts the allocations `body` makes.
template <typename Body>
size_t allocationsIn(Body&& body) {
#if CONCLAVE_SANITIZER_MALLOC_HOOKS
  static const bool installed = __sanitizer_install_malloc_and_free_hooks(onMalloc, onFree) != 0;
  EXPECT_TRUE(installed);
#endif
  gAllocations = 0;
  gCounting = true;
  body();
  gCounting = false;
  return gAllocations;
}

}  // namespace

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
