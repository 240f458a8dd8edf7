// RFC 4585 feedback messages: generic NACK (RTPFB), PLI (PSFB), and RFC 5104 FIR (PSFB), plus
// REMB (draft-alvestrand-rmcat-remb-03, PSFB application layer feedback).
//
// Every feedback message starts with the sender's SSRC and the media source SSRC; the FCI
// (feedback control information) follows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "common/bytes.h"
#include "rtcp/header.h"

namespace conclave::rtcp {

struct NackItem {
  uint16_t pid = 0;  // first lost sequence number
  uint16_t blp = 0;  // bit i set: pid + i + 1 lost too
};

class GenericNack {
 public:
  static std::optional<GenericNack> parse(const RtcpPacket& packet);
  static std::optional<GenericNack> parse(std::span<const uint8_t> data);

  uint32_t senderSsrc() const { return common::loadU32(&mBody[0]); }
  uint32_t mediaSsrc() const { return common::loadU32(&mBody[4]); }
  size_t itemCount() const { return (mBody.size() - 8) / 4; }
  NackItem item(size_t index) const;

  // f(uint16_t seq) for every lost sequence number, in item order.
  template <typename F>
  void forEachLost(F&& f) const {
    for (size_t i = 0; i < itemCount(); ++i) {
      const NackItem it = item(i);
      f(it.pid);
      for (unsigned bit = 0; bit < 16; ++bit) {
        if ((it.blp >> bit) & 1u) f(static_cast<uint16_t>(it.pid + bit + 1));
      }
    }
  }
  // Fills `out` with up to out.size() lost sequence numbers; returns how many it wrote.
  size_t lostSequenceNumbers(std::span<uint16_t> out) const;

  // `lost` in sending order (ascending modulo 2^16). Sequence numbers are grouped into PID+BLP
  // items; the packet is sized for as many items as needed.
  static bool write(common::ByteWriter& w, uint32_t senderSsrc, uint32_t mediaSsrc, std::span<const uint16_t> lost);

 private:
  explicit GenericNack(std::span<const uint8_t> body) : mBody(body) {}
  std::span<const uint8_t> mBody;
};

class Pli {
 public:
  static std::optional<Pli> parse(const RtcpPacket& packet);
  static std::optional<Pli> parse(std::span<const uint8_t> data);

  uint32_t senderSsrc() const { return mSender; }
  uint32_t mediaSsrc() const { return mMedia; }

  static bool write(common::ByteWriter& w, uint32_t senderSsrc, uint32_t mediaSsrc);

 private:
  Pli(uint32_t sender, uint32_t media) : mSender(sender), mMedia(media) {}
  uint32_t mSender;
  uint32_t mMedia;
};

struct FirEntry {
  uint32_t ssrc = 0;
  uint8_t sequenceNumber = 0;  // incremented by the sender for each new request
};

class Fir {
 public:
  static std::optional<Fir> parse(const RtcpPacket& packet);
  static std::optional<Fir> parse(std::span<const uint8_t> data);

  uint32_t senderSsrc() const { return common::loadU32(&mBody[0]); }
  size_t entryCount() const { return (mBody.size() - 8) / 8; }
  FirEntry entry(size_t index) const;

  // The media source SSRC field is 0 (RFC 5104 §4.3.1.2); the targets are in the entries.
  static bool write(common::ByteWriter& w, uint32_t senderSsrc, std::span<const FirEntry> entries);

 private:
  explicit Fir(std::span<const uint8_t> body) : mBody(body) {}
  std::span<const uint8_t> mBody;
};

class Remb {
 public:
  static constexpr size_t kMaxSsrcs = 255;

  // nullopt unless this is a PSFB/AFB packet carrying the "REMB" identifier.
  static std::optional<Remb> parse(const RtcpPacket& packet);
  static std::optional<Remb> parse(std::span<const uint8_t> data);

  uint32_t senderSsrc() const { return common::loadU32(&mBody[0]); }
  uint64_t bitrate() const { return mBitrate; }  // bits per second (saturates at 2^64-1)
  size_t ssrcCount() const { return mBody[12]; }
  uint32_t ssrc(size_t index) const;  // index < ssrcCount()

  // The bitrate is encoded as an 18-bit mantissa and 6-bit exponent, rounded down.
  static bool write(common::ByteWriter& w, uint32_t senderSsrc, uint64_t bitrate, std::span<const uint32_t> ssrcs);

 private:
  Remb(std::span<const uint8_t> body, uint64_t bitrate) : mBody(body), mBitrate(bitrate) {}
  std::span<const uint8_t> mBody;
  uint64_t mBitrate;
};

}  // namespace conclave::rtcp
