// net::SpscRing: records come out whole and in order, a full ring refuses instead of waiting, a
// record never wraps, and between two threads (this suite also runs under TSan) nothing is lost,
// torn or reordered, and no wake-up is lost.
#include "net/spsc_ring.h"

#include <gtest/gtest.h>

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <thread>
#include <vector>

using conclave::net::SpscRing;

namespace {

// The bytes of record `seq`: a pattern, with `seq` itself in the first four.
void fill(std::span<uint8_t> out, uint32_t seq) {
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<uint8_t>(seq * 31 + i);
  if (out.size() >= sizeof seq) std::memcpy(out.data(), &seq, sizeof seq);
}

// Writes record `seq` of `length` bytes; false when the ring refuses it.
bool put(SpscRing& ring, uint32_t seq, size_t length) {
  auto room = ring.claim(length);
  if (room.empty()) return false;
  fill(room.first(length), seq);
  ring.commit(length);
  return true;
}

// True if `record` is what put(seq, record.size()) wrote.
bool holds(std::span<const uint8_t> record, uint32_t seq) {
  std::vector<uint8_t> expected(record.size());
  fill(expected, seq);
  return std::equal(record.begin(), record.end(), expected.begin());
}

// A varied record length (1..maxLength) for record `seq`: audio-sized and video-sized mixed.
size_t lengthOf(uint32_t seq, size_t maxLength) {
  const uint32_t x = seq * 2654435761u;
  return 1 + (x >> 7) % maxLength;
}

}  // namespace

TEST(SpscRing, RecordsComeOutWholeAndInOrder) {
  SpscRing ring(4096);
  EXPECT_TRUE(ring.front().empty());
  ASSERT_TRUE(put(ring, 1, 100));
  ASSERT_TRUE(put(ring, 2, 5));
  ASSERT_TRUE(put(ring, 3, 1200));
  for (uint32_t seq : {1u, 2u, 3u}) {
    auto record = ring.front();
    ASSERT_EQ(record.size(), seq == 1 ? 100u : seq == 2 ? 5u : 1200u);
    EXPECT_TRUE(holds(record, seq));
    ring.pop();
  }
  EXPECT_TRUE(ring.front().empty());
  EXPECT_EQ(ring.usedBytes(), 0u);
}

TEST(SpscRing, AClaimThatIsNotCommittedPublishesNothing) {
  SpscRing ring(1024);
  auto room = ring.claim(200);
  ASSERT_EQ(room.size(), 200u);
  std::memset(room.data(), 0xab, room.size());
  EXPECT_TRUE(ring.front().empty());  // claimed, not committed
  ring.commit(0);                     // nothing written after all (a packet that was not forwarded)
  EXPECT_TRUE(ring.front().empty());
  EXPECT_EQ(ring.usedBytes(), 0u);
  // A claim replaced by another, and only the second committed with fewer bytes than claimed.
  ASSERT_FALSE(ring.claim(300).empty());
  ASSERT_TRUE(put(ring, 7, 40));
  auto record = ring.front();
  EXPECT_EQ(record.size(), 40u);
  EXPECT_TRUE(holds(record, 7));
  // A commit without a claim, or longer than the claim, does nothing.
  ring.commit(10);
  ASSERT_FALSE(ring.claim(10).empty());
  ring.commit(11);
  ring.pop();
  EXPECT_TRUE(ring.front().empty());
}

TEST(SpscRing, AFullRingRefusesUntilTheReaderFreesRoom) {
  SpscRing ring(1024);
  size_t accepted = 0;
  while (put(ring, static_cast<uint32_t>(accepted), 120)) ++accepted;
  // 128 bytes each (8 of header, 120 of record): the whole ring, and not one more.
  EXPECT_EQ(accepted, 8u);
  EXPECT_EQ(ring.usedBytes(), 1024u);
  EXPECT_TRUE(ring.claim(1).empty());
  ring.front();
  ring.pop();
  EXPECT_TRUE(put(ring, 100, 120));
  EXPECT_FALSE(put(ring, 101, 1));
}

TEST(SpscRing, ClaimsAreBoundedByHalfTheRing) {
  SpscRing ring(1024);
  EXPECT_EQ(ring.maxRecord(), 504u);
  EXPECT_EQ(ring.claim(504).size(), 504u);
  EXPECT_TRUE(ring.claim(505).empty());
  EXPECT_TRUE(ring.claim(0).empty());
  EXPECT_THROW(SpscRing(1000), std::invalid_argument);
  EXPECT_THROW(SpscRing(32), std::invalid_argument);
}

// A record that does not fit before the end starts again at offset 0: the reader gets it as one
// contiguous span, and the gap is freed with it.
TEST(SpscRing, ARecordNeverWrapsAroundTheEnd) {
  SpscRing ring(2048);
  ASSERT_TRUE(put(ring, 1, 900));  // 912 bytes with header and padding
  ASSERT_TRUE(put(ring, 2, 700));  // 712 bytes: 424 left before the end
  ring.front();
  ring.pop();  // 912 free at the start
  // 800 bytes do not fit in the 424 before the end: the record goes to offset 0.
  ASSERT_TRUE(put(ring, 3, 800));
  EXPECT_EQ(ring.usedBytes(), 712u + 424u + 808u);
  auto second = ring.front();
  EXPECT_TRUE(holds(second, 2));
  ring.pop();
  auto third = ring.front();
  ASSERT_EQ(third.size(), 800u);
  EXPECT_TRUE(holds(third, 3));
  ring.pop();
  EXPECT_EQ(ring.usedBytes(), 0u);
  // Records of every size through the small ring one at a time: the wrap at every offset.
  for (uint32_t seq = 10; seq < 2000; ++seq) {
    const size_t length = lengthOf(seq, ring.maxRecord());
    ASSERT_TRUE(put(ring, seq, length)) << seq;
    auto record = ring.front();
    ASSERT_EQ(record.size(), length);
    ASSERT_TRUE(holds(record, seq)) << seq;
    ring.pop();
  }
}

TEST(SpscRing, AWakeIsNeededOncePerClear) {
  SpscRing ring(1024);
  ASSERT_TRUE(put(ring, 1, 10));
  EXPECT_TRUE(ring.wakeNeeded());  // a new reader may be asleep before it ever looked
  ASSERT_TRUE(put(ring, 2, 10));
  EXPECT_FALSE(ring.wakeNeeded());  // woken already, not yet drained
  ring.clearNotified();
  EXPECT_TRUE(ring.wakeNeeded());
}

// Two threads, records of every size from 1 byte to the largest: the reader gets each one, whole,
// in order. The writer retries when the ring is full (as a test; the media path drops instead).
TEST(SpscRing, TwoThreadsPassEveryRecordWholeAndInOrder) {
  constexpr uint32_t kRecords = 100'000;
  SpscRing ring(16 * 1024);
  const size_t maxLength = 2000;
  uint32_t refused = 0;
  std::thread writer([&] {
    for (uint32_t seq = 0; seq < kRecords; ++seq) {
      while (!put(ring, seq, lengthOf(seq, maxLength))) {
        ++refused;
        std::this_thread::yield();
      }
    }
  });
  uint32_t next = 0;
  uint32_t bad = 0;
  while (next < kRecords) {
    auto record = ring.front();
    if (record.empty()) {
      std::this_thread::yield();
      continue;
    }
    if (record.size() != lengthOf(next, maxLength) || !holds(record, next)) ++bad;
    ring.pop();
    ++next;
  }
  writer.join();
  EXPECT_EQ(bad, 0u);
  EXPECT_TRUE(ring.front().empty());
  // The ring was small enough to fill, so the full path ran too.
  RecordProperty("refused", static_cast<int>(refused));
}

// The reader sleeps on an eventfd whenever the ring is empty; the writer commits in batches and
// writes the eventfd only when wakeNeeded() says so. A lost wake-up would leave the reader asleep
// with records waiting: the poll's limit (far longer than the test needs) would then fail it.
TEST(SpscRing, NoWakeUpIsLostBetweenABatchAndASleepingReader) {
  constexpr uint32_t kRecords = 50'000;
  SpscRing ring(64 * 1024);
  const int efd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  ASSERT_GE(efd, 0);
  uint64_t wakes = 0;
  std::thread writer([&] {
    uint32_t seq = 0;
    while (seq < kRecords) {
      // A batch of 1..16 records, then the wake check, as a worker does after its flush.
      const uint32_t batch = 1 + seq % 16;
      bool full = false;
      for (uint32_t i = 0; i < batch && seq < kRecords && !full; ++i) {
        full = !put(ring, seq, lengthOf(seq, 300));
        if (!full) ++seq;
      }
      if (ring.wakeNeeded()) {
        const uint64_t one = 1;
        EXPECT_EQ(::write(efd, &one, sizeof one), static_cast<ssize_t>(sizeof one));
        ++wakes;
      }
      // Now and then the reader catches up and sleeps: the case a lost wake-up would hang.
      if (full || seq % 64 == 0) std::this_thread::yield();
    }
  });
  uint32_t next = 0;
  uint32_t bad = 0;
  bool stalled = false;
  while (next < kRecords && !stalled) {
    ring.clearNotified();
    auto record = ring.front();
    if (record.empty()) {
      pollfd pfd{efd, POLLIN, 0};
      if (::poll(&pfd, 1, 20'000) != 1) {
        stalled = true;
        break;
      }
      uint64_t count = 0;
      [[maybe_unused]] auto n = ::read(efd, &count, sizeof count);
      continue;
    }
    while (!record.empty()) {
      if (!holds(record, next) || record.size() != lengthOf(next, 300)) ++bad;
      ring.pop();
      ++next;
      record = ring.front();
    }
  }
  writer.join();
  ::close(efd);
  EXPECT_FALSE(stalled) << "the reader slept with records waiting after " << next << " records";
  EXPECT_EQ(next, kRecords);
  EXPECT_EQ(bad, 0u);
  EXPECT_GT(wakes, 0u);
}
