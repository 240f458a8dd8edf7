#include "allocation_hooks.h"

#include <cstddef>
#include <new>

extern "C" {
void* __libc_malloc(size_t size);
void* __libc_calloc(size_t count, size_t size);
void* __libc_realloc(void* p, size_t size);
void __libc_free(void* p);
}

extern "C" void* malloc(size_t size) noexcept {
  conclave::bench::noteAllocation(false);
  return __libc_malloc(size);
}
extern "C" void* calloc(size_t count, size_t size) noexcept {
  conclave::bench::noteAllocation(false);
  return __libc_calloc(count, size);
}
extern "C" void* realloc(void* p, size_t size) noexcept {
  conclave::bench::noteAllocation(false);
  return __libc_realloc(p, size);
}
extern "C" void free(void* p) noexcept { __libc_free(p); }

void* operator new(size_t size) {
  conclave::bench::noteAllocation(true);
  void* p = __libc_malloc(size == 0 ? 1 : size);
  if (!p) throw std::bad_alloc();
  return p;
}
void* operator new[](size_t size) { return operator new(size); }
void* operator new(size_t size, const std::nothrow_t&) noexcept {
  conclave::bench::noteAllocation(true);
  return __libc_malloc(size == 0 ? 1 : size);
}
void* operator new[](size_t size, const std::nothrow_t& tag) noexcept { return operator new(size, tag); }
void operator delete(void* p) noexcept { __libc_free(p); }
void operator delete[](void* p) noexcept { __libc_free(p); }
void operator delete(void* p, size_t) noexcept { __libc_free(p); }
void operator delete[](void* p, size_t) noexcept { __libc_free(p); }
