// RFC 4571 framing for ICE-TCP (RFC 6544 §3): over a TCP connection every STUN, DTLS and SRTP
// packet is preceded by its length as a 16-bit big-endian number. No I/O here: the worker's TCP
// code reads into FrameReader::space() and writes FrameWriter::pending(), so both are tested with
// bytes alone (split frames, several frames in one read, a byte at a time, hostile lengths).
//
// Both buffers are allocated once, at construction (or resize), never per packet, and never grow
// with what the peer sends: a frame longer than `maxFrame` is an error that ends the connection,
// and a frame that does not fit the write queue is dropped (counted) instead of queued, since
// late media is worth nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace conclave::net {

// The 2-byte length prefix.
inline constexpr size_t kFrameHeader = 2;

class FrameReader {
 public:
  enum class Status : uint8_t {
    Frame,     // `frame` holds the next complete frame
    NeedMore,  // no complete frame buffered
    TooLarge,  // the next length prefix exceeds maxFrame: the stream cannot be trusted further
  };

  // Buffers up to two maximal frames, so one read() can bring a frame's tail and the next head.
  explicit FrameReader(size_t maxFrame);

  // Where the next read() writes (empty only while a complete frame waits to be taken).
  std::span<uint8_t> space();
  // `n` bytes were written at the start of space().
  void commit(size_t n);
  // Takes the next complete frame. The span points into the buffer and stays valid until the next
  // call to space() (the caller may modify it in place, as SRTP unprotect does). Zero-length
  // frames carry nothing and are skipped.
  Status next(std::span<uint8_t>& frame);

  size_t buffered() const { return mEnd - mBegin; }
  size_t capacity() const { return mBuffer.size(); }

 private:
  std::vector<uint8_t> mBuffer;
  size_t mMaxFrame;
  size_t mBegin = 0;  // first byte not yet taken
  size_t mEnd = 0;    // one past the last byte read
};

class FrameWriter {
 public:
  // A queue of at most `capacity` bytes (prefixes included).
  explicit FrameWriter(size_t capacity);

  // Appends the length prefix and `frame`; false (nothing queued) if the frame is empty, longer
  // than 65535 bytes, or does not fit.
  bool push(std::span<const uint8_t> frame);
  // Bytes waiting to be written, and how many of them a write() took.
  std::span<const uint8_t> pending() const { return {mBuffer.data() + mBegin, mEnd - mBegin}; }
  void consume(size_t n);
  // Changes the capacity (when a connection is bound to a transport); keeps what is queued if it
  // fits, else returns false and keeps the old capacity.
  bool reserve(size_t capacity);

  bool empty() const { return mBegin == mEnd; }
  size_t capacity() const { return mBuffer.size(); }

 private:
  std::vector<uint8_t> mBuffer;
  size_t mBegin = 0;
  size_t mEnd = 0;
};

}  // namespace conclave::net
