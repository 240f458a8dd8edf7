// SRTP cost per packet, Conclave's SrtpSession beside libsrtp2 (Debian's, on NSS; the oracle in
// tests/srtp): the SFU unprotects each packet once on arrival and protects it once per subscriber,
// so protect of a 1200-byte video packet bounds how many packets a core can forward; 100 bytes
// is an Opus packet.
//
//   build/bench/srtp/srtp_bench [--benchmark_filter=REGEX] [--benchmark_min_time=SECONDS]
//
// Each row: Time = ns per packet (CPU), packets/s, and per packet the allocations (malloc and
// operator new, by anyone: ours, OpenSSL, libsrtp, NSS) and the locks taken (pthread mutexes and
// rwlocks, the way NSS and OpenSSL lock). The table at the end puts the two implementations
// side by side. The Threads:2 rows run one session per thread, as with one media worker per
// core: packets/s there is the sum over both threads (real time).
//
// Measured (RelWithDebInfo -O2, g++ 12, OpenSSL 3.0.19, a 2-core AMD EPYC VM with AES-NI, VAES and
// SHA-NI, otherwise idle), ns per packet, Conclave / libsrtp2:
//   AEAD_AES_128_GCM   1200 B protect 385 / 822, unprotect 456 / 853;  100 B 191 / 654, 189 / 629
//   AES_CM_HMAC_SHA1   1200 B protect 768 / 3662, unprotect 794 / 3753; 100 B 201 / 1691, 207 / 1726
// Conclave: 0 allocations and 0 locks per packet; libsrtp2: 5 allocations and 14 locks (GCM), 14
// and 32 (AES-CM). Two threads: Conclave 2.62 -> 5.11 M packets/s, libsrtp2 1.23 -> 1.96 M.
// For AES-CM, HMAC-SHA1 is most of the cost (OpenSSL's SHA-1 of 1200 bytes alone takes ~585 ns
// here, AES-CTR ~110 ns); for small packets most of it is OpenSSL's EVP bookkeeping per call.
#include <benchmark/benchmark.h>

#include <dlfcn.h>
#include <pthread.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "sfu/allocation_hooks.h"
#include "srtp/libsrtp_oracle.h"
#include "srtp/srtp_session.h"

namespace {

using namespace conclave::srtp;
using conclave::test::LibsrtpSession;

// Counted only while a benchmark is timing, per thread.
thread_local bool tCounting = false;
thread_local uint64_t tAllocations = 0;
thread_local uint64_t tLocks = 0;

void noteLock() {
  if (tCounting) ++tLocks;
}

}  // namespace

namespace conclave::bench {
void noteAllocation(bool /*cxx*/) {
  if (tCounting) ++tAllocations;
}
}  // namespace conclave::bench

// The lock functions NSS and OpenSSL call, wrapped to count them.
extern "C" {
int pthread_mutex_lock(pthread_mutex_t* mutex) {
  using Fn = int (*)(pthread_mutex_t*);
  static const Fn real = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "pthread_mutex_lock"));
  noteLock();
  return real(mutex);
}
int pthread_rwlock_rdlock(pthread_rwlock_t* lock) {
  using Fn = int (*)(pthread_rwlock_t*);
  static const Fn real = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "pthread_rwlock_rdlock"));
  noteLock();
  return real(lock);
}
int pthread_rwlock_wrlock(pthread_rwlock_t* lock) {
  using Fn = int (*)(pthread_rwlock_t*);
  static const Fn real = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "pthread_rwlock_wrlock"));
  noteLock();
  return real(lock);
}
}

namespace {

SrtpKeyMaterial keysFor(SrtpProfile profile, uint8_t seed) {
  const auto params = srtpProfileParams(profile);
  std::vector<uint8_t> key(params.masterKeyLength, seed), salt(params.masterSaltLength, static_cast<uint8_t>(seed + 1));
  return *SrtpKeyMaterial::make(profile, key, salt);
}

std::vector<uint8_t> rtpPacket(size_t size, uint16_t seq) {
  std::vector<uint8_t> p(size + kSrtpMaxRtcpTrailer, 0x5a);
  const uint8_t header[] = {0x90,
                            96,
                            static_cast<uint8_t>(seq >> 8),
                            static_cast<uint8_t>(seq),
                            0,
                            0,
                            0,
                            0,
                            0x12,
                            0x34,
                            0x56,
                            0x78,  // SSRC
                            0xBE,
                            0xDE,
                            0x00,
                            0x02,  // a one-byte-header extension, as browsers send
                            0x10,
                            0xff,
                            0x22,
                            0x00,
                            0x30,
                            0x01,
                            0x00,
                            0x00};
  std::memcpy(p.data(), header, sizeof header);
  return p;
}

void startCounting() {
  tAllocations = 0;
  tLocks = 0;
  tCounting = true;
}

void stopCounting(benchmark::State& state) {
  tCounting = false;
  const auto packets = static_cast<double>(state.iterations());
  state.counters["allocs/pkt"] =
      benchmark::Counter(static_cast<double>(tAllocations) / packets, benchmark::Counter::kAvgThreads);
  state.counters["locks/pkt"] =
      benchmark::Counter(static_cast<double>(tLocks) / packets, benchmark::Counter::kAvgThreads);
  state.SetItemsProcessed(state.iterations());
}

template <typename Session>
void protectRtp(benchmark::State& state, SrtpProfile profile, size_t size) {
  Session session(profile, keysFor(profile, 1), keysFor(profile, 2));
  const auto plain = rtpPacket(size, 0);
  std::vector<uint8_t> buffer(plain.size());
  uint16_t seq = 0;
  startCounting();
  for (auto _ : state) {
    std::memcpy(buffer.data(), plain.data(), size);  // the forwarding copy the SFU makes anyway
    ++seq;
    buffer[2] = static_cast<uint8_t>(seq >> 8);
    buffer[3] = static_cast<uint8_t>(seq);
    size_t len = size;
    if (session.protectRtp(buffer, len) != SrtpResult::Ok) state.SkipWithError("protect failed");
    benchmark::DoNotOptimize(buffer.data());
  }
  stopCounting(state);
}

template <typename Session>
void unprotectRtp(benchmark::State& state, SrtpProfile profile, size_t size) {
  Session sender(profile, keysFor(profile, 1), keysFor(profile, 2));
  Session receiver(profile, keysFor(profile, 2), keysFor(profile, 1));
  // Pre-protect a run of packets and unprotect them in order (then the stream starts afresh).
  constexpr size_t kPackets = 4096;
  std::vector<std::vector<uint8_t>> packets;
  std::vector<size_t> lengths;
  for (size_t i = 0; i < kPackets; ++i) {
    auto p = rtpPacket(size, static_cast<uint16_t>(i + 1));
    size_t len = size;
    if (sender.protectRtp(p, len) != SrtpResult::Ok) state.SkipWithError("protect failed");
    packets.push_back(std::move(p));
    lengths.push_back(len);
  }
  std::vector<uint8_t> buffer(packets[0].size());
  size_t i = 0;
  startCounting();
  for (auto _ : state) {
    std::memcpy(buffer.data(), packets[i].data(), lengths[i]);
    size_t len = lengths[i];
    if (receiver.unprotectRtp(buffer, len) != SrtpResult::Ok) state.SkipWithError("unprotect failed");
    benchmark::DoNotOptimize(buffer.data());
    if (++i == kPackets) {
      i = 0;
      state.PauseTiming();
      tCounting = false;  // a new stream may allocate; that is not the packet path
      receiver.removeInboundSsrc(0x12345678);
      tCounting = true;
      state.ResumeTiming();
    }
  }
  stopCounting(state);
}

// Rows for the summary: "<op> <profile> <size>" -> ns per packet, allocations, locks, by implementation.
struct Figures {
  double ns = 0, allocs = 0, locks = 0;
};
std::map<std::string, std::map<std::string, Figures>> gSummary;

class SummaryReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& run : runs) {
      const std::string name = run.benchmark_name();
      if (run.error_occurred || name.find("threads") != std::string::npos) continue;
      // "protectConclave/<profile>/<bytes>/conclave": row "protect/<profile>/<bytes>", column "conclave"
      const auto first = name.find('/'), last = name.rfind('/');
      const std::string op = name.substr(0, first).starts_with("protect") ? "protect" : "unprotect";
      Figures& f = gSummary[op + name.substr(first, last - first)][name.substr(last + 1)];
      f.ns = run.GetAdjustedCPUTime();
      f.allocs = run.counters.at("allocs/pkt").value;
      f.locks = run.counters.at("locks/pkt").value;
    }
  }
};

void printSummary() {
  std::printf("\n%-36s %14s %14s %8s %16s %16s\n", "per packet", "conclave ns", "libsrtp2 ns", "x faster",
              "conclave alloc", "libsrtp2 alloc");
  for (const auto& [row, impls] : gSummary) {
    const auto ours = impls.find("conclave"), theirs = impls.find("libsrtp2");
    if (ours == impls.end() || theirs == impls.end()) continue;
    std::printf("%-36s %14.1f %14.1f %8.2f %16.2f %16.2f\n", row.c_str(), ours->second.ns, theirs->second.ns,
                theirs->second.ns / ours->second.ns, ours->second.allocs, theirs->second.allocs);
  }
  std::printf("(packets/s = 1e9 / ns; locks per packet are in the rows above)\n");
}

void protectConclave(benchmark::State& s, SrtpProfile p, size_t size) { protectRtp<SrtpSession>(s, p, size); }
void protectLibsrtp2(benchmark::State& s, SrtpProfile p, size_t size) { protectRtp<LibsrtpSession>(s, p, size); }
void unprotectConclave(benchmark::State& s, SrtpProfile p, size_t size) { unprotectRtp<SrtpSession>(s, p, size); }
void unprotectLibsrtp2(benchmark::State& s, SrtpProfile p, size_t size) { unprotectRtp<LibsrtpSession>(s, p, size); }

constexpr auto kGcm = SrtpProfile::AeadAes128Gcm;
constexpr auto kCm = SrtpProfile::AesCm128HmacSha1_80;

}  // namespace

// Rows "<op><implementation>/<profile>/<bytes>/<implementation>": the two implementations next to
// each other. (Not formatted: clang-format would put spaces into the names.)
// clang-format off
BENCHMARK_CAPTURE(protectConclave, SRTP_AEAD_AES_128_GCM/1200/conclave, kGcm, 1200);
BENCHMARK_CAPTURE(protectLibsrtp2, SRTP_AEAD_AES_128_GCM/1200/libsrtp2, kGcm, 1200);
BENCHMARK_CAPTURE(unprotectConclave, SRTP_AEAD_AES_128_GCM/1200/conclave, kGcm, 1200);
BENCHMARK_CAPTURE(unprotectLibsrtp2, SRTP_AEAD_AES_128_GCM/1200/libsrtp2, kGcm, 1200);
BENCHMARK_CAPTURE(protectConclave, SRTP_AEAD_AES_128_GCM/100/conclave, kGcm, 100);
BENCHMARK_CAPTURE(protectLibsrtp2, SRTP_AEAD_AES_128_GCM/100/libsrtp2, kGcm, 100);
BENCHMARK_CAPTURE(unprotectConclave, SRTP_AEAD_AES_128_GCM/100/conclave, kGcm, 100);
BENCHMARK_CAPTURE(unprotectLibsrtp2, SRTP_AEAD_AES_128_GCM/100/libsrtp2, kGcm, 100);
BENCHMARK_CAPTURE(protectConclave, SRTP_AES128_CM_SHA1_80/1200/conclave, kCm, 1200);
BENCHMARK_CAPTURE(protectLibsrtp2, SRTP_AES128_CM_SHA1_80/1200/libsrtp2, kCm, 1200);
BENCHMARK_CAPTURE(unprotectConclave, SRTP_AES128_CM_SHA1_80/1200/conclave, kCm, 1200);
BENCHMARK_CAPTURE(unprotectLibsrtp2, SRTP_AES128_CM_SHA1_80/1200/libsrtp2, kCm, 1200);
BENCHMARK_CAPTURE(protectConclave, SRTP_AES128_CM_SHA1_80/100/conclave, kCm, 100);
BENCHMARK_CAPTURE(protectLibsrtp2, SRTP_AES128_CM_SHA1_80/100/libsrtp2, kCm, 100);
BENCHMARK_CAPTURE(unprotectConclave, SRTP_AES128_CM_SHA1_80/100/conclave, kCm, 100);
BENCHMARK_CAPTURE(unprotectLibsrtp2, SRTP_AES128_CM_SHA1_80/100/libsrtp2, kCm, 100);
// One session per thread, as with one media worker per core: does either serialize workers?
// Compare packets/s with 1 and 2 threads.
BENCHMARK_CAPTURE(protectConclave, threads/SRTP_AEAD_AES_128_GCM/1200/conclave, kGcm, 1200)
    ->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK_CAPTURE(protectLibsrtp2, threads/SRTP_AEAD_AES_128_GCM/1200/libsrtp2, kGcm, 1200)
    ->Threads(1)->Threads(2)->UseRealTime();
// clang-format on

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  SummaryReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  printSummary();
  return 0;
}
