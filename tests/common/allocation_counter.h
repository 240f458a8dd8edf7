// Counts the allocations a piece of code makes, for the tests that say a packet path allocates
// nothing: through the sanitizers' malloc hook in sanitizer builds (CONCLAVE_SANITIZER_MALLOC_HOOKS
// = 1), and otherwise through bench/sfu/allocation_hooks.cpp, which replaces malloc and operator
// new and calls conclave::bench::noteAllocation(), defined here. Both see every allocation of the
// process, OpenSSL's too. Include it in exactly one source file of a test executable.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>

namespace conclave::testing {

inline bool gCountingAllocations = false;
inline size_t gAllocations = 0;

inline void noteAllocation() {
  if (gCountingAllocations) ++gAllocations;
}

}  // namespace conclave::testing

#if CONCLAVE_SANITIZER_MALLOC_HOOKS
extern "C" int __sanitizer_install_malloc_and_free_hooks(void (*onMalloc)(const volatile void*, size_t),
                                                         void (*onFree)(const volatile void*));
namespace conclave::testing {
inline void onMalloc(const volatile void* /*pointer*/, size_t /*size*/) { noteAllocation(); }
inline void onFree(const volatile void* /*pointer*/) {}
}  // namespace conclave::testing
#else
namespace conclave::bench {
// Not inline: bench/sfu/allocation_hooks.cpp calls it from its own translation unit. One source
// file per test executable includes this header.
void noteAllocation(bool /*cxx*/) { conclave::testing::noteAllocation(); }  // NOLINT(misc-definitions-in-headers)
}  // namespace conclave::bench
#endif

namespace conclave::testing {

// The allocations `body` makes.
template <typename Body>
size_t allocationsIn(Body&& body) {
#if CONCLAVE_SANITIZER_MALLOC_HOOKS
  static const bool installed = __sanitizer_install_malloc_and_free_hooks(onMalloc, onFree) != 0;
  EXPECT_TRUE(installed);
#endif
  gAllocations = 0;
  gCountingAllocations = true;
  body();
  gCountingAllocations = false;
  return gAllocations;
}

}  // namespace conclave::testing
