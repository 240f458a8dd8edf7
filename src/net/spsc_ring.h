// A bounded ring of variable-length records between exactly two threads: one writer, one
// reader (single producer, single consumer). Media workers pass packets through it to each other
// (docs/fanout.md): the writer writes a packet straight into the ring, the reader reads it there.
//
// Memory: one buffer of a power-of-two size, allocated in the constructor and never touched
// before a record lands on it (a ring that is never used holds no resident pages). Each record
// is an 8-byte header and its bytes, padded to 8; a record never wraps around the end (the writer
// leaves a wrap marker and starts again at offset 0), so both sides see one contiguous span.
//
// Writer (one thread): claim(n) gives room for a record of up to n bytes, or an empty span when
// the ring has no room (the caller drops and counts; it never waits). commit(length) publishes the
// first `length` bytes written there; a claim not committed (or committed with 0) publishes
// nothing and costs nothing. Reader (one thread): front() is the oldest record (empty when
// none); pop() frees it. The bytes of a record belong to the writer until commit() and to the
// reader from front() to pop().
//
// Cost: no lock, no allocation, no system call. Per record at most one release store on the
// writer's side and one on the reader's; each side reads the other's counter (an acquire load,
// and the cache line it lives on) only when its cached copy says full or empty.
//
// Waking a reader that sleeps (an eventfd, a futex): after a batch of commits the writer calls
// wakeNeeded() and wakes the reader only if it returns true; the reader calls clearNotified()
// before it looks for records and before it goes to sleep. wakeNeeded() is true once per
// clearNotified(), so a writer that commits many batches while the reader is already on its way
// wakes it once. No wake-up is lost: both calls put a sequentially consistent fence between the
// flag and the ring's counters, so either the reader's look after clearNotified() sees the
// records, or the writer's wakeNeeded() sees the cleared flag (the store-load pattern of Dekker's
// algorithm, which release/acquire alone does not order).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace conclave::net {

// The padding is the point: each side's counters and state on cache lines of their own, so that
// neither side's writes evict what the other reads on every record.
class SpscRing {  // NOLINT(clang-analyzer-optin.performance.Padding)
 public:
  // Bytes of a record's header in the ring (its length), and the alignment of every record.
  static constexpr size_t kHeaderBytes = 8;
  // The largest record claim() accepts in a ring of `capacityBytes`: half the ring less the
  // header, so that a claim into an empty ring succeeds wherever the last record ended.
  static constexpr size_t maxRecordFor(size_t capacityBytes) { return capacityBytes / 2 - kHeaderBytes; }

  // `capacityBytes`: a power of two, at least 64. Throws std::invalid_argument otherwise.
  explicit SpscRing(size_t capacityBytes);
  SpscRing(const SpscRing&) = delete;
  SpscRing& operator=(const SpscRing&) = delete;

  size_t capacity() const { return mCapacity; }
  size_t maxRecord() const { return maxRecordFor(mCapacity); }

  // ---- writer thread ----
  // Room for one record of up to `bytes` bytes (at most maxRecord()), or an empty span when the
  // ring has no room for it now. A second claim before commit() replaces the first.
  std::span<uint8_t> claim(size_t bytes);
  // Publishes the claimed record with its first `length` bytes (at most what was claimed);
  // 0 publishes nothing. Without a claim it does nothing.
  void commit(size_t length);
  // After a batch of commits: true if the reader may be asleep and must be woken (and marks it
  // as notified, so the next call says false until the reader clears the mark).
  bool wakeNeeded();

  // ---- reader thread ----
  // Before looking for records (and before sleeping): from here on, a writer's commit makes
  // wakeNeeded() true.
  void clearNotified();
  // The oldest record, or an empty span when there is none.
  std::span<uint8_t> front();
  // Frees the record front() returned.
  void pop();

  // ---- any thread ----
  // Bytes in use (records, headers, padding, wrap gaps), as of a moment in the recent past.
  size_t usedBytes() const;

 private:
  static constexpr uint32_t kWrapMarker = UINT32_MAX;
  static constexpr size_t kCacheLine = 64;

  static size_t padded(size_t bytes) { return (bytes + kHeaderBytes - 1) & ~(kHeaderBytes - 1); }
  void writeHeader(size_t offset, uint32_t value);
  uint32_t readHeader(size_t offset) const;

  const size_t mCapacity;
  const size_t mMask;
  std::unique_ptr<uint8_t[]> mBuffer;

  // Written by the writer, read by the reader: where the next record goes (a running count of
  // bytes, never wrapped; its offset is the count & mMask).
  alignas(kCacheLine) std::atomic<uint64_t> mTail{0};
  // Written by the reader, read by the writer: where the oldest record starts.
  alignas(kCacheLine) std::atomic<uint64_t> mHead{0};
  // Set by wakeNeeded(), cleared by clearNotified(); starts clear (a reader may sleep before it
  // first looks).
  alignas(kCacheLine) std::atomic<bool> mNotified{false};

  // The writer's own state: its copy of mHead and the claim in progress.
  struct alignas(kCacheLine) Writer {
    uint64_t tail = 0;
    uint64_t headSeen = 0;
    size_t claimed = 0;  // bytes of the claim in progress (0: none)
    size_t skip = 0;     // bytes of the claim's wrap gap before offset 0 (0: no wrap)
  } mWriter;
  // The reader's own state: its copy of mTail and the record front() returned.
  struct alignas(kCacheLine) Reader {
    uint64_t head = 0;
    uint64_t tailSeen = 0;
    size_t frontBytes = 0;  // padded size of the record front() returned (0: none)
  } mReader;
};

}  // namespace conclave::net
