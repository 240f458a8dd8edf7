// Bounds-checked big-endian reading and writing of wire bytes.
//
// Parsers read through ByteReader and never cast buffers to structs; every read is checked and a
// failed read leaves the reader in a failed state (ok() == false) instead of throwing, so packet
// path code can parse a whole header and test once at the end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace conclave::common {

inline uint16_t loadU16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
inline uint32_t loadU24(const uint8_t* p) { return (uint32_t{p[0]} << 16) | (uint32_t{p[1]} << 8) | uint32_t{p[2]}; }
inline uint32_t loadU32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}
inline uint64_t loadU64(const uint8_t* p) { return (uint64_t{loadU32(p)} << 32) | uint64_t{loadU32(p + 4)}; }
inline void storeU16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
inline void storeU24(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 16);
  p[1] = static_cast<uint8_t>(v >> 8);
  p[2] = static_cast<uint8_t>(v);
}
inline void storeU32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}
inline void storeU64(uint8_t* p, uint64_t v) {
  storeU32(p, static_cast<uint32_t>(v >> 32));
  storeU32(p + 4, static_cast<uint32_t>(v));
}

class ByteReader {
 public:
  explicit ByteReader(std::span<const uint8_t> data) : mData(data) {}

  bool ok() const { return mOk; }
  size_t offset() const { return mPos; }
  size_t remaining() const { return mOk ? mData.size() - mPos : 0; }
  std::span<const uint8_t> rest() const { return mOk ? mData.subspan(mPos) : std::span<const uint8_t>{}; }

  uint8_t u8() { return need(1) ? mData[mPos++] : 0; }
  uint16_t u16() { return need(2) ? advance(2, loadU16(&mData[mPos])) : 0; }
  uint32_t u24() { return need(3) ? advance(3, loadU24(&mData[mPos])) : 0; }
  uint32_t u32() { return need(4) ? advance(4, loadU32(&mData[mPos])) : 0; }
  uint64_t u64() { return need(8) ? advance(8, loadU64(&mData[mPos])) : 0; }
  std::span<const uint8_t> bytes(size_t n) {
    if (!need(n)) return {};
    auto out = mData.subspan(mPos, n);
    mPos += n;
    return out;
  }
  void skip(size_t n) { (void)bytes(n); }

 private:
  bool need(size_t n) {
    if (!mOk || mData.size() - mPos < n) mOk = false;
    return mOk;
  }
  template <typename T>
  T advance(size_t n, T value) {
    mPos += n;
    return value;
  }

  std::span<const uint8_t> mData;
  size_t mPos = 0;
  bool mOk = true;
};

// Writes into a caller-provided buffer; never allocates. ok() turns false on overflow.
class ByteWriter {
 public:
  explicit ByteWriter(std::span<uint8_t> out) : mOut(out) {}

  bool ok() const { return mOk; }
  size_t size() const { return mPos; }
  std::span<uint8_t> written() const { return mOut.first(mPos); }
  uint8_t* at(size_t offset) { return mOut.data() + offset; }

  void u8(uint8_t v) {
    if (need(1)) mOut[mPos++] = v;
  }
  void u16(uint16_t v) {
    if (need(2)) storeU16(&mOut[mPos], v), mPos += 2;
  }
  void u24(uint32_t v) {
    if (need(3)) storeU24(&mOut[mPos], v), mPos += 3;
  }
  void u32(uint32_t v) {
    if (need(4)) storeU32(&mOut[mPos], v), mPos += 4;
  }
  void u64(uint64_t v) {
    if (need(8)) storeU64(&mOut[mPos], v), mPos += 8;
  }
  void bytes(std::span<const uint8_t> b) {
    if (need(b.size()) && !b.empty()) std::memcpy(&mOut[mPos], b.data(), b.size()), mPos += b.size();
  }
  void zeros(size_t n) {
    if (need(n)) std::memset(&mOut[mPos], 0, n), mPos += n;
  }

 private:
  bool need(size_t n) {
    if (!mOk || mOut.size() - mPos < n) mOk = false;
    return mOk;
  }

  std::span<uint8_t> mOut;
  size_t mPos = 0;
  bool mOk = true;
};

}  // namespace conclave::common
