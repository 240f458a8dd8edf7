// Two media workers' link for one room's fan-out (docs/fanout.md): the room's home worker writes
// the packets for subscribers whose transports the other worker (the transport worker) hosts,
// that worker sends them and writes back what those subscribers send (RTCP). Two rings, one per
// direction, each with exactly one writer thread and one reader thread; and counters that
// /metrics reads.
//
// Every record names its transport by a FanoutHandle, never a pointer: the home worker's slot
// for the transport and that slot's generation. A record that outlives its transport (it was
// in a ring when the transport was closed) finds an empty slot or another generation and is
// dropped and counted.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "common/clock.h"
#include "net/spsc_ring.h"

namespace conclave::sfu {

struct FanoutHandle {
  uint32_t slot = 0;
  uint32_t generation = 0;
  bool operator==(const FanoutHandle&) const = default;
};

enum class FanoutRecordKind : uint8_t {
  Rtp = 1,         // home → transport: a plain RTP packet to protect and send
  Rtcp = 2,        // home → transport: plain RTCP to protect and send; transport → home: RTCP received
  ForgetSsrc = 3,  // home → transport: 4 bytes, an SSRC SRTP forgets (after that SSRC's packets)
};

// One record of a link's ring: a header of kHeaderBytes, then the packet.
struct FanoutRecord {
  static constexpr size_t kHeaderBytes = 24;

  FanoutHandle handle;
  FanoutRecordKind kind = FanoutRecordKind::Rtp;
  // µs of the steady clock (shared by all threads). Home → transport: the home worker's batch
  // time when it wrote the record (the transport worker drops records older than its maximum
  // queue delay); transport → home: when the datagram arrived.
  int64_t timeMicros = 0;
  std::span<uint8_t> bytes;

  // Writes the header at the start of `record` (at least kHeaderBytes).
  static void writeHeader(std::span<uint8_t> record, FanoutHandle handle, FanoutRecordKind kind, int64_t timeMicros);
  // A record as the ring holds it; nullopt when it is shorter than the header or of an unknown
  // kind (the rings carry only what workers wrote, so that is a bug, but it is not trusted).
  static std::optional<FanoutRecord> parse(std::span<uint8_t> record);
};

// The padding is deliberate: each side's counters on cache lines of their own.
class FanoutLink {  // NOLINT(clang-analyzer-optin.performance.Padding)
 public:
  struct Config {
    // Home → transport: 4 MiB hold ~3,400 video packets of 1.2 KB or ~20,000 audio packets, some
    // 20-25 ms of a room that sends 154,000 packets/s through the link.
    size_t mediaRingBytes = size_t{4} << 20;
    // Transport → home: subscribers' RTCP (feedback every 50-100 ms each, NACKs, PLIs, reports).
    size_t rtcpRingBytes = size_t{256} << 10;
  };

  // Each written by one thread only (so a relaxed load and store, no atomic add), read by any.
  struct HomeCounters {
    std::atomic<uint64_t> mediaRecords{0};  // records written toward the transport worker
    std::atomic<uint64_t> mediaRefused{0};  // not written: the ring was full (the packet was dropped)
    std::atomic<uint64_t> rtcpStale{0};     // RTCP records for a transport the home side has closed
    // RTCP records not handed to the Router because the datagram arrived at the transport worker
    // longer ago than the home worker's maximum queue delay when the home worker read it (as the
    // home worker sheds its own socket's backlog).
    std::atomic<uint64_t> rtcpExpired{0};
  };
  struct TransportCounters {
    std::atomic<uint64_t> mediaSent{0};   // records sent on to their subscriber
    std::atomic<uint64_t> mediaStale{0};  // for a transport gone, or not sendable (no pair, SRTP refused)
    // RTP and RTCP records not sent because they were older than the transport worker's maximum
    // queue delay when it read them (it had fallen behind), as it sheds its socket's backlog.
    std::atomic<uint64_t> mediaExpired{0};
    std::atomic<uint64_t> rtcpRecords{0};  // RTCP records written toward the home worker
    std::atomic<uint64_t> rtcpRefused{0};  // not written: the ring was full
  };

  FanoutLink(int homeWorker, int transportWorker, const Config& config);
  FanoutLink(const FanoutLink&) = delete;
  FanoutLink& operator=(const FanoutLink&) = delete;

  int homeWorker() const { return mHomeWorker; }
  int transportWorker() const { return mTransportWorker; }
  // Written by the home worker, read by the transport worker.
  net::SpscRing& media() { return mMedia; }
  // Written by the transport worker, read by the home worker.
  net::SpscRing& rtcp() { return mRtcp; }
  HomeCounters& home() { return mHome; }
  TransportCounters& transport() { return mTransport; }
  const HomeCounters& home() const { return mHome; }
  const TransportCounters& transport() const { return mTransport; }

  // One thread's increment of a counter only it writes.
  static void bump(std::atomic<uint64_t>& counter) {
    counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }

 private:
  int mHomeWorker;
  int mTransportWorker;
  net::SpscRing mMedia;
  net::SpscRing mRtcp;
  // Apart: each side's counters on cache lines of their own.
  alignas(64) HomeCounters mHome;
  alignas(64) TransportCounters mTransport;
};

}  // namespace conclave::sfu
