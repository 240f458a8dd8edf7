// net::SpscRing, the ring media workers pass packets through (docs/fanout.md): nanoseconds per
// record, written by one thread and read by another.
//
//   build/bench/net/spsc_ring_bench [--records=N] [--ring=BYTES]
//
// Each record is written as the home worker writes a forwarded packet (claim, write the packet's
// bytes into the claimed span, commit) and read as the transport worker reads it (front, copy
// into a send slot, pop). Rows:
//   - one thread: write a batch of 256, read it back; CPU time per record, both sides together.
//   - two threads, spin: the writer retries when the ring is full, the reader polls; wall time
//     per record, and the writer's refusals (what the media path would drop).
//   - two threads, eventfd: the writer commits batches of 32 and writes the reader's eventfd when
//     wakeNeeded() says so; the reader sleeps in poll() when the ring is empty. Wall time per
//     record and wake-ups per 1,000 records: the cost of waking a sleeping worker is included.
// Sizes: 100 bytes (an Opus packet) and 1,200 bytes (a video packet). On a busy machine the
// two-thread rows are the machine's as much as the ring's (both threads need a core).
//
// Measured (RelWithDebInfo -O2, g++ 12, the shared 2-core VM with a load average of 2.5-3.5,
// 4 MiB ring): one thread 8.4-8.9 ns per record of 100 B and 26 ns of 1,200 B (write and read
// together, both copies included); two threads 12-157 ns (100 B) and 16-228 ns (1,200 B) of
// wall time per record from run to run, 6-80 M records/s, depending on whether the other
// thread had a core; with the eventfd, 11-19 wake-ups per 1,000 small records and fewer than
// 1 per 1,000 large ones. Next to the 2.6-4.5 us a forwarded packet costs a worker now, the
// ring is noise.
#include <poll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "net/spsc_ring.h"

using conclave::net::SpscRing;

namespace {

double threadCpuNs() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

double wallNs() {
  return static_cast<double>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

// The packet the writer copies in, and the send slot the reader copies out to.
std::array<uint8_t, 2048> gPacket{};
std::array<uint8_t, 2048> gSlot{};

bool write(SpscRing& ring, size_t length) {
  auto room = ring.claim(length);
  if (room.empty()) return false;
  std::memcpy(room.data(), gPacket.data(), length);
  ring.commit(length);
  return true;
}

// Reads what is there; returns how many records.
size_t drain(SpscRing& ring) {
  size_t n = 0;
  for (auto record = ring.front(); !record.empty(); record = ring.front()) {
    std::memcpy(gSlot.data(), record.data(), record.size());
    ring.pop();
    ++n;
  }
  return n;
}

void oneThread(size_t ringBytes, size_t length, size_t records) {
  SpscRing ring(ringBytes);
  const double start = threadCpuNs();
  for (size_t done = 0; done < records;) {
    for (size_t i = 0; i < 256; ++i)
      if (!write(ring, length)) break;
    done += drain(ring);
  }
  const double ns = (threadCpuNs() - start) / static_cast<double>(records);
  std::printf("%-22s %5zu B | %8.1f ns/record (CPU, write + read)\n", "one thread", length, ns);
}

void twoThreadsSpin(size_t ringBytes, size_t length, size_t records) {
  SpscRing ring(ringBytes);
  size_t refused = 0;
  const double start = wallNs();
  std::thread writer([&] {
    for (size_t i = 0; i < records; ++i)
      while (!write(ring, length)) ++refused;
  });
  for (size_t done = 0; done < records;) done += drain(ring);
  writer.join();
  const double ns = (wallNs() - start) / static_cast<double>(records);
  std::printf("%-22s %5zu B | %8.1f ns/record (wall) %6.2f M records/s, refusals %.2f per record\n",
              "two threads, spin", length, ns, 1e3 / ns, static_cast<double>(refused) / static_cast<double>(records));
}

void twoThreadsEventfd(size_t ringBytes, size_t length, size_t records) {
  SpscRing ring(ringBytes);
  const int efd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (efd < 0) std::abort();
  size_t wakes = 0;
  const double start = wallNs();
  std::thread writer([&] {
    for (size_t done = 0; done < records;) {
      for (size_t i = 0; i < 32 && done < records; ++i) {
        if (!write(ring, length)) break;
        ++done;
      }
      if (ring.wakeNeeded()) {
        const uint64_t one = 1;
        if (::write(efd, &one, sizeof one) != sizeof one) std::abort();
        ++wakes;
      }
    }
  });
  for (size_t done = 0; done < records;) {
    ring.clearNotified();
    const size_t n = drain(ring);
    done += n;
    if (n == 0 && done < records) {
      pollfd pfd{efd, POLLIN, 0};
      ::poll(&pfd, 1, 1000);
      uint64_t count = 0;
      [[maybe_unused]] auto r = ::read(efd, &count, sizeof count);
    }
  }
  writer.join();
  ::close(efd);
  const double ns = (wallNs() - start) / static_cast<double>(records);
  std::printf("%-22s %5zu B | %8.1f ns/record (wall) %6.2f M records/s, %.1f wake-ups per 1000 records\n",
              "two threads, eventfd", length, ns, 1e3 / ns,
              1000.0 * static_cast<double>(wakes) / static_cast<double>(records));
}

size_t option(int argc, char** argv, const std::string& name, size_t fallback) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind(name + "=", 0) == 0) return std::strtoull(arg.c_str() + name.size() + 1, nullptr, 10);
  }
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  const size_t records = option(argc, argv, "--records", 2'000'000);
  const size_t ringBytes = option(argc, argv, "--ring", 4u << 20);
  for (size_t i = 0; i < gPacket.size(); ++i) gPacket[i] = static_cast<uint8_t>(i);
  std::printf("SpscRing of %zu bytes, %zu records per row\n", ringBytes, records);
  for (size_t length : {size_t{100}, size_t{1200}}) {
    oneThread(ringBytes, length, records);
    twoThreadsSpin(ringBytes, length, records);
    twoThreadsEventfd(ringBytes, length, records);
  }
  return 0;
}
