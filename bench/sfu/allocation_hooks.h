// allocation_hooks.cpp replaces malloc/calloc/realloc/free and operator new/delete in a benchmark
// executable that links it, so that it can count the allocations made while it measures. The
// executable defines noteAllocation(): called before every allocation, `cxx` telling operator new
// (Conclave's code, the standard library) from the C allocation functions (OpenSSL, libc, and
// libsrtp2 where the SRTP benchmark runs it beside Conclave's SRTP). It may allocate nothing itself.
#pragma once

namespace conclave::bench {
void noteAllocation(bool cxx);
}  // namespace conclave::bench
